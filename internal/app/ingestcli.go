package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// IngestResult counts what an ingest run did.
type IngestResult struct {
	Accepted int // stored and valid
	Rejected int // invalid (stored anyway, so the ingest stage dead-letters it), or not storable
	Failed   int // could not be stored
}

// Input is one file to ingest; Name "-" is standard input.
type Input struct {
	Name string
	R    io.Reader
}

// IngestConfig configures IngestFiles.
type IngestConfig struct {
	Names      proto.Names
	Source     string // feed name, the last token of the raw subject
	MaxBytes   int    // the ingest stage's limit, to report rejections early
	MaxPublish int    // the server's max payload; larger records cannot be stored
	Timeout    time.Duration
}

// IngestFiles splits each input into raw stories and publishes them to the
// raw history, waiting for JetStream to acknowledge every one. Each story is
// also checked with the ingest stage's own parser, so the caller learns at
// once which are invalid: those are reported to report with file:line and
// reason, and still stored, so that the ingest stage dead-letters them and
// nothing is lost. A record over the server's payload limit cannot be stored
// and is only reported.
func IngestFiles(ctx context.Context, js jetstream.JetStream, cfg IngestConfig, inputs []Input, report io.Writer) (IngestResult, error) {
	var res IngestResult
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = ingest.DefaultMaxBytes
	}
	if cfg.MaxPublish == 0 {
		cfg.MaxPublish = 1 << 20
	}
	parser, err := ingest.New(ingest.Config{MaxBytes: cfg.MaxBytes})
	if err != nil {
		return res, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	subject := cfg.Names.Raw(cfg.Source)
	type pending struct {
		f      jetstream.PubAckFuture
		origin string
		valid  int // stories in the record, 0 if it is invalid
	}
	var inflight []pending
	wait := func() error {
		timer := time.NewTimer(cfg.Timeout)
		defer timer.Stop()
		for _, p := range inflight {
			select {
			case <-p.f.Ok():
				res.Accepted += p.valid
			case err := <-p.f.Err():
				res.Failed++
				fmt.Fprintf(report, "%s: not stored: %v\n", p.origin, err)
			case <-timer.C:
				return fmt.Errorf("%s: no acknowledgement from JetStream after %s", p.origin, cfg.Timeout)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		inflight = inflight[:0]
		return nil
	}
	for _, in := range inputs {
		now := time.Now()
		err := ingest.Split(in.R, cfg.MaxPublish, func(rec ingest.Record) error {
			origin := in.Name + ":" + strconv.Itoa(rec.Line)
			valid := 0
			if stories, perr := parser.ParseAll(rec.Data, rec.Format); perr != nil {
				res.Rejected++
				fmt.Fprintf(report, "%s: rejected: %v\n", origin, perr)
			} else {
				valid = len(stories)
			}
			if len(rec.Data) > cfg.MaxPublish-4096 { // room for headers
				if valid > 0 {
					res.Rejected++
					fmt.Fprintf(report, "%s: rejected: %d bytes is over the server's payload limit\n", origin, len(rec.Data))
				}
				return nil
			}
			m := nats.NewMsg(subject)
			m.Data = rec.Data
			m.Header.Set(proto.HeaderSource, cfg.Source)
			m.Header.Set(proto.HeaderFormat, rec.Format)
			m.Header.Set(proto.HeaderOrigin, origin)
			m.Header.Set(proto.HeaderReceived, strconv.FormatInt(now.UnixNano(), 10))
			m.Header.Set(proto.HeaderMsgID, rawID(cfg.Source, origin, rec.Data))
			f, err := js.PublishMsgAsync(m)
			if err != nil {
				return fmt.Errorf("%s: %w", origin, err)
			}
			inflight = append(inflight, pending{f: f, origin: origin, valid: valid})
			if len(inflight) >= 1024 {
				return wait()
			}
			return nil
		})
		if err != nil {
			if errors.Is(err, ingest.ErrSplit) {
				res.Rejected++
				fmt.Fprintf(report, "%s: rejected: %v\n", in.Name, err)
				continue
			}
			_ = wait()
			return res, err
		}
	}
	return res, wait()
}

// rawID makes re-running the same ingest within the duplicate window
// harmless: the same bytes from the same place get the same id.
func rawID(source, origin string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(origin))
	h.Write([]byte{0})
	h.Write(data)
	var sum [sha256.Size]byte
	return "raw:" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// OpenInputs opens the named files ("-" or none: standard input).
func OpenInputs(names []string, stdin io.Reader) ([]Input, func(), error) {
	if len(names) == 0 {
		return []Input{{Name: "-", R: stdin}}, func() {}, nil
	}
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	var inputs []Input
	for _, n := range names {
		if n == "-" {
			inputs = append(inputs, Input{Name: "-", R: stdin})
			continue
		}
		f, err := os.Open(n)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, f)
		inputs = append(inputs, Input{Name: n, R: f})
	}
	return inputs, closeAll, nil
}
