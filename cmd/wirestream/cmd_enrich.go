package main

import (
	"context"
	"fmt"

	"github.com/wirestream/wirestream/internal/enrich"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdEnrich(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "enrich", "[--all] [FILE...]   (stdin when no file; no NATS needed)")
	all := fs.Bool("all", false, "one line per input, in input order, with its dedupe decision (not only what would be published)")
	explain := fs.Bool("explain", false, "after each story, print on stderr why it got its places and topics")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story accepted, in bytes")
	if err := parse(fs, args); err != nil {
		return err
	}
	inputs, closeInputs, err := fileingest.OpenInputs(fs.Args(), e.stdin, 0)
	if err != nil {
		return err
	}
	defer closeInputs()
	res, err := enrich.Run(ctx, wiring.Config{Names: proto.Live(), MaxBytes: *maxBytes}, inputs, enrich.Options{All: *all, Explain: *explain}, e.stdout, e.stderr)
	if err != nil {
		return err
	}
	if res.Rejected > 0 {
		return fmt.Errorf("%d of %d inputs rejected (details above)", res.Rejected, res.Inputs)
	}
	return nil
}
