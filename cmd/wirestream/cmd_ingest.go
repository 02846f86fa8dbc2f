package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ingest", "[--nats URL] [--source NAME] [--format FORMAT] [FILE... | --watch DIR]   (stdin when no file)")
	conn := addConnFlags(fs, e)
	source := fs.String("source", "cli", "feed name: the raw subject is ws.raw.<source>")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story the ingest stage accepts (to report rejections here)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for JetStream to acknowledge")
	format := fs.String("format", "", "format of the input: "+strings.Join(ingest.Formats, ", ")+"; empty: detected per file (JSON, XML root <nitf> or NewsML-G2, SOH/ZCZC wire messages, text)")
	watch := fs.String("watch", "", "watch DIR for dropped files until interrupted; each is moved to DIR/processed (or DIR/rejected) once stored")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *watch != "" && fs.NArg() > 0 {
		return usagef("--watch takes no FILE arguments")
	}
	if *source == "" || proto.Token(*source) != *source {
		return usagef("--source %q: use letters, digits, '-' and '_'", *source)
	}
	if !ingest.KnownFormat(*format) {
		return usagef("--format %q: use one of %s", *format, strings.Join(ingest.Formats, ", "))
	}
	cfg := fileingest.Config{Names: proto.Live(), Source: *source, MaxBytes: *maxBytes, Timeout: *timeout, Format: *format}
	if *watch != "" {
		if st, err := os.Stat(*watch); err != nil || !st.IsDir() {
			return usagef("--watch %q is not a directory", *watch)
		}
		log, err := newLogger(e, "info", "console")
		if err != nil {
			return err
		}
		nc, js, err := conn.connect("wirestream ingest --watch", log)
		if err != nil {
			return err
		}
		defer nc.Close()
		cfg.MaxPublish = int(nc.MaxPayload())
		log.Info("watching", zap.String("dir", *watch))
		return fileingest.Watch(ctx, js, fileingest.WatchConfig{Ingest: cfg, Dir: *watch}, e.stderr, log)
	}
	inputs, closeInputs, err := fileingest.OpenInputs(fs.Args(), e.stdin, 0)
	if err != nil {
		return err
	}
	defer closeInputs()
	nc, js, err := conn.connect("wirestream ingest", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg.MaxPublish = int(nc.MaxPayload())
	res, err := fileingest.Files(ctx, js, cfg, inputs, e.stderr)
	fmt.Fprintf(e.stderr, "ingest: %d accepted, %d already stored (duplicate publish), %d rejected, %d not stored\n", res.Accepted, res.Duplicate, res.Rejected, res.Failed)
	if err != nil {
		return err
	}
	if res.Rejected > 0 || res.Failed > 0 {
		return fmt.Errorf("%d rejected, %d not stored (details above)", res.Rejected, res.Failed)
	}
	return nil
}
