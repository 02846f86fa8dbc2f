package replay_test

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// Replaying the history into a namespace re-runs every story through the
// stages there, and live subjects see nothing of it.
func TestReplayIntoNamespaceLeavesLiveUntouched(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	wiringtest.IngestPhases(t, l.JS, l.Names, "live")
	liveOut := pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), "")
	liveAudit := pipelinetest.StreamMsgs(t, l.JS, l.Names.AuditStream(), "")
	liveRaw := pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), "")

	ctx := pipelinetest.Context(t, 120*time.Second)
	res, err := replay.Run(ctx, l.JS, replay.Config{Live: l.Names, Into: "rerun"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := proto.Namespace("rerun")
	// Replayed at full speed, the stages work on a story's versions
	// concurrently, so version 1 may be decided after version 2 (then it is
	// stale): the newest version is published either way.
	if res.Total != int(liveRaw) || res.Published+res.Audited != 6 || res.DeadLettered != 3 || res.Published < 4 {
		t.Errorf("replay result %+v; want all %d raw stories, 6 published or audited, 3 dead letters", res, liveRaw)
	}
	var newest bool
	err = pipeline.Subscribe(ctx, l.JS, pipeline.SubscribeConfig{Names: ns, Subject: ns.Region("UZ"), FromStart: true}, func(d pipeline.Delivery) error {
		if d.Story.URI == "urn:test:e2e:tashkent-water" && d.Story.Version == "2" {
			newest = true
			return pipeline.ErrStop
		}
		return nil
	})
	if err != nil || !newest {
		t.Errorf("namespace UZ node lacks version 2 of the Tashkent story (%v)", err)
	}
	time.Sleep(200 * time.Millisecond)
	if o, a, r := pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), ""), pipelinetest.StreamMsgs(t, l.JS, l.Names.AuditStream(), ""),
		pipelinetest.StreamMsgs(t, l.JS, l.Names.RawStream(), ""); o != liveOut || a != liveAudit || r != liveRaw {
		t.Errorf("live streams changed: out %d→%d audit %d→%d raw %d→%d", liveOut, o, liveAudit, a, liveRaw, r)
	}
}

// Replaying into the live pipeline: dedupe recognises what subscribers
// already had, so nothing is published twice.
func TestReplayIntoLiveIsDeduplicated(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	wiringtest.IngestPhases(t, l.JS, l.Names, "live")
	before := pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll())
	ctx := pipelinetest.Context(t, 120*time.Second)
	res, err := replay.Run(ctx, l.JS, replay.Config{Live: l.Names}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 6 accepted stories replayed; all already seen: audited as duplicates.
	pipelinetest.Eventually(t, 60*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.AuditStream(), "") >= 1+6
	}, "replayed stories not audited")
	time.Sleep(300 * time.Millisecond)
	if after := pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()); after != before {
		t.Errorf("live output grew from %d to %d after replaying %d stories", before, after, res.Replayed)
	}
}

// --speed original keeps the original gaps (scaled): the send times of a
// short feed follow its versioncreated gaps within 5%.
func TestReplayOriginalPacing(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	items := corpus.Generate(corpus.Config{Stories: 6, Size: 400, Seed: 3})
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	gaps := []time.Duration{0, 10 * time.Second, 30 * time.Second, 35 * time.Second, 60 * time.Second, 80 * time.Second}
	for i, it := range items {
		it.Story.VersionCreated = proto.FromTime(start.Add(gaps[len(gaps)-1-i])) // written newest first: replay must sort
	}
	writeJSONL(t, filepath.Join(dir, "feed.jsonl"), items)
	const speed = 40.0
	var mu sync.Mutex
	sent := map[int]time.Time{}
	ctx := pipelinetest.Context(t, 60*time.Second)
	_, err := replay.Run(ctx, js, replay.Config{Live: proto.Live(), Into: "paced", Files: []string{dir}, Speed: speed,
		Sent: func(i int, at time.Time) { mu.Lock(); sent[i] = at; mu.Unlock() }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 6 {
		t.Fatalf("%d stories sent", len(sent))
	}
	for i := 1; i < 6; i++ {
		want := time.Duration(float64(gaps[i]) / speed)
		got := sent[i].Sub(sent[0])
		if d := got - want; d < -want/20 || d > want/20 {
			t.Errorf("story %d sent %v after the first, want %v ±5%%", i, got, want)
		}
	}
}

// An interrupted replay resumes from its checkpoint and the output holds
// each story once.
func TestReplayResume(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	const n = 400
	writeJSONL(t, filepath.Join(dir, "a.jsonl"), corpus.Generate(corpus.Config{Stories: n, Size: 1500, Seed: 9}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := replay.Config{Live: proto.Live(), Into: "resume", Files: []string{dir}, Progress: func(p replay.Progress) {
		if p.Stored >= n/3 {
			cancel()
		}
	}}
	res, err := replay.Run(ctx, js, cfg, nil)
	if !errors.Is(err, replay.ErrInterrupted) {
		t.Fatalf("interrupted replay: %v (%+v)", err, res)
	}
	if res.Replayed >= n {
		t.Fatalf("the replay finished before the interruption (%d)", res.Replayed)
	}
	cfg.Progress = nil
	cfg.Resume = true
	res2, err := replay.Run(pipelinetest.Context(t, 120*time.Second), js, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Skipped == 0 || res2.Skipped+res2.Replayed != n {
		t.Errorf("resume skipped %d and replayed %d of %d", res2.Skipped, res2.Replayed, n)
	}
	ns, _ := proto.Namespace("resume")
	if got := pipelinetest.StreamMsgs(t, js, ns.OutStream(), ns.OutAll()); got != n {
		t.Errorf("namespace published %d stories, want %d exactly once (audited %d)", got, n, res2.Audited)
	}
}

// Every archive format round-trips through replay --from-files.
func TestReplayArchiveFormats(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	items := corpus.Generate(corpus.Config{Stories: 4, Size: 600, Seed: 11})
	writeJSONL(t, filepath.Join(dir, "lines.jsonl"), items[:1])
	b, _ := proto.MarshalJSON(items[1].Story)
	must(t, os.WriteFile(filepath.Join(dir, "one.json"), []byte(strings.ReplaceAll(string(b), `","`, "\",\n  \"")), 0o644))
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "story.txt"), []byte("date 2024-05-02 "+items[2].Story.BodyText), 0o644))
	f, err := os.Create(filepath.Join(dir, "sub", "zipped.jsonl.gz"))
	must(t, err)
	zw := gzip.NewWriter(f)
	b, _ = proto.MarshalJSON(items[3].Story)
	_, _ = zw.Write(append(b, '\n'))
	must(t, zw.Close())
	must(t, f.Close())
	if newsml, err := os.ReadFile(filepath.Join("..", "..", "testdata", "newsml", "item-nitf.xml")); err == nil {
		must(t, os.WriteFile(filepath.Join(dir, "item.xml"), newsml, 0o644))
	}
	ctx := pipelinetest.Context(t, 60*time.Second)
	res, err := replay.Run(ctx, js, replay.Config{Live: proto.Live(), Into: "archive", Files: []string{dir}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.DeadLettered != 0 || int(res.Published) != res.Total {
		t.Fatalf("replay %+v: want every archived story published", res)
	}
}

func writeJSONL(t *testing.T, path string, items []corpus.Item) {
	t.Helper()
	b, err := corpus.JSONLines(items)
	must(t, err)
	must(t, os.WriteFile(path, b, 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint

// An interrupted replay of the history resumes from its checkpoint, reading
// the history in chunks, and the output holds each story once.
func TestReplayHistoryResume(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	live := proto.Live()
	ctx0 := pipelinetest.Context(t, 60*time.Second)
	must(t, pipeline.EnsureStreams(ctx0, js, live, pipeline.StreamsConfig{}))
	const n = 2500 // more than one chunk
	data, err := corpus.JSONLines(corpus.Generate(corpus.Config{Stories: n, Size: 800, Seed: 13}))
	must(t, err)
	var report strings.Builder
	if res, err := fileingest.Files(ctx0, js, fileingest.Config{Names: live, Source: "hist"}, []fileingest.Input{{Name: "h", R: strings.NewReader(string(data))}}, &report); err != nil || res.Accepted != n {
		t.Fatalf("ingest: %+v %v %s", res, err, report.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := replay.Config{Live: live, Into: "hist", Since: time.Now().Add(-time.Hour), Progress: func(p replay.Progress) {
		if p.Stored >= n/2 {
			cancel()
		}
	}}
	res, err := replay.Run(ctx, js, cfg, nil)
	if !errors.Is(err, replay.ErrInterrupted) || res.Replayed >= n {
		t.Fatalf("interrupted replay: %v (%+v)", err, res)
	}
	cfg.Progress = nil
	cfg.Resume = true
	res2, err := replay.Run(pipelinetest.Context(t, 180*time.Second), js, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Skipped == 0 || res2.Skipped+res2.Replayed != n || res2.Total != n {
		t.Errorf("resume: %+v, want %d in all", res2, n)
	}
	ns, _ := proto.Namespace("hist")
	if got := pipelinetest.StreamMsgs(t, js, ns.OutStream(), ns.OutAll()) + pipelinetest.StreamMsgs(t, js, ns.AuditStream(), ""); got != n {
		t.Errorf("namespace holds %d stories (published + audited), want %d exactly once", got, n)
	}
	if dups := pipelinetest.StreamMsgs(t, js, ns.AuditStream(), ns.Audit(proto.DedupeDuplicate)); dups != 0 {
		t.Errorf("%d stories replayed twice (audited as duplicates)", dups)
	}
}

// A second replay into a namespace that already holds one is refused with
// the way out, instead of a false summary over the first one's output;
// dropped, the namespace takes a new replay whose summary is its own.
func TestReplayNamespaceInUse(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	const n = 30
	writeJSONL(t, filepath.Join(dir, "a.jsonl"), corpus.Generate(corpus.Config{Stories: n, Size: 800, Seed: 17}))
	ctx := pipelinetest.Context(t, 120*time.Second)
	cfg := replay.Config{Live: proto.Live(), Into: "Trial-1", Files: []string{dir}}
	first, err := replay.Run(ctx, js, cfg, nil)
	if err != nil || first.Published != n {
		t.Fatalf("first replay: %+v %v", first, err)
	}
	cfg.Into = "trial_1" // the same namespace, spelt otherwise
	_, err = replay.Run(ctx, js, cfg, nil)
	if !errors.Is(err, replay.ErrNamespaceInUse) || !strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--drop trial_1") {
		t.Fatalf("second replay into the namespace: %v", err)
	}
	must(t, replay.Drop(ctx, js, proto.Live(), "trial_1"))
	again, err := replay.Run(ctx, js, cfg, nil)
	if err != nil || again.Published != n || again.Audited != 0 {
		t.Fatalf("replay after the drop: %+v %v", again, err)
	}
	if err := replay.Drop(ctx, js, proto.Live(), "nothing-here"); err == nil {
		t.Error("dropping a namespace that does not exist succeeded")
	}
}

// Interrupted while the namespace's stages are still at work (every story
// stored), the replay says so instead of a summary, and the progress it
// reports counts what the stages processed, not only what was sent.
func TestReplayInterruptedWhileProcessing(t *testing.T) {
	srv := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, srv)
	dir := t.TempDir()
	const n = 300
	writeJSONL(t, filepath.Join(dir, "a.jsonl"), corpus.Generate(corpus.Config{Stories: n, Size: 1500, Seed: 19}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last replay.Progress
	cfg := replay.Config{Live: proto.Live(), Into: "busy", Files: []string{dir}, Workers: 1, Progress: func(p replay.Progress) {
		last = p
		if p.Stored == n && p.Processed >= 0 && p.Processed < n {
			cancel() // everything sent, the stages not through
		}
	}}
	res, err := replay.Run(ctx, js, cfg, nil)
	if !errors.Is(err, replay.ErrInterrupted) || !strings.Contains(err.Error(), "all 300 stories stored") {
		t.Fatalf("replay interrupted while processing: %v (%+v)", err, res)
	}
	if last.Stored != n || last.Processed >= n {
		t.Fatalf("last progress %+v", last)
	}
	cfg.Progress, cfg.Resume = nil, true
	done, err := replay.Run(pipelinetest.Context(t, 120*time.Second), js, cfg, nil)
	if err != nil || done.Published+done.Audited != n {
		t.Fatalf("resumed: %+v %v", done, err)
	}
}
