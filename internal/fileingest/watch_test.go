package fileingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// Files dropped into a watched directory are ingested and moved aside;
// a file with a bad story goes to rejected/ after its good stories are stored.
func TestWatchDirectory(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var report bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- fileingest.Watch(ctx, js, fileingest.WatchConfig{Ingest: fileingest.Config{Names: names, Source: "drop"}, Dir: dir, Poll: 50 * time.Millisecond}, &report, nil)
	}()
	must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("date 2024-05-04 LIMA, Peru (AP) — Rain flooded roads."), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{"uri":"u1","body_text":"x"}`+"\n"+`{"uri":"u2"}`+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, ".partial"), []byte("ignored"), 0o644))
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		_, errA := os.Stat(filepath.Join(dir, "processed", "a.txt"))
		_, errB := os.Stat(filepath.Join(dir, "rejected", "b.jsonl"))
		return errA == nil && errB == nil
	}, "files not moved aside")
	if got := pipelinetest.StreamMsgs(t, js, names.RawStream(), ""); got != 3 {
		t.Errorf("%d raw stories stored, want 3 (the invalid one too, for the dead-letter subject)", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial")); err != nil {
		t.Errorf("dot file touched: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
