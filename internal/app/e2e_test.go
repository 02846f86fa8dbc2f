package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/app"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// live is a running pipeline (all stages) on an embedded server.
type live struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	names proto.Names
	stop  func()
}

func startPipeline(t *testing.T) *live {
	t.Helper()
	return startPipelineWith(t, pipeline.StreamsConfig{})
}

// startPipelineWith is startPipeline with the streams made from sc.
func startPipelineWith(t *testing.T, sc pipeline.StreamsConfig) *live {
	t.Helper()
	srv := pipelinetest.StartServer(t)
	nc, js := pipelinetest.Connect(t, srv)
	names := proto.Live()
	ctx := pipelinetest.Context(t, 20*time.Second)
	if err := pipeline.EnsureStreams(ctx, js, names, sc); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	cfg := app.Config{Names: names, Workers: 4, Stage: func(sc *pipeline.StageConfig) {
		sc.Backoff = []time.Duration{20 * time.Millisecond}
	}}
	stages, errc := app.RunStages(runCtx, js, []string{"ingest", "dedupe", "tag", "publish"}, cfg, nil)
	for _, st := range stages {
		select {
		case <-st.Ready():
		case err := <-errc:
			t.Fatalf("pipeline did not start: %v", err)
		case <-ctx.Done():
			t.Fatal("pipeline did not start in time")
		}
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
	return &live{nc: nc, js: js, names: names, stop: stop}
}

func openTestdata(t *testing.T, names ...string) []app.Input {
	t.Helper()
	var inputs []app.Input
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", n))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, app.Input{Name: n, R: bytes.NewReader(b)})
	}
	return inputs
}

// collector gathers notifications from a plain core NATS subscription.
type collector struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func (c *collector) add(m *nats.Msg) { c.mu.Lock(); c.msgs = append(c.msgs, m); c.mu.Unlock() }
func (c *collector) len() int        { c.mu.Lock(); defer c.mu.Unlock(); return len(c.msgs) }
func (c *collector) all() []*nats.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*nats.Msg(nil), c.msgs...)
}

// TestEndToEnd ingests a feed through every stage on an embedded server and
// reads the output the way a user of another NATS client would: a plain
// nats.go subscription on a region or topic subject, then a direct get of
// the full story the notification points to. With live node notifications
// (StreamsConfig.LiveNodes) the plain subscriber sees the same, the output
// stream holds only the full stories, and pipeline.Subscribe still reads a
// region's history.
func TestEndToEnd(t *testing.T) {
	t.Run("stored", func(t *testing.T) { testEndToEnd(t, false) })
	t.Run("live", func(t *testing.T) { testEndToEnd(t, true) })
}

func testEndToEnd(t *testing.T, liveNodes bool) {
	l := startPipelineWith(t, pipeline.StreamsConfig{LiveNodes: liveNodes})
	subs := map[string]*collector{}
	for _, subj := range []string{l.names.Region("UZ"), l.names.Region("143"), l.names.Region("KE"), l.names.Region("TR"),
		l.names.Topic("15000000"), l.names.OutAll()} {
		c := &collector{}
		if _, err := l.nc.Subscribe(subj, c.add); err != nil {
			t.Fatal(err)
		}
		subs[subj] = c
	}
	if err := l.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	ctx := pipelinetest.Context(t, 120*time.Second)
	report := ingestPhases(t, l.js, l.names, "e2e")
	for _, want := range []string{"feed.jsonl:3: rejected: ingest: invalid JSON", "feed.jsonl:4: rejected: ingest: empty body", "resend.jsonl:2: rejected: ingest: invalid story"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	all := subs[l.names.OutAll()]
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return all.len() >= 5 }, "%d stories seen on out.all", all.len)
	time.Sleep(200 * time.Millisecond) // let any wrong extra message arrive before counting

	stream, err := l.js.Stream(ctx, l.names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(m *nats.Msg) *proto.Story {
		t.Helper()
		seq, err := strconv.ParseUint(m.Header.Get(proto.HeaderStorySeq), 10, 64)
		if err != nil {
			t.Fatalf("notification on %s without %s", m.Subject, proto.HeaderStorySeq)
		}
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		s, err := proto.UnmarshalJSON(raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	got := func(subj string) []string {
		var out []string
		for _, m := range subs[subj].all() {
			var s *proto.Story
			if subj == l.names.OutAll() {
				var err error
				if s, err = proto.UnmarshalJSON(m.Data); err != nil {
					t.Fatal(err)
				}
			} else {
				s = resolve(m)
			}
			out = append(out, s.URI+"@"+s.Version+":"+s.Dedupe.Status)
		}
		sort.Strings(out)
		return out
	}
	check := func(subj string, want ...string) {
		t.Helper()
		sort.Strings(want)
		if g := got(subj); strings.Join(g, " ") != strings.Join(want, " ") {
			t.Errorf("%s received %v\nwant %v", subj, g, want)
		}
	}
	tashkent := []string{"urn:test:e2e:tashkent-water@1:new", "urn:test:e2e:tashkent-water@2:update"}
	check(l.names.Region("UZ"), tashkent...)
	check(l.names.Region("143"), tashkent...)
	check(l.names.Region("KE"), "urn:test:e2e:nairobi-rates@1:new")
	check(l.names.Topic("15000000"), "urn:test:e2e:melbourne-final@1:new")
	if g := got(l.names.Region("TR")); len(g) != 1 || !strings.HasPrefix(g[0], ingestURIPrefix) {
		t.Errorf("TR received %v, want the plain-text story with a content uri", g)
	}
	if n := len(got(l.names.OutAll())); n != 5 {
		t.Errorf("out.all carried %d stories, want 5", n)
	}
	// Stored notifications: one per node per story in the output stream;
	// live ones: none stored.
	wantUZ := uint64(2)
	if liveNodes {
		wantUZ = 0
	}
	if n := pipelinetest.StreamMsgs(t, l.js, l.names.OutStream(), l.names.Region("UZ")); n != wantUZ {
		t.Errorf("output stream holds %d UZ notifications, want %d", n, wantUZ)
	}
	// A reader of a region's history gets the same stories either way.
	var history []string
	err = pipeline.Subscribe(ctx, l.js, pipeline.SubscribeConfig{Names: l.names, Subject: l.names.Region("143"), FromStart: true}, func(d pipeline.Delivery) error {
		history = append(history, d.Story.URI+"@"+d.Story.Version+":"+d.Story.Dedupe.Status)
		if len(history) == len(tashkent) {
			return pipeline.ErrStop
		}
		return nil
	})
	if err != nil || strings.Join(history, " ") != strings.Join(tashkent, " ") {
		t.Errorf("history of region 143: %v (err %v), want %v", history, err, tashkent)
	}

	// The exact resend is kept on the audit subject.
	audit, err := l.js.Stream(ctx, l.names.AuditStream())
	if err != nil {
		t.Fatal(err)
	}
	am, err := audit.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if as, err := proto.UnmarshalJSON(am.Data); err != nil || am.Subject != l.names.Audit("duplicate") || as.URI != "urn:test:e2e:tashkent-water" {
		t.Errorf("audit message %s %v", am.Subject, err)
	}

	// Each bad input is dead-lettered by the ingest stage with its reason and origin.
	dlq, err := l.js.Stream(ctx, l.names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != l.names.DLQ("ingest") || m.Header.Get(proto.HeaderErrorKind) != "permanent" || m.Header.Get(proto.HeaderStage) != "ingest" {
			t.Errorf("dead letter %d: subject %s headers %v", seq, m.Subject, m.Header)
		}
		reasons[m.Header.Get(proto.HeaderOrigin)] = m.Header.Get(proto.HeaderError)
	}
	for origin, want := range map[string]string{"feed.jsonl:3": "invalid JSON", "feed.jsonl:4": "empty body", "resend.jsonl:2": "pubstatus"} {
		if !strings.Contains(reasons[origin], want) {
			t.Errorf("dead letter for %s: reason %q, want it to mention %q", origin, reasons[origin], want)
		}
	}
}

const ingestURIPrefix = "urn:wirestream:sha256:"

// ingestPhases ingests testdata/e2e in the order its README gives, one file
// at a time, waiting until each has gone through the pipeline: stages work
// concurrently, so a resend and an update ingested together could reach
// dedupe in either order. It returns the ingest report (rejections).
func ingestPhases(t *testing.T, js jetstream.JetStream, names proto.Names, source string) string {
	t.Helper()
	ctx := pipelinetest.Context(t, 120*time.Second)
	var report bytes.Buffer
	total := app.IngestResult{}
	phases := []struct {
		files          []string
		out, audit, dl uint64 // totals once the phase is through
	}{
		{[]string{"feed.jsonl"}, 3, 0, 2},
		{[]string{"resend.jsonl"}, 3, 1, 3},
		{[]string{"update.jsonl", "wire.txt"}, 5, 1, 3},
	}
	for _, ph := range phases {
		res, err := app.IngestFiles(ctx, js, app.IngestConfig{Names: names, Source: source}, openTestdata(t, ph.files...), &report)
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
