package main

import (
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// connFlags are the NATS CLI's connection flags.
type connFlags struct {
	cfg pipeline.ConnConfig
}

func addConnFlags(fs *flags, e *env) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.cfg.URL, "nats", e.getenv("NATS_URL"), "NATS server URL(s), comma-separated for a cluster (env NATS_URL)")
	fs.StringVar(&c.cfg.Creds, "creds", e.getenv("NATS_CREDS"), "user credentials file (env NATS_CREDS)")
	fs.StringVar(&c.cfg.NKey, "nkey", e.getenv("NATS_NKEY"), "user NKey seed file (env NATS_NKEY)")
	fs.StringVar(&c.cfg.User, "user", e.getenv("NATS_USER"), "user name (env NATS_USER)")
	fs.StringVar(&c.cfg.Password, "password", e.getenv("NATS_PASSWORD"), "password (env NATS_PASSWORD; never logged)")
	fs.StringVar(&c.cfg.TLSCert, "tlscert", e.getenv("NATS_CERT"), "client TLS certificate file (env NATS_CERT)")
	fs.StringVar(&c.cfg.TLSKey, "tlskey", e.getenv("NATS_KEY"), "client TLS key file (env NATS_KEY)")
	fs.StringVar(&c.cfg.TLSCA, "tlsca", e.getenv("NATS_CA"), "CA file to verify the server (env NATS_CA)")
	return c
}

// connect dials NATS (default nats://127.0.0.1:4222, where 'wirestream run'
// serves) and opens JetStream.
func (c *connFlags) connect(name string, log *zap.Logger) (*nats.Conn, jetstream.JetStream, error) {
	cfg := c.cfg
	cfg.Name = name
	if cfg.URL == "" {
		cfg.URL = "nats://127.0.0.1:4222"
	}
	nc, err := pipeline.Connect(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithDefaultTimeout(10*time.Second))
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// newLogger builds the process logger: human-readable on a terminal by
// default, JSON with --log-format json.
func newLogger(e *env, level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	var enc zapcore.Encoder
	switch format {
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	case "console", "":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, usagef("--log-format %q: want console or json", format)
	}
	return zap.New(zapcore.NewCore(printableEncoder{enc}, zapcore.AddSync(e.stderr), lvl)), nil
}

// printableEncoder writes log lines without the control characters zap
// leaves raw (it escapes C0 in fields, not DEL, C1 or the bidi controls):
// a uri, a file name or an error quoting input may carry them from
// outside, and a log is read on terminals.
type printableEncoder struct{ zapcore.Encoder }

func (p printableEncoder) Clone() zapcore.Encoder { return printableEncoder{p.Encoder.Clone()} }

func (p printableEncoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := p.Encoder.EncodeEntry(ent, fields)
	if err != nil {
		return buf, err
	}
	b := buf.Bytes()
	if esc := proto.EscapeJSONControls(b, 0); len(esc) != len(b) { // escaping lengthens what it changes
		buf.Reset()
		_, _ = buf.Write(esc)
	}
	return buf, nil
}
