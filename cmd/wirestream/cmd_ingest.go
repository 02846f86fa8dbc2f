package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wirestream/wirestream/internal/app"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdIngest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ingest", "[--nats URL] [--source NAME] [FILE...]   (stdin when no file)")
	conn := addConnFlags(fs, e)
	source := fs.String("source", "cli", "feed name: the raw subject is ws.raw.<source>")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story the ingest stage accepts (to report rejections here)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for JetStream to acknowledge")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" || proto.Token(*source) != *source {
		return usagef("--source %q: use letters, digits, '-' and '_'", *source)
	}
	inputs, closeInputs, err := app.OpenInputs(fs.Args(), e.stdin)
	if err != nil {
		return err
	}
	defer closeInputs()
	nc, js, err := conn.connect("wirestream ingest", nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	res, err := app.IngestFiles(ctx, js, app.IngestConfig{
		Names: proto.Live(), Source: *source, MaxBytes: *maxBytes, MaxPublish: int(nc.MaxPayload()), Timeout: *timeout,
	}, inputs, e.stderr)
	fmt.Fprintf(e.stderr, "ingest: %d accepted, %d rejected, %d not stored\n", res.Accepted, res.Rejected, res.Failed)
	if err != nil {
		return err
	}
	if res.Rejected > 0 || res.Failed > 0 {
		return fmt.Errorf("%d rejected, %d not stored (details above)", res.Rejected, res.Failed)
	}
	return nil
}
