// Package fileingest publishes story files to the raw history: `wirestream
// ingest FILE...` (or stdin) and `ingest --watch DIR`, the directory watcher
// for wires that deliver by file drop. Each file is split into raw stories
// (stages/ingest.Split), each checked with the ingest stage's own parser so
// the caller learns at once which are invalid, and stored through the one
// raw-input path (pipeline.RawPublisher).
package fileingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/input"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Result counts what an ingest run did.
type Result struct {
	Accepted  int // stored and valid
	Duplicate int // valid, and already in the raw history: JetStream dropped the publish as a duplicate (same source, origin and bytes within its duplicate window)
	Rejected  int // invalid (stored anyway, so the ingest stage dead-letters it), or not storable
	Failed    int // could not be stored
}

// Input is one file to ingest; Name "-" is standard input. Format, when
// set, is the input's format (the --format flag: one of ingest.Formats):
// it is split by that format's framing and every record is labelled with
// it; empty: detected (ingest.Split).
type Input struct {
	Name   string
	R      io.Reader
	Format string
}

// Config configures Files.
type Config struct {
	Names  proto.Names
	Source string // feed name, the last token of the raw subject
	// MaxBytes is the ingest stage's limit (it sets Limits.StoryBytes): a
	// larger record is cut to MaxBytes+1 bytes, reported and stored, so
	// that the ingest stage dead-letters it as too large.
	MaxBytes int
	// Limits are the rest of the bounds on input (zero fields: defaults);
	// Watch opens files with Limits.InflatedBytes.
	Limits proto.Limits
	// MaxPublish is the server's max payload (default: the connection's);
	// a record that cannot fit with its headers is only reported.
	MaxPublish int
	Timeout    time.Duration
	// Format is the format of inputs that name none (Input.Format); empty:
	// detect. An unknown format is an error before anything is read.
	Format string
}

// Files splits each input into raw stories and publishes them to the raw
// history, waiting for JetStream to acknowledge every one. Invalid stories
// are reported to report as "file:line: rejected: reason" and still stored,
// so that the ingest stage dead-letters them and nothing is lost; a story
// over the limit is stored cut to the limit plus one byte. An input that
// cannot be read to its end (corrupt compressed data, inflating beyond the
// limit, unterminated JSON) is reported as "file: rejected: reason" after
// the records before the fault.
func Files(ctx context.Context, js jetstream.JetStream, cfg Config, inputs []Input, report io.Writer) (Result, error) {
	var res Result
	if cfg.MaxPublish == 0 {
		cfg.MaxPublish = int(js.Conn().MaxPayload())
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if !ingest.KnownFormat(cfg.Format) {
		return res, fmt.Errorf("%w %q (known: %s)", ingest.ErrUnknownFormat, cfg.Format, strings.Join(ingest.Formats, ", "))
	}
	if cfg.Format != "" {
		withFormat := make([]Input, len(inputs))
		for i, in := range inputs {
			if in.Format == "" {
				in.Format = cfg.Format
			}
			withFormat[i] = in
		}
		inputs = withFormat
	}
	parser, err := ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes, Limits: cfg.Limits})
	if err != nil {
		return res, err
	}
	cfg.MaxBytes = parser.Limits().StoryBytes
	pub, err := pipeline.NewRawPublisher(js, pipeline.RawPublisherConfig{Names: cfg.Names, Window: 1024, AckTimeout: cfg.Timeout, Reader: wiring.RawReader(cfg.Names)})
	if err != nil {
		return res, err
	}
	if err := pub.Check(ctx); err != nil {
		return res, err
	}
	received := proto.FromTime(time.Now())
	err = Records(inputs, cfg.MaxBytes, func(origin string, rec ingest.Record) error {
		valid := 0
		if stories, perr := parser.ParseAll(rec.Data, rec.Format); perr != nil {
			res.Rejected++
			Reportf(report, origin, "rejected: %v", perr)
		} else {
			valid = len(stories)
		}
		if len(rec.Data) > cfg.MaxPublish-4096 { // room for headers: only when --max-bytes is near the server's limit
			if valid > 0 {
				res.Rejected++
			}
			Reportf(report, origin, "not stored: %d bytes is over the server's payload limit (%d)", len(rec.Data), cfg.MaxPublish)
			return nil
		}
		m := pipeline.RawMsg{Data: rec.Data, Meta: proto.RawMeta{Source: cfg.Source, Format: rec.Format, Origin: origin, Received: received}}
		return pub.Publish(ctx, m, func(a pipeline.RawAck) {
			switch {
			case a.Err != nil:
				res.Failed++
				Reportf(report, a.Meta.Origin, "not stored: %v", a.Err)
			case a.Duplicate:
				res.Duplicate += valid
			default:
				res.Accepted += valid
			}
		})
	}, func(name string, err error) {
		res.Rejected++
		Reportf(report, name, "rejected: %s", strings.TrimPrefix(err.Error(), name+": "))
	})
	if err != nil {
		_ = pub.Flush(ctx)
		return res, err
	}
	return res, pub.Flush(ctx)
}

// Reportf writes one line of a report, "where: what", printable: file
// names and reasons can carry control characters from outside.
func Reportf(w io.Writer, where, format string, args ...any) {
	fmt.Fprintf(w, "%s: %s\n", proto.Printable(where), proto.Printable(fmt.Sprintf(format, args...)))
}

// OpenInputs opens the named files ("-" or none: standard input), each
// inflated when it is gzip or zstd, up to maxInflated bytes (0: the
// default, proto.DefaultLimits.InflatedBytes), through internal/input.
func OpenInputs(names []string, stdin io.Reader, maxInflated int64) ([]Input, func(), error) {
	if maxInflated == 0 {
		maxInflated = proto.DefaultLimits.InflatedBytes
	}
	if len(names) == 0 {
		names = []string{"-"}
	}
	var files []io.Closer
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	var inputs []Input
	for _, n := range names {
		r, err := input.Open(n, stdin, maxInflated)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, r)
		inputs = append(inputs, Input{Name: n, R: r})
	}
	return inputs, closeAll, nil
}

// Records splits each input into raw stories (stages/ingest.SplitAs with
// the input's Format: Split when it has none; records
// of at most max bytes; longer ones cut to max+1) and calls fn with each
// and its origin, "name:line". An input that cannot be read to its end
// for its content (ingest.ErrSplit, or an *input.Error: corrupt compressed
// data, inflating beyond the limit) is given to bad and the next input is
// read; any other error (from fn, or reading) ends the walk.
func Records(inputs []Input, max int, fn func(origin string, rec ingest.Record) error, bad func(name string, err error)) error {
	for _, in := range inputs {
		err := ingest.SplitAs(in.R, max, in.Format, func(rec ingest.Record) error {
			return fn(in.Name+":"+strconv.Itoa(rec.Line), rec)
		})
		var ie *input.Error
		if errors.Is(err, ingest.ErrSplit) || errors.As(err, &ie) {
			bad(in.Name, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
