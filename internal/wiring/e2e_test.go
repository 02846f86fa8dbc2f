package wiring_test

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

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
// nats.go subscription on a region or topic subject, whose message body is
// the full story (by default), or with the claim check a notification and
// then a direct get of the full story it points to. With live node messages
// (StreamsConfig.LiveNodes) the plain subscriber sees the same, the output
// stream holds only the full stories, and pipeline.Subscribe still reads a
// region's history.
func TestEndToEnd(t *testing.T) {
	t.Run("stored", func(t *testing.T) { testEndToEnd(t, false, false) })
	t.Run("live", func(t *testing.T) { testEndToEnd(t, true, false) })
	t.Run("stored-claim-check", func(t *testing.T) { testEndToEnd(t, false, true) })
}

func testEndToEnd(t *testing.T, liveNodes, claim bool) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{LiveNodes: liveNodes, ClaimCheck: claim}, nil)
	subs := map[string]*collector{}
	for _, subj := range []string{l.Names.Region("UZ"), l.Names.Region("143"), l.Names.Region("KE"), l.Names.Region("TR"),
		l.Names.Topic("15000000"), l.Names.OutAll()} {
		c := &collector{}
		if _, err := l.NC.Subscribe(subj, c.add); err != nil {
			t.Fatal(err)
		}
		subs[subj] = c
	}
	if err := l.NC.Flush(); err != nil {
		t.Fatal(err)
	}

	ctx := pipelinetest.Context(t, 120*time.Second)
	report := wiringtest.IngestPhases(t, l.JS, l.Names, "e2e")
	for _, want := range []string{"feed.jsonl:3: rejected: ingest: invalid JSON", "feed.jsonl:4: rejected: ingest: empty body", "resend.jsonl:2: rejected: ingest: invalid story"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	all := subs[l.Names.OutAll()]
	pipelinetest.Eventually(t, 30*time.Second, func() bool { return all.len() >= 5 }, "%d stories seen on out.all", all.len)
	time.Sleep(200 * time.Millisecond) // let any wrong extra message arrive before counting

	stream, err := l.JS.Stream(ctx, l.Names.OutStream())
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(m *nats.Msg) *proto.Story {
		t.Helper()
		if m.Header.Get(proto.HeaderStatus) == "" || m.Header.Get(proto.HeaderNodes) == "" {
			t.Errorf("node message on %s without Ws-Status or Ws-Nodes: %v", m.Subject, m.Header)
		}
		if !claim {
			if len(m.Data) == 0 || m.Header.Get(proto.HeaderStorySeq) != "" {
				t.Fatalf("node message on %s: %d body bytes, headers %v; want the full story", m.Subject, len(m.Data), m.Header)
			}
			s, err := proto.UnmarshalJSON(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		if len(m.Data) != 0 {
			t.Fatalf("claim-check notification on %s with a %d-byte body", m.Subject, len(m.Data))
		}
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
			if subj == l.Names.OutAll() {
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
	check(l.Names.Region("UZ"), tashkent...)
	check(l.Names.Region("143"), tashkent...)
	check(l.Names.Region("KE"), "urn:test:e2e:nairobi-rates@1:new")
	check(l.Names.Topic("15000000"), "urn:test:e2e:melbourne-final@1:new")
	if g := got(l.Names.Region("TR")); len(g) != 1 || !strings.HasPrefix(g[0], ingestURIPrefix) {
		t.Errorf("TR received %v, want the plain-text story with a content uri", g)
	}
	if n := len(got(l.Names.OutAll())); n != 5 {
		t.Errorf("out.all carried %d stories, want 5", n)
	}
	// Stored notifications: one per node per story in the output stream;
	// live ones: none stored.
	wantUZ := uint64(2)
	if liveNodes {
		wantUZ = 0
	}
	if n := pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.Region("UZ")); n != wantUZ {
		t.Errorf("output stream holds %d UZ notifications, want %d", n, wantUZ)
	}
	// A reader of a region's history gets the same stories either way.
	var history []string
	err = pipeline.Subscribe(ctx, l.JS, pipeline.SubscribeConfig{Names: l.Names, Subject: l.Names.Region("143"), FromStart: true}, func(d pipeline.Delivery) error {
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
	audit, err := l.JS.Stream(ctx, l.Names.AuditStream())
	if err != nil {
		t.Fatal(err)
	}
	am, err := audit.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if as, err := proto.UnmarshalJSON(am.Data); err != nil || am.Subject != l.Names.Audit("duplicate") || as.URI != "urn:test:e2e:tashkent-water" {
		t.Errorf("audit message %s %v", am.Subject, err)
	}

	// Each bad input is dead-lettered by the ingest stage with its reason and origin.
	dlq, err := l.JS.Stream(ctx, l.Names.DLQStream())
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := dlq.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != l.Names.DLQ("ingest") || m.Header.Get(proto.HeaderErrorKind) != "permanent" || m.Header.Get(proto.HeaderStage) != "ingest" {
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
