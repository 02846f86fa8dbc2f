package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func cmdReplay(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "replay", "[--nats URL] (--since RFC3339 [--until RFC3339] | --from-files PATH...) [--speed max|original|Nx] [--into NAME] [--resume] [--memory-mb N] [--temp-dir DIR] | --drop NAME")
	conn := addConnFlags(fs, e)
	since := fs.String("since", "", "replay the raw history from this time (RFC 3339)")
	until := fs.String("until", "", "up to this time (default: now)")
	fromFiles := fs.Bool("from-files", false, "replay the files and directories given as arguments (JSON lines, ninjs, text, NewsML-G2; .gz too) instead of the history")
	speed := fs.String("speed", "max", "max (as fast as the pipeline takes), original (the original gaps), or Nx (gaps divided by N, e.g. 10x)")
	into := fs.String("into", "", "isolated namespace for the output (tail --namespace NAME); empty: the live pipeline, where dedupe drops what subscribers already had")
	resume := fs.Bool("resume", false, "continue an interrupted replay with the same --into from its last checkpoint")
	workers := fs.Int("workers", 4, "workers per stage for the namespace's stages (with --into)")
	maxBytes := fs.Int("max-bytes", ingest.DefaultMaxBytes, "largest raw story accepted")
	memory := fs.Int("memory-mb", replay.DefaultMemory>>20, "with --from-files: MiB of archive the replay holds at once; larger archives are sorted in runs spilled to --temp-dir, then merged")
	tempDir := fs.String("temp-dir", "", "with --from-files: where sorted runs are spilled (default: the system's temporary directory)")
	geoOverrides := fs.String("geo-overrides", "", "with --into: FILE of gazetteer override entries (the format of stages/tag/geo/data/overrides.txt) added for this replay only, to see with diff what a change does")
	logLevel := fs.String("log-level", "info", "log level")
	drop := fs.String("drop", "", "delete the replay namespace NAME (its streams, dedupe state and checkpoint) and exit")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *drop != "" {
		if *fromFiles || *since != "" || *into != "" || fs.NArg() > 0 {
			return usagef("--drop NAME takes no other replay flags")
		}
		if _, err := proto.Namespace(*drop); err != nil {
			return usagef("--drop: %v", err)
		}
		nc, js, err := conn.connect("wirestream replay --drop", nil)
		if err != nil {
			return err
		}
		defer nc.Close()
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := replay.Drop(dctx, js, proto.Live(), *drop); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "replay: namespace %s dropped\n", *drop)
		return nil
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
	if *memory < 16 {
		return usagef("--memory-mb %d: at least 16", *memory)
	}
	cfg.Memory, cfg.TempDir = int64(*memory)<<20, *tempDir
	if *geoOverrides != "" {
		if *into == "" {
			return usagef("--geo-overrides needs --into NAME: the live pipeline keeps its own gazetteer")
		}
		b, err := os.ReadFile(*geoOverrides)
		if err != nil {
			return usagef("--geo-overrides: %v", err)
		}
		cfg.Data = &wiring.Data{GeoOverrides: string(b)}
		if _, err := cfg.Data.Tagger(); err != nil {
			return usagef("--geo-overrides %s: %v", *geoOverrides, err)
		}
	}
	if cfg.Speed, err = parseSpeed(*speed); err != nil {
		return usagef("--speed: %v", err)
	}
	if _, err := proto.Namespace(*into); err != nil {
		return usagef("--into: %v", err)
	}
	// Logs go through the progress bar, which clears its line for them and
	// draws itself again after, so the two never interleave.
	p := newProgress(e.stderr)
	log, err := newLogger(&env{stderr: p}, *logLevel, "console")
	if err != nil {
		return err
	}
	nc, js, err := conn.connect("wirestream replay", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg.Progress = p.update
	cfg.Reading = p.reading
	cfg.Starting = func(total, resumed int) {
		switch {
		case *into == "":
			fmt.Fprintf(p, "replay: %d stories go into the live pipeline again: each is added to the raw history (%s) once more, and dedupe sends those subscribers already had to the audit subject\n",
				total-resumed, proto.Live().RawStream())
		case resumed > 0:
			fmt.Fprintf(p, "replay: %d of %d stories into %s, resuming after the %d stored before\n", total-resumed, total, *into, resumed)
		}
	}
	res, err := replay.Run(ctx, js, cfg, log.Named("replay"))
	p.finish()
	if errors.Is(err, replay.ErrInterrupted) {
		return interrupted{fmt.Sprintf("%v; continue with: wirestream replay --resume (and the same arguments)", err)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "replay: %d stories replayed", res.Replayed)
	if res.Skipped > 0 {
		fmt.Fprintf(e.stderr, " (%d done before, resumed)", res.Skipped)
	}
	if *into != "" {
		fmt.Fprintf(e.stderr, " into %s: %d published, %d audited, %d dead-lettered\n", *into, res.Published, res.Audited, res.DeadLettered)
		fmt.Fprintf(e.stderr, "  read it:         wirestream tail --namespace %s --from-start\n", *into)
		fmt.Fprintf(e.stderr, "  see what changed: wirestream diff --namespace %s   (against the live output)\n", *into)
		fmt.Fprintf(e.stderr, "  drop it:         wirestream namespaces --drop %s", *into)
	}
	fmt.Fprintln(e.stderr)
	return nil
}

// reading shows the first phase of a replay from files: archives read and
// sorted into runs, with an ETA from the bytes read.
func (p *progress) reading(r replay.ArchiveProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.readStart.IsZero() {
		p.readStart = now
	}
	done := r.FilesDone == r.Files
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && !done {
		return
	}
	p.last = now
	line := fmt.Sprintf("reading archives: %d/%d files, %.0f/%.0f MB, %d stories, %d sorted runs spilled",
		r.FilesDone, r.Files, float64(r.BytesDone)/1e6, float64(r.Bytes)/1e6, r.Stories, r.Runs)
	if el := now.Sub(p.readStart); r.BytesDone > 0 && !done && el > time.Second {
		eta := time.Duration(float64(el) * float64(r.Bytes-r.BytesDone) / float64(r.BytesDone))
		line += ", ETA " + eta.Round(time.Second).String()
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		if done {
			fmt.Fprintln(p.w)
			p.drawn = false
		}
		return
	}
	fmt.Fprintln(p.w, "replay: "+line)
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

// progress shows stored/total (and processed, for a namespace), rate and
// ETA: a bar redrawn in place on a terminal, a line every 5 seconds
// otherwise (logs). It is also the writer logs go through: on a terminal it
// clears the bar's line for a log line and draws the bar again after it.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	tty       bool
	drawn     bool // the bar is on the screen, on the current line
	first     time.Time
	firstDone int
	last      time.Time
	p         replay.Progress
	readStart time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Write writes a log line (or a message) without tearing the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		_, _ = io.WriteString(p.w, "\r\033[K")
		p.drawn = false
	}
	n, err := p.w.Write(b)
	if p.tty && p.p.Total > 0 {
		p.draw()
	}
	return n, err
}

func (p *progress) update(r replay.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.first.IsZero() && r.Stored > 0 {
		// Rate and ETA count from the first story stored, not from the
		// time spent reading the archive.
		p.first, p.firstDone = now, r.Stored
	}
	finished := r.Stored == r.Total && (r.Processed < 0 || r.Processed == r.Total)
	p.p = r
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every && !finished {
		return
	}
	p.last = now
	p.draw()
}

func (p *progress) draw() {
	r := p.p
	done := r.Stored
	if r.Processed >= 0 {
		done = r.Processed // a namespace replay is done when its stages are
	}
	elapsed := time.Since(p.first).Seconds()
	rate := 0.0
	if elapsed > 0 && !p.first.IsZero() {
		rate = float64(done-min(done, p.firstDone)) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(r.Total-done)/rate) * time.Second).Round(time.Second).String()
	}
	counts := fmt.Sprintf("%d/%d stored", r.Stored, r.Total)
	if r.Processed >= 0 {
		counts += fmt.Sprintf(", %d processed", r.Processed)
	}
	if p.tty {
		const width = 30
		filled := 0
		if r.Total > 0 {
			filled = min(width, width*done/r.Total)
		}
		fmt.Fprintf(p.w, "\r\033[K[%s%s] %s  %.0f/s  ETA %s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), counts, rate, eta)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "%s replay progress: %s, %.0f/s, ETA %s\n", time.Now().UTC().Format(time.RFC3339), counts, rate, eta)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
