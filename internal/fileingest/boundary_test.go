package fileingest_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/input/inputtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// rawServer starts a server with the pipeline's streams (no stages).
func rawServer(t *testing.T) (context.Context, jetstream.JetStream) {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	ctx := pipelinetest.Context(t, 60*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, proto.Live(), pipeline.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	return ctx, js
}

// ingest streams: a 256 MiB text story is read once, cut to the story
// limit + 1 byte, stored with its origin and reported too large; the story
// after it is read as usual. It used to be read whole (io.ReadAll, about
// 570 MiB allocated) and, over the server's payload limit, not stored.
func TestFilesStreamHugeRecord(t *testing.T) {
	ctx, js := rawServer(t)
	huge := io.MultiReader(strings.NewReader("LIMA, Peru (AP) — "), inputtest.Repeated('a', 256<<20), strings.NewReader("\fOSLO, Norway (AP) — Snow."))
	var report bytes.Buffer
	var res fileingest.Result
	var err error
	alloc := inputtest.Allocated(func() {
		res, err = fileingest.Files(ctx, js, fileingest.Config{Names: proto.Live(), Source: "big"}, []fileingest.Input{{Name: "huge.txt", R: huge}}, &report)
	})
	if err != nil || res != (fileingest.Result{Accepted: 1, Rejected: 1}) {
		t.Fatalf("%+v %v\n%s", res, err, report.String())
	}
	if !strings.Contains(report.String(), "huge.txt:1: rejected: ingest: story too large: 1048577 bytes, limit 1048576") {
		t.Errorf("report: %s", report.String())
	}
	if alloc > 32<<20 {
		t.Errorf("ingesting a 256 MiB story allocated %d MiB", alloc>>20)
	}
	stream, err := js.Stream(ctx, proto.Live().RawStream())
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetMsg(ctx, 1)
	if err != nil || len(m.Data) != 1<<20+1 || m.Header.Get(proto.HeaderOrigin) != "huge.txt:1" {
		t.Fatalf("stored: %v %d bytes from %q", err, len(m.Data), m.Header.Get(proto.HeaderOrigin))
	}
	if n := pipelinetest.StreamMsgs(t, js, proto.Live().RawStream(), ""); n != 2 {
		t.Errorf("%d raw stories stored, want 2", n)
	}
	t.Logf("256 MiB story: %d KiB allocated", alloc>>10)
}

// The watcher reads gzip files; a corrupt one goes to rejected/ with the
// reason, and the watcher goes on with the next file.
func TestWatchCompressed(t *testing.T) {
	ctx, js := rawServer(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir := t.TempDir()
	var report bytes.Buffer // read once the watcher stopped
	done := make(chan error, 1)
	go func() {
		done <- fileingest.Watch(ctx, js, fileingest.WatchConfig{Ingest: fileingest.Config{Names: proto.Live(), Source: "drop"}, Dir: dir, Poll: 50 * time.Millisecond}, &report, nil)
	}()
	good := inputtest.Gzip(t, []byte(`{"uri":"urn:w:1","body_text":"LIMA, Peru (AP) — Rain."}`+"\n"+`{"uri":"urn:w:2","body_text":"OSLO (AP) — Snow."}`+"\n"))
	must(t, os.WriteFile(filepath.Join(dir, "1-bad.jsonl.gz"), good[:len(good)-9], 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "2-good.jsonl.gz"), good, 0o644))
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		_, errA := os.Stat(filepath.Join(dir, "rejected", "1-bad.jsonl.gz"))
		_, errB := os.Stat(filepath.Join(dir, "processed", "2-good.jsonl.gz"))
		return errA == nil && errB == nil
	}, "files not moved aside")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "1-bad.jsonl.gz") + ": rejected: input: corrupt compressed data"
	if !strings.Contains(report.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, report.String())
	}
}
