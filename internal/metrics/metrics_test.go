package metrics_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/metrics"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The Prometheus endpoint is scraped after a feed went through the pipeline.
func TestMetricsEndpoint(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 30*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	var mu sync.Mutex
	var stages []*pipeline.Stage
	ready := func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(stages) != 4 || !nc.IsConnected() {
			return context.Canceled
		}
		for _, st := range stages {
			select {
			case <-st.Ready():
			default:
				return context.Canceled
			}
		}
		return nil
	}
	runCtx, cancel := context.WithCancel(context.Background())
	addr, err := metrics.Serve(runCtx, "127.0.0.1:0", m, ready)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the stages run: %d, want 503", code)
	}
	sts, errc := wiring.RunStages(runCtx, js, wiring.Names(), wiring.Config{Names: names, Metrics: m.Runtime, Registry: m.Registry, Tune: func(sc *pipeline.StageConfig) {
		sc.Backoff = []time.Duration{10 * time.Millisecond}
	}}, nil)
	mu.Lock()
	stages = sts
	mu.Unlock()
	t.Cleanup(func() { cancel(); <-errc })
	pipelinetest.Eventually(t, 60*time.Second, func() bool { c, _ := get(t, base+"/readyz"); return c == http.StatusOK }, "/readyz never 200")
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Errorf("/healthz: %d %q", code, body)
	}

	wiringtest.IngestPhases(t, js, names, "m")
	want := []string{
		`wirestream_processed_total{stage="ingest"} 6`,
		`wirestream_dead_lettered_total{stage="ingest"} 3`,
		`wirestream_processed_total{stage="publish"} 5`,
		`wirestream_dedupe_decisions_total{status="new"} 4`,
		`wirestream_dedupe_decisions_total{status="duplicate"} 1`,
		`wirestream_dedupe_decisions_total{status="update"} 1`,
		`wirestream_tag_places_total{rel="located",scheme="iso3166-1a2"} 5`,
		`wirestream_handler_seconds_count{stage="tag"} 5`,
		`wirestream_consumer_pending{stage="tag"} 0`,
		`wirestream_consumer_ack_pending{stage="publish"}`,
		`wirestream_publish_duplicates_total{stage="dedupe"} 0`,
		`go_goroutines`,
		`wirestream_build_info{commit=`,
		`wirestream_last_published_timestamp_seconds{stage="publish"} 1.`, // set: a Unix time in e-notation
	}
	var missing []string
	pipelinetest.Eventually(t, 90*time.Second, func() bool {
		_, body := get(t, base+"/metrics")
		missing = missing[:0]
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0
	}, "metrics missing: %s", func() string { return strings.Join(missing, ", ") })
}
