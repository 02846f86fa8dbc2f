// Package bench is 'wirestream bench': in one process and one run, on an
// embedded nats-server with file storage (or, with Config.URL, on an
// external server or cluster), it measures (1) a no-op relay
// chain with as many JetStream hops as the pipeline and the same
// at-least-once discipline, the broker's ceiling on this machine; (2) the
// full pipeline on a generated corpus; (3) ingest-to-published latency at
// half the pipeline's throughput; (4) the offline enrich path; and the CPU
// each stage's handler costs per story.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// Config sets the run.
type Config struct {
	Stories    int     // corpus size (default 20,000)
	Size       int     // body bytes (default 6,000)
	DupRate    float64 // share of resends, updates, near copies (default 0.1)
	Workers    int     // workers per stage (default 4)
	TagWorkers int     // workers of the tag stage (default Workers)
	LatencyN   int     // stories in the latency phase (default min(Stories, 5,000))
	Seed       uint64
	Dir        string // store directory (default a temporary one, removed)
	Log        *zap.Logger
	Progress   io.Writer // phase lines as they finish; nil: none
	// Only, when set, runs just these phases (relay, pipeline, latency,
	// enrich, cpu); for profiling one of them. Latency needs pipeline.
	Only []string
	// LiveNodes runs the pipeline phases with live (unstored) node
	// notifications (pipeline.StreamsConfig.LiveNodes).
	LiveNodes bool
	// ClaimCheck runs them with claim-check node notifications instead of
	// full copies (pipeline.StreamsConfig.ClaimCheck).
	ClaimCheck bool
	// URL, when set, measures an external NATS server or cluster instead of
	// the embedded one. Every phase runs in its own bench namespace (streams
	// WS_NS_BENCH_*, subjects ws.ns.bench_*), which it deletes before it
	// starts and when it ends; nothing else on the server is touched. The
	// CPU figures are then this process's alone (clients and stages), not
	// the server's.
	URL string

	connect func(stage string) (jetstream.JetStream, func(), error)
	data    *wiring.Data // the tag data, loaded once for every phase
}

// Result is what 'wirestream bench --json' prints.
type Result struct {
	Stories           int                `json:"stories"`
	SizeBytes         int                `json:"size_bytes"`
	DupRate           float64            `json:"dup_rate"`
	Workers           int                `json:"workers"`
	TagWorkers        int                `json:"tag_workers"`
	NodeSubjects      string             `json:"node_subjects"`
	RelayPerS         float64            `json:"relay_per_s"`
	RelayCPUMicros    float64            `json:"relay_cpu_us_per_story"`
	PipelinePerS      float64            `json:"pipeline_per_s"`
	PipelineRatio     float64            `json:"pipeline_to_relay"`
	PipelineCPUMicros float64            `json:"pipeline_cpu_us_per_story"`
	EnrichPerS        float64            `json:"enrich_per_s"`
	EnrichCPUMicros   float64            `json:"enrich_cpu_us_per_story"`
	LatencyRatePerS   float64            `json:"latency_rate_per_s"`
	P50Ms             float64            `json:"p50_ms"`
	P90Ms             float64            `json:"p90_ms"`
	P99Ms             float64            `json:"p99_ms"`
	P999Ms            float64            `json:"p999_ms"` // with the default 5,000 latency stories: the 5th slowest
	MaxMs             float64            `json:"max_ms"`
	CPUMicrosPerStory map[string]float64 `json:"cpu_us_per_story"`
	// RatioBound is relay CPU / (relay CPU + the stage handlers' CPU), per
	// story: the best pipeline_to_relay this machine allows when the broker
	// and the stages share its cores and the pipeline asks the broker for no
	// more than the relay does. 0 unless the relay and cpu phases both ran.
	RatioBound          float64 `json:"pipeline_to_relay_bound"`
	StoredBytesPerStory float64 `json:"stored_bytes_per_story"`
	// OutputBytesPerStory is the output stream's share of it (full story,
	// node copies or notifications).
	OutputBytesPerStory float64 `json:"output_bytes_per_story"`
	// NodeBody is "full" or "claim-check" (Config.ClaimCheck).
	NodeBody  string  `json:"node_body"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	Published int     `json:"published"`
	Audited   int     `json:"audited"`
	Cores     int     `json:"cores"`
	// Server is "embedded" or "external" (Config.URL).
	Server string `json:"server"`
}

func (c *Config) setDefaults() {
	if c.Stories == 0 {
		c.Stories = 20000
	}
	if c.Size == 0 {
		c.Size = 6000
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.TagWorkers == 0 {
		c.TagWorkers = c.Workers
	}
	if c.LatencyN == 0 {
		c.LatencyN = min(c.Stories, 5000)
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Run performs the benchmark.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	cfg.data = new(wiring.Data)
	dir := cfg.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "wirestream-bench")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	url, server := cfg.URL, "external"
	if url == "" {
		srv, err := pipeline.StartServer(pipeline.ServerConfig{Listen: "127.0.0.1:-1", StoreDir: dir}, nil)
		if err != nil {
			return nil, err
		}
		defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
		url, server = srv.ClientURL(), "embedded"
	}
	nc, err := pipeline.Connect(pipeline.ConnConfig{URL: url, Name: "wirestream bench"}, cfg.Log)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		return nil, err
	}
	// Every stage (and every relay) gets its own connection, as in 'run'.
	cfg.connect = func(stage string) (jetstream.JetStream, func(), error) {
		snc, err := pipeline.Connect(pipeline.ConnConfig{URL: url, Name: "bench " + stage}, cfg.Log)
		if err != nil {
			return nil, nil, err
		}
		sjs, err := jetstream.New(snc, jetstream.WithPublishAsyncMaxPending(8192))
		if err != nil {
			snc.Close()
			return nil, nil, err
		}
		return sjs, snc.Close, nil
	}
	items := corpus.Generate(corpus.Config{Stories: cfg.Stories, Size: cfg.Size, Seed: cfg.Seed, DupRate: cfg.DupRate})
	raws := make([][]byte, len(items))
	for i, it := range items {
		if raws[i], err = proto.MarshalJSON(it.Story); err != nil {
			return nil, err
		}
	}
	res := &Result{Stories: cfg.Stories, SizeBytes: cfg.Size, DupRate: cfg.DupRate, Workers: cfg.Workers, TagWorkers: cfg.TagWorkers, Cores: numCPU(), NodeSubjects: "stored", Server: server}
	if cfg.LiveNodes {
		res.NodeSubjects = "live"
	}
	res.NodeBody = pipeline.NodeBodyFull
	if cfg.ClaimCheck {
		res.NodeBody = pipeline.NodeBodyClaimCheck
	}

	run := func(phase string) bool {
		if len(cfg.Only) == 0 {
			return true
		}
		for _, p := range cfg.Only {
			if p == phase {
				return true
			}
		}
		return false
	}
	if run("relay") {
		t0 := cpuTime()
		if res.RelayPerS, err = runRelay(ctx, js, raws, cfg); err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		res.RelayCPUMicros = perStory(cpuTime()-t0, len(raws))
		fmt.Fprintf(cfg.Progress, "relay chain:   %8.0f stories/s, %.0f µs of CPU per story\n", res.RelayPerS, res.RelayCPUMicros)
	}
	if run("pipeline") {
		t0 := cpuTime()
		if err := runPipeline(ctx, js, raws, cfg, res); err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		res.PipelineCPUMicros = perStory(cpuTime()-t0, len(raws))
		fmt.Fprintf(cfg.Progress, "pipeline:      %8.0f stories/s (%.2f of relay), %.0f µs of CPU per story\n", res.PipelinePerS, res.PipelineRatio, res.PipelineCPUMicros)
	}
	if run("latency") && res.PipelinePerS > 0 {
		if err := runLatency(ctx, js, nc, raws, cfg, res); err != nil {
			return nil, fmt.Errorf("latency: %w", err)
		}
		fmt.Fprintf(cfg.Progress, "latency:       p50 %.1f ms, p99 %.1f ms at %.0f stories/s\n", res.P50Ms, res.P99Ms, res.LatencyRatePerS)
	}
	if run("enrich") {
		if res.EnrichPerS, res.EnrichCPUMicros, err = runEnrich(ctx, raws, cfg.data); err != nil {
			return nil, fmt.Errorf("enrich: %w", err)
		}
		fmt.Fprintf(cfg.Progress, "enrich:        %8.0f stories/s, %.0f µs of CPU per story\n", res.EnrichPerS, res.EnrichCPUMicros)
	}
	if run("cpu") {
		if res.CPUMicrosPerStory, err = stageCPU(ctx, raws, cfg.data); err != nil {
			return nil, fmt.Errorf("stage cpu: %w", err)
		}
		if res.RelayCPUMicros > 0 {
			var stages float64
			for _, v := range res.CPUMicrosPerStory {
				stages += v
			}
			res.RatioBound = res.RelayCPUMicros / (res.RelayCPUMicros + stages)
		}
	}
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}

func perStory(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / float64(n)
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// stages is the stage configuration of a pipeline phase in names.
func (c Config) stages(names proto.Names) wiring.Config {
	return wiring.Config{Names: names, Workers: c.Workers, Connect: c.connect, Data: c.data,
		StageWorkers: map[string]int{"tag": c.TagWorkers}}
}
