package bench_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/bench"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// The benchmark runs end to end on a small corpus and reports every field
// (the numbers themselves are measurements, not assertions).
func TestBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline three times")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := bench.Run(ctx, bench.Config{Stories: 300, Size: 1500, DupRate: 0.1, Workers: 2, LatencyN: 100, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.RelayPerS <= 0 || res.PipelinePerS <= 0 || res.EnrichPerS <= 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.P999Ms < res.P99Ms || res.MaxMs < res.P999Ms ||
		res.StoredBytesPerStory <= 0 || res.PeakRSSMB <= 0 || len(res.CPUMicrosPerStory) != 4 {
		t.Fatalf("incomplete result: %+v", res)
	}
	if res.Published+res.Audited != 300 {
		t.Fatalf("%d published + %d audited, want all 300 stories accounted for", res.Published, res.Audited)
	}
}

// With URL the bench measures a server it did not start, which may also run
// the real pipeline: it must leave the live streams alone and remove its
// own namespaces when it ends.
func TestBenchExternalServerLeavesLiveStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline three times")
	}
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 3*time.Minute)
	live := proto.Live()
	if err := pipeline.EnsureStreams(ctx, js, live, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(live.Raw("keep"), []byte(`{"uri":"urn:keep","headline":"h","body_text":"b"}`)); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return pipelinetest.StreamMsgs(t, js, live.RawStream(), "") == 1 }, "live story not stored")

	res, err := bench.Run(ctx, bench.Config{Stories: 200, Size: 1500, Workers: 2, LatencyN: 50, URL: srv.ClientURL(), Only: []string{"relay", "pipeline", "latency"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Server != "external" || res.PipelinePerS <= 0 || res.Published+res.Audited != 200 {
		t.Fatalf("result: %+v", res)
	}
	if n := pipelinetest.StreamMsgs(t, js, live.RawStream(), ""); n != 1 {
		t.Fatalf("the live raw stream holds %d messages after the bench, want the 1 stored before", n)
	}
	for name := range js.StreamNames(ctx).Name() {
		if strings.HasPrefix(name, "WS_NS_BENCH") || strings.HasPrefix(name, "KV_WS_NS_BENCH") {
			t.Errorf("bench stream %s left on the server", name)
		}
	}
}
