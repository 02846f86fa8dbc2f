// Package wiringtest starts the whole pipeline for tests: every stage of
// the stage table on an embedded server (real JetStream, port -1, a
// temporary store), and feeds it the end-to-end testdata.
package wiringtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// Pipeline is a running pipeline (all stages) on an embedded server.
type Pipeline struct {
	NC     *nats.Conn
	JS     jetstream.JetStream
	Names  proto.Names
	Stages []*pipeline.Stage
	// Stop drains the stages (also done when the test ends).
	Stop func()
}

// Start runs every stage with live streams made from sc, retries quickened
// (20 ms backoff), and waits until every stage consumes. tune, when set,
// adjusts the stages' config further.
func Start(t *testing.T, sc pipeline.StreamsConfig, tune func(*wiring.Config)) *Pipeline {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 20*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, sc); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	cfg := wiring.Config{Names: names, Workers: 4, Tune: func(sc *pipeline.StageConfig) {
		sc.Backoff = []time.Duration{20 * time.Millisecond}
	}}
	if tune != nil {
		tune(&cfg)
	}
	stages, errc := wiring.RunStages(runCtx, js, wiring.Names(), cfg, testLog())
	for _, st := range stages {
		select {
		case <-st.Ready():
		case err := <-errc:
			cancel()
			t.Fatalf("pipeline did not start: %v", err)
		case <-ctx.Done():
			cancel()
			t.Fatal("pipeline did not start in time")
		}
	}
	if len(stages) == 0 {
		cancel()
		t.Fatalf("pipeline did not start: %v", <-errc)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("pipeline: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &Pipeline{NC: nc, JS: js, Names: names, Stages: stages, Stop: stop}
}

// Testdata opens files of testdata/e2e.
func Testdata(t *testing.T, names ...string) []fileingest.Input {
	t.Helper()
	var inputs []fileingest.Input
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "e2e", n))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, fileingest.Input{Name: n, R: bytes.NewReader(b)})
	}
	return inputs
}

func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// IngestPhases ingests testdata/e2e in the order its README gives, one file
// at a time, waiting until each has gone through the pipeline: stages work
// concurrently, so a resend and an update ingested together could reach
// dedupe in either order. It returns the ingest report (rejections).
func IngestPhases(t *testing.T, js jetstream.JetStream, names proto.Names, source string) string {
	t.Helper()
	ctx := pipelinetest.Context(t, 120*time.Second)
	var report bytes.Buffer
	total := fileingest.Result{}
	phases := []struct {
		files          []string
		out, audit, dl uint64 // totals once the phase is through
	}{
		{[]string{"feed.jsonl"}, 3, 0, 2},
		{[]string{"resend.jsonl"}, 3, 1, 3},
		{[]string{"update.jsonl", "wire.txt"}, 5, 1, 3},
	}
	for _, ph := range phases {
		res, err := fileingest.Files(ctx, js, fileingest.Config{Names: names, Source: source}, Testdata(t, ph.files...), &report)
		if err != nil {
			t.Fatal(err)
		}
		total.Accepted += res.Accepted
		total.Rejected += res.Rejected
		total.Failed += res.Failed
		pipelinetest.Eventually(t, 90*time.Second, func() bool {
			return pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll()) >= ph.out &&
				pipelinetest.StreamMsgs(t, js, names.AuditStream(), "") >= ph.audit &&
				pipelinetest.StreamMsgs(t, js, names.DLQStream(), "") >= ph.dl
		}, "phase %v did not go through", ph.files)
	}
	if total.Accepted != 6 || total.Rejected != 3 || total.Failed != 0 {
		t.Fatalf("ingest result %+v, want 6 accepted and 3 rejected\n%s", total, report.String())
	}
	return report.String()
}

// Log is the tests' logger: nil (nothing logged) unless WS_TEST_LOG is set.
func Log() *zap.Logger { return testLog() }

func testLog() *zap.Logger {
	if os.Getenv("WS_TEST_LOG") == "" {
		return nil
	}
	l, _ := zap.NewDevelopment()
	return l
}

// OutSeqs is the output sequences (oldest first) of the full stories on
// the out.all subject that f matches, read back from the output stream:
// what a filtered reader of the output should deliver.
func (p *Pipeline) OutSeqs(t *testing.T, f pipeline.Filter) []uint64 {
	t.Helper()
	ctx := pipelinetest.Context(t, 20*time.Second)
	st, err := p.JS.Stream(ctx, p.Names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil || m.Subject != p.Names.OutAll() {
			continue
		}
		s, err := outfilter.Decode(m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Match(s, m.Header.Get(proto.HeaderNodes)) {
			seqs = append(seqs, seq)
		}
	}
	return seqs
}
