package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// A relay republishes inputs unchanged, once each.
func TestRelay(t *testing.T) {
	f := newFixture(t)
	cfg := f.stageCfg()
	st, err := pipeline.NewRelay(f.js, cfg, "testout.tested", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	defer func() { cancel(); <-done }()
	f.feed(0, 50)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed == 50 }, "processed %d", st.Stats().Processed)
	got := f.outputs() // decodes each body: unchanged proto stories
	if len(got) != 50 {
		t.Fatalf("%d distinct stories relayed, want 50", len(got))
	}
	for uri, n := range got {
		if n != 1 {
			t.Errorf("%s relayed %d times", uri, n)
		}
	}
	_ = proto.Live()
}
