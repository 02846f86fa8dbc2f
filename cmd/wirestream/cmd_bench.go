package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"

	"github.com/segmentio/encoding/json"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/bench"
)

func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--stories N] [--size BYTES] [--dup-rate F] [--workers N] [--nats URL] [--json]")
	stories := fs.Int("stories", 20000, "stories in the generated corpus")
	size := fs.Int("size", 6000, "approximate body size of a story, bytes")
	dup := fs.Float64("dup-rate", 0.1, "share of resends, updates and near copies in the corpus (0 to 1)")
	workers := fs.Int("workers", 4, "workers per stage")
	tagWorkers := fs.Int("tag-workers", 0, "workers of the tag stage (default --workers)")
	latencyN := fs.Int("latency-stories", 0, "stories in the latency phase (default min(stories, 5000))")
	seed := fs.Uint64("seed", 1, "corpus seed")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	nodeSubjects := fs.String("node-subjects", "stored", "node notifications of the pipeline phases: stored or live (see run --help)")
	nodeBody := fs.String("node-body", "full", "node messages of the pipeline phases: full or claim-check (see run --help)")
	only := fs.String("only", "", "run only these comma-separated phases: relay, pipeline, latency (needs pipeline), enrich, cpu")
	logLevel := fs.String("log-level", "off", "log the stages' warnings and errors on stderr during the run: off, debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to FILE (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the whole run to FILE at its end (go tool pprof -sample_index=alloc_space or inuse_space)")
	natsURL := fs.String("nats", "", "measure this NATS server or cluster instead of an embedded one; the bench only creates and deletes its own streams (WS_NS_BENCH_*)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *stories < 100:
		return usagef("--stories %d: at least 100", *stories)
	case *size < 200:
		return usagef("--size %d: at least 200", *size)
	case *dup < 0 || *dup > 1:
		return usagef("--dup-rate %v: between 0 and 1", *dup)
	case *workers < 1:
		return usagef("--workers %d: at least 1", *workers)
	}
	liveNodes, err := parseNodeSubjects(*nodeSubjects)
	if err != nil {
		return err
	}
	claimCheck, err := parseNodeBody(*nodeBody)
	if err != nil {
		return err
	}
	var log *zap.Logger
	if *logLevel != "off" {
		if log, err = newLogger(e, *logLevel, "console"); err != nil {
			return err
		}
		defer log.Sync() //nolint:errcheck // stderr
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	progress := e.stderr
	if *asJSON {
		progress = io.Discard
	}
	server := "embedded server, file storage"
	if *natsURL != "" {
		server = "external NATS server; CPU figures are this process's only"
	}
	fmt.Fprintf(progress, "wirestream bench: %d stories of ~%d bytes, dup-rate %.2f, %d workers per stage (%s)\n",
		*stories, *size, *dup, *workers, server)
	res, err := bench.Run(ctx, bench.Config{Stories: *stories, Size: *size, DupRate: *dup, Workers: *workers, TagWorkers: *tagWorkers, LatencyN: *latencyN,
		Seed: *seed, Progress: progress, Only: splitList(*only), LiveNodes: liveNodes, ClaimCheck: claimCheck, Log: log, URL: *natsURL})
	if err != nil {
		return err
	}
	if *memProfile != "" {
		if err := writeAllocProfile(*memProfile); err != nil {
			return err
		}
	}
	if *asJSON {
		b, err := json.Marshal(res)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "%-28s %12.0f  (%.0f µs of CPU per story)\n", "relay_per_s", res.RelayPerS, res.RelayCPUMicros)
	fmt.Fprintf(w, "%-28s %12.0f  (%.2f of relay, %.0f µs of CPU per story)\n", "pipeline_per_s", res.PipelinePerS, res.PipelineRatio, res.PipelineCPUMicros)
	fmt.Fprintf(w, "%-28s %12.0f\n", "enrich_per_s", res.EnrichPerS)
	fmt.Fprintf(w, "%-28s %12.1f  (at %.0f stories/s)\n", "p50_ms", res.P50Ms, res.LatencyRatePerS)
	fmt.Fprintf(w, "%-28s %12.1f\n", "p90_ms", res.P90Ms)
	fmt.Fprintf(w, "%-28s %12.1f\n", "p99_ms", res.P99Ms)
	fmt.Fprintf(w, "%-28s %12.1f  (max %.1f)\n", "p999_ms", res.P999Ms, res.MaxMs)
	var stages []string
	for s := range res.CPUMicrosPerStory {
		stages = append(stages, s)
	}
	sort.Strings(stages)
	for _, s := range stages {
		fmt.Fprintf(w, "%-28s %12.1f\n", "cpu_us_per_story."+s, res.CPUMicrosPerStory[s])
	}
	if res.RatioBound > 0 {
		fmt.Fprintf(w, "%-28s %12.2f  (relay CPU / (relay CPU + stage handlers' CPU))\n", "pipeline_to_relay_bound", res.RatioBound)
	}
	fmt.Fprintf(w, "%-28s %12.0f  (output stream %.0f, node messages %s)\n", "stored_bytes_per_story", res.StoredBytesPerStory, res.OutputBytesPerStory, res.NodeBody)
	fmt.Fprintf(w, "%-28s %12.0f\n", "peak_rss_mb", res.PeakRSSMB)
	fmt.Fprintf(w, "%-28s %12d published, %d audited\n", "stories", res.Published, res.Audited)
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// writeAllocProfile writes the allocation profile (all allocations since the
// start, and what is in use after a GC) to path.
func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
