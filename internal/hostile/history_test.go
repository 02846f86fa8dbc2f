package hostile_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// A raw history bounded by bytes (--history-max-bytes) fills while the
// ingest stage is not reading: more input is refused ("raw history full"),
// the ingest command says so and fails, and no story it reported stored is
// dropped before the ingest stage read it: every accepted story comes out
// once the stages run again.
func TestHistoryBoundNeverDropsUnread(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 180*time.Second)
	const bound = 400_000
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{HistoryMaxBytes: bound}); err != nil {
		t.Fatal(err)
	}
	// Run the stages once so their consumers exist, then stop them: the
	// ingest stage is down while the input arrives.
	runStages := func() (stop func()) {
		runCtx, cancel := context.WithCancel(context.Background())
		stages, errc := wiring.RunStages(runCtx, js, wiring.Names(), wiring.Config{Names: names}, nil)
		for _, st := range stages {
			<-st.Ready()
		}
		return func() { cancel(); <-errc }
	}
	runStages()()

	data, err := corpus.JSONLines(corpus.Generate(corpus.Config{Stories: 600, Seed: 23, Size: 2000}))
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	res, err := fileingest.Files(ctx, js, fileingest.Config{Names: names, Source: "burst"}, []fileingest.Input{{Name: "burst.jsonl", R: bytes.NewReader(data)}}, &report)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed == 0 || !strings.Contains(report.String(), "raw history full") {
		t.Fatalf("ingest %+v into a full history, report:\n%.500s", res, report.String())
	}
	if res.Accepted == 0 || res.Accepted+res.Failed != 600 {
		t.Fatalf("ingest %+v: want some accepted, the rest refused", res)
	}
	t.Logf("%d stories stored, %d refused as the history filled", res.Accepted, res.Failed)

	stop := runStages()
	defer stop()
	pipelinetest.Eventually(t, 120*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll())+pipelinetest.StreamMsgs(t, js, names.AuditStream(), "") >= uint64(res.Accepted)
	}, "%d accepted stories, %d out and audited", res.Accepted, func() uint64 {
		return pipelinetest.StreamMsgs(t, js, names.OutStream(), names.OutAll()) + pipelinetest.StreamMsgs(t, js, names.AuditStream(), "")
	})
}
