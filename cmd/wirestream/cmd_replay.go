package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "replay", "[--nats URL] (--since RFC3339 [--until RFC3339] | --from-files PATH...) [--speed max|original|Nx] [--into NAME] [--resume]")
	conn := addConnFlags(fs, e)
	since := fs.String("since", "", "replay the raw history from this time (RFC 3339)")
	until := fs.String("until", "", "up to this time (default: now)")
	fromFiles := fs.Bool("from-files", false, "replay the files and directories given as arguments (JSON lines, ninjs, text, NewsML-G2; .gz too) instead of the history")
	speed := fs.String("speed", "max", "max (as fast as the pipeline takes), original (the original gaps), or Nx (gaps divided by N, e.g. 10x)")
	into := fs.String("into", "", "isolated namespace for the output (tail --namespace NAME); empty: the live pipeline, where dedupe drops what subscribers already had")
	resume := fs.Bool("resume", false, "continue an interrupted replay with the same --into from its last checkpoint")
	workers := fs.Int("workers", 4, "workers per stage for the namespace's stages (with --into)")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story accepted")
	logLevel := fs.String("log-level", "info", "log level")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg := replay.Config{Live: proto.Live(), Into: *into, Resume: *resume, Workers: *workers, MaxBytes: *maxBytes}
	switch {
	case *fromFiles:
		if fs.NArg() == 0 {
			return usagef("--from-files needs at least one PATH")
		}
		if *since != "" || *until != "" {
			return usagef("--since/--until select history; not with --from-files")
		}
		cfg.Files = fs.Args()
	case *since == "":
		return usagef("give --since RFC3339 (history) or --from-files PATH...")
	case fs.NArg() > 0:
		return usagef("unexpected argument %q (files need --from-files)", fs.Arg(0))
	}
	var err error
	if *since != "" {
		if cfg.Since, err = time.Parse(time.RFC3339, *since); err != nil {
			return usagef("--since %q is not RFC 3339", *since)
		}
	}
	if *until != "" {
		if cfg.Until, err = time.Parse(time.RFC3339, *until); err != nil {
			return usagef("--until %q is not RFC 3339", *until)
		}
		if !cfg.Until.After(cfg.Since) {
			return usagef("--until must be after --since")
		}
	}
	if cfg.Speed, err = parseSpeed(*speed); err != nil {
		return usagef("--speed: %v", err)
	}
	if _, err := proto.Namespace(*into); err != nil {
		return usagef("--into: %v", err)
	}
	log, err := newLogger(e, *logLevel, "console")
	if err != nil {
		return err
	}
	nc, js, err := conn.connect("wirestream replay", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	p := newProgress(e.stderr)
	cfg.Progress = p.update
	res, err := replay.Run(ctx, js, cfg, log.Named("replay"))
	p.finish()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d of %d stories; run again with --resume to continue", res.Skipped+res.Replayed, res.Total)
		}
		return err
	}
	fmt.Fprintf(e.stderr, "replay: %d stories replayed", res.Replayed)
	if res.Skipped > 0 {
		fmt.Fprintf(e.stderr, " (%d done before, resumed)", res.Skipped)
	}
	if *into != "" {
		fmt.Fprintf(e.stderr, " into %s: %d published, %d audited, %d dead-lettered; read with: wirestream tail --namespace %s --from-start",
			*into, res.Published, res.Audited, res.DeadLettered, *into)
	}
	fmt.Fprintln(e.stderr)
	return nil
}

// parseSpeed: "max" → 0, "original" → 1, "10x" → 10.
func parseSpeed(s string) (float64, error) {
	switch s {
	case "max", "":
		return 0, nil
	case "original":
		return 1, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || v <= 0 || !strings.HasSuffix(s, "x") {
		return 0, fmt.Errorf("%q is not max, original or Nx (e.g. 10x)", s)
	}
	return v, nil
}

// progress shows done/total, rate and ETA: a bar redrawn in place on a
// terminal, a line every 5 seconds otherwise (logs).
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	start     time.Time
	first     time.Time // when the first story was sent
	firstDone int
	last      time.Time
	done      int
	total     int
	finished  bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.done == 0 && done > 0 && p.first.IsZero() {
		// Rate and ETA count from the first story sent, not from the
		// time spent reading the archive.
		p.first, p.firstDone = now, done
	}
	p.done, p.total = done, total
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && done < total {
		return
	}
	p.last = now
	p.draw()
}

func (p *progress) draw() {
	elapsed := time.Since(p.first).Seconds()
	rate := 0.0
	if elapsed > 0 && !p.first.IsZero() {
		rate = float64(p.done-p.firstDone) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
	}
	if p.tty {
		const width = 30
		filled := 0
		if p.total > 0 {
			filled = width * p.done / p.total
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d  %.0f/s  ETA %s ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.done, p.total, rate, eta)
		return
	}
	fmt.Fprintf(p.w, "%s replay progress: %d/%d stories, %.0f/s, ETA %s\n", time.Now().UTC().Format(time.RFC3339), p.done, p.total, rate, eta)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.total > 0 {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
