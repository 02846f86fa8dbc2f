package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/bench"
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
	if res.RelayPerS <= 0 || res.PipelinePerS <= 0 || res.EnrichPerS <= 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms ||
		res.StoredBytesPerStory <= 0 || res.PeakRSSMB <= 0 || len(res.CPUMicrosPerStory) != 4 {
		t.Fatalf("incomplete result: %+v", res)
	}
	if res.Published+res.Audited != 300 {
		t.Fatalf("%d published + %d audited, want all 300 stories accounted for", res.Published, res.Audited)
	}
}
