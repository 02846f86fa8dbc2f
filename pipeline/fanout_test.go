package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// nodesOf lists one node per place and subject code (as stages/publish does).
func nodesOf(n proto.Names) func(s *proto.Story) []string {
	return func(s *proto.Story) []string {
		var out []string
		for _, p := range s.Place {
			out = append(out, n.Region(proto.PlaceToken(p)))
		}
		for _, sub := range s.Subject {
			out = append(out, n.Topic(proto.SubjectToken(sub)))
		}
		return out
	}
}

func tagged(i int) *proto.Story {
	s := story(i)
	s.Place = []*proto.Place{{Scheme: proto.SchemeCountry, Code: "UZ"}, {Scheme: proto.SchemeM49, Code: "143"}}
	if i%2 == 0 {
		s.Place = append(s.Place, &proto.Place{Scheme: proto.SchemeCountry, Code: "KZ"})
	}
	s.Subject = []*proto.Subject{{Scheme: proto.SchemeMedTop, Code: "medtop:11000000"}}
	return s
}

// TestFanOutSubscribe: the publishing stage sees every input twice (a
// real redelivery: the first delivery is held in the handler past AckWait,
// the server delivers the input again, and both deliveries publish), with
// stored notifications (the default) and with live ones
// (StreamsConfig.LiveNodes). Deliveries are counted per story:
//
//   - readers of the output stream through JetStream consumers (Subscribe,
//     which wirestream tail uses, and a durable explicit-ack consumer as
//     nats consumer add makes) get each story exactly once: JetStream
//     stored one copy (the second publish was a duplicate by Nats-Msg-Id);
//   - a plain core NATS subscriber of a node subject (nats sub SUBJECT) gets
//     one notification per handling, so twice here: core delivery happens
//     before the stream drops the duplicate, and a live notification is
//     simply sent again.
//
// Both with full copies on the nodes (the default: the core subscriber's
// message body is the full story) and with claim-check notifications
// (StreamsConfig.ClaimCheck).
func TestFanOutSubscribe(t *testing.T) {
	t.Run("stored", func(t *testing.T) { testFanOutSubscribe(t, false, false) })
	t.Run("live", func(t *testing.T) { testFanOutSubscribe(t, true, false) })
	t.Run("stored-claim-check", func(t *testing.T) { testFanOutSubscribe(t, false, true) })
	t.Run("live-claim-check", func(t *testing.T) { testFanOutSubscribe(t, true, true) })
}

func testFanOutSubscribe(t *testing.T, live, claim bool) {
	const n = 30
	f := newFixtureStreams(t, pipeline.StreamsConfig{LiveNodes: live, ClaimCheck: claim})
	uz := f.names.Region("UZ")
	core := newCoreCounter(t, f.nc, uz)
	cfg := f.stageCfg()
	cfg.Output = pipeline.FanOut(f.names.OutStream(), f.names.OutAll(), nodesOf(f.names))
	cfg.AckWait = time.Second // the minimum: the held first deliveries expire soon
	cfg.Workers = 2 * n       // every story's two deliveries in handlers at once
	twice := newRedeliverEach()
	st, _ := f.run(cfg, twice.wrap(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
		return []*proto.Story{tagged(int(s.IngestSeq) - 1)}, nil
	}))
	f.feed(0, n)
	pipelinetest.Eventually(t, 20*time.Second, func() bool { return f.consumerIdle("ws-test") && twice.total() == st.Stats().Processed },
		"inputs not all handled twice and acknowledged: %+v, %d handlings", st.Stats, twice.total)
	handled := twice.counts()
	for i := range n {
		if c := handled[story(i).URI]; c < 2 {
			t.Fatalf("%s handled %d times, want at least 2 (the test must redeliver every input)", story(i).URI, c)
		}
	}
	if s := st.Stats(); s.Redelivered < n || s.Duplicates < n {
		t.Fatalf("stats %+v: want every input redelivered and its second full-story publish a duplicate", s)
	}

	// JetStream readers of the output stream: exactly once per story.
	for _, sub := range []struct {
		subject string
		want    int
	}{{uz, n}, {f.names.Region("KZ"), n / 2}, {f.names.Topic("11000000"), n}, {f.names.OutAll(), n}} {
		got := f.subscribeCount(sub.subject, sub.want)
		if len(got) != sub.want {
			t.Errorf("Subscribe %s: %d distinct stories, want %d", sub.subject, len(got), sub.want)
		}
		for uri, c := range got {
			if c != 1 {
				t.Errorf("Subscribe %s: %s delivered %d times, want once", sub.subject, uri, c)
			}
		}
	}
	durableSubject := uz // a durable consumer of the node, as nats consumer add --filter makes
	if live {
		durableSubject = f.names.OutAll() // no stored nodes: a durable consumer reads out.all
	}
	durable := f.durableCount(durableSubject, !claim || durableSubject == f.names.OutAll())
	for uri, c := range durable {
		if c != 1 {
			t.Errorf("durable consumer of %s: %s delivered %d times, want once", durableSubject, uri, c)
		}
	}
	if len(durable) != n {
		t.Errorf("durable consumer of %s: %d distinct stories, want %d", durableSubject, len(durable), n)
	}
	// Nothing more than once was stored: n full stories, one notification
	// per story per node (none when live).
	if all := pipelinetest.StreamMsgs(t, f.js, f.names.OutStream(), f.names.OutAll()); all != n {
		t.Errorf("out.all holds %d stories, want %d", all, n)
	}
	wantKZ := uint64(n / 2)
	if live {
		wantKZ = 0
	}
	if kz := pipelinetest.StreamMsgs(t, f.js, f.names.OutStream(), f.names.Region("KZ")); kz != wantKZ {
		t.Errorf("KZ node holds %d notifications, want %d", kz, wantKZ)
	}

	// The core subscriber of UZ: one notification per handling (twice per
	// story here), each pointing at the one stored full story.
	want := 0
	for _, c := range handled {
		want += c
	}
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return core.total() >= want }, "core subscriber of UZ got %d notifications, want %d", core.total, want)
	if r := st.Stats().PublishRetries; r != 0 {
		t.Fatalf("%d publish retries: the core subscriber's count would include them", r)
	}
	for uri, c := range core.counts() {
		if c != handled[uri] {
			t.Errorf("core subscriber of UZ: %s received %d times, handled %d times", uri, c, handled[uri])
		}
	}
	seqs := map[string]string{}
	for _, m := range core.msgs() {
		uri := m.Header.Get(proto.HeaderStoryURI)
		if !claim {
			f.checkCopy(m, uz)
			seqs[uri] = ""
			continue
		}
		seq := m.Header.Get(proto.HeaderStorySeq)
		if prev, ok := seqs[uri]; ok && prev != seq {
			t.Fatalf("%s: notifications point at stories %s and %s, want one stored story", uri, prev, seq)
		}
		seqs[uri] = seq
		f.checkNotification(m, uz)
	}
	t.Logf("%d handlings of %d inputs (%+v); core subscriber of UZ: %d notifications; JetStream readers: one delivery per story", want, n, st.Stats(), core.total())
	if len(seqs) != n {
		t.Errorf("core subscriber of UZ saw %d distinct stories, want %d", len(seqs), n)
	}
}

// checkCopy checks a full copy on a node, as a plain subscriber gets it:
// the whole story in the body, JSON, with its node and filter headers.
func (f *fixture) checkCopy(m *nats.Msg, node string) {
	t := f.t
	t.Helper()
	if m.Header.Get(proto.HeaderStorySeq) != "" {
		t.Fatalf("full copy on %s with a claim-check header: %v", m.Subject, m.Header)
	}
	s, err := proto.UnmarshalJSON(m.Data)
	if err != nil {
		t.Fatalf("node message on %s: body is not a story (%v): %q", m.Subject, err, m.Data)
	}
	var i int
	if _, err := fmt.Sscanf(s.URI, "urn:test:%d", &i); err != nil {
		t.Fatalf("story uri %q: %v", s.URI, err)
	}
	if s.BodyText != "body" || s.Headline != story(i).Headline || m.Header.Get(proto.HeaderStoryURI) != s.URI {
		t.Fatalf("node copy on %s is not the full story: %+v, headers %v", m.Subject, s, m.Header)
	}
	if nodes := m.Header.Get(proto.HeaderNodes); !strings.Contains(nodes, node) {
		t.Fatalf("%s: Ws-Nodes %q lacks %s", s.URI, nodes, node)
	}
	if m.Header.Get(proto.HeaderStatus) != "new" || m.Header.Get(proto.HeaderEncoding) != "json" {
		t.Fatalf("%s: headers %v: want Ws-Status new, Ws-Encoding json", s.URI, m.Header)
	}
}

// checkNotification checks a node notification's headers and that the
// full story it points at is stored and names node in Ws-Nodes.
func (f *fixture) checkNotification(m *nats.Msg, node string) {
	t := f.t
	t.Helper()
	seq, err := strconv.ParseUint(m.Header.Get(proto.HeaderStorySeq), 10, 64)
	if err != nil {
		t.Fatalf("notification without a story seq: %v", m.Header)
	}
	raw, err := f.nc.Request("$JS.API.DIRECT.GET."+f.names.OutStream(), []byte(fmt.Sprintf(`{"seq":%d}`, seq)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if nodes := raw.Header.Get(proto.HeaderNodes); !strings.Contains(nodes, node) {
		t.Fatalf("story %d: Ws-Nodes %q lacks %s", seq, nodes, node)
	}
	uri := m.Header.Get(proto.HeaderStoryURI)
	var i int
	if _, err := fmt.Sscanf(uri, "urn:test:%d", &i); err != nil {
		t.Fatalf("notification with story uri %q: %v", uri, err)
	}
	if got, want := m.Header.Get(proto.HeaderHeadline), story(i).Headline; got != want {
		t.Fatalf("%s: notification headline %q, want %q", uri, got, want)
	}
	if got := m.Header.Get(proto.HeaderStoryStream); got != f.names.OutStream() {
		t.Fatalf("%s: notification names stream %q, want %q", uri, got, f.names.OutStream())
	}
	if got := m.Header.Get(proto.HeaderStoryVersion); got != "1" {
		t.Fatalf("%s: notification version %q", uri, got)
	}
	if len(m.Data) != 0 || m.Header.Get(proto.HeaderStatus) != "new" {
		t.Fatalf("%s: notification with %d body bytes, status %q", uri, len(m.Data), m.Header.Get(proto.HeaderStatus))
	}
}

// subscribeCount reads subject with Subscribe from the start until want
// deliveries and counts them by story uri, checking each is a full story
// delivered on one of its nodes.
func (f *fixture) subscribeCount(subject string, want int) map[string]int {
	t := f.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := map[string]int{}
	total := 0
	err := pipeline.Subscribe(ctx, f.js, pipeline.SubscribeConfig{Names: f.names, Subject: subject, FromStart: true}, func(d pipeline.Delivery) error {
		if d.Story == nil || d.Story.BodyText != "body" || d.Seq == 0 {
			return fmt.Errorf("delivery without the full story: %+v", d)
		}
		if !slices.Contains(nodesOf(f.names)(d.Story), d.Subject) && d.Subject != f.names.OutAll() {
			return fmt.Errorf("%s delivered on %s, which is not one of its nodes", d.Story.URI, d.Subject)
		}
		got[d.Story.URI]++
		if total++; total == want {
			return pipeline.ErrStop
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != want {
		t.Fatalf("Subscribe %s: %d deliveries, want %d", subject, total, want)
	}
	return got
}

// durableCount reads subject of the output stream with a durable pull
// consumer with explicit acks until it has nothing pending, acking each
// delivery, and counts the deliveries by story uri.
func (f *fixture) durableCount(subject string, fullBody bool) map[string]int {
	t := f.t
	t.Helper()
	ctx := pipelinetest.Context(t, 20*time.Second)
	c, err := f.js.CreateConsumer(ctx, f.names.OutStream(), jetstream.ConsumerConfig{
		Durable: "reader", FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for {
		batch, err := c.Fetch(100, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			uri := m.Headers().Get(proto.HeaderStoryURI)
			got[uri]++
			// A full story (ws.out.all, or a node copy by default) in the
			// body; a claim-check notification has none.
			if fullBody {
				s, err := proto.UnmarshalJSON(m.Data())
				if err != nil || s.URI != uri || s.BodyText != "body" {
					t.Fatalf("durable consumer of %s: message %s is not the full story (%v): %q", subject, uri, err, m.Data())
				}
			} else if len(m.Data()) != 0 {
				t.Fatalf("durable consumer of %s: notification %s with a %d-byte body", subject, uri, len(m.Data()))
			}
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return got
		}
	}
}

// redeliverEach makes a stage see every input at least twice, by a real
// redelivery: the first delivery of a story waits in the handler until the
// server, its AckWait expired, has delivered the story again; the second
// releases it, and both return the story's outputs.
type redeliverEach struct {
	mu      sync.Mutex
	handled map[string]int
	again   map[string]chan struct{}
}

func newRedeliverEach() *redeliverEach {
	return &redeliverEach{handled: map[string]int{}, again: map[string]chan struct{}{}}
}

func (r *redeliverEach) wrap(h pipeline.HandlerFunc) pipeline.HandlerFunc {
	return func(ctx context.Context, s *proto.Story) ([]*proto.Story, error) {
		r.mu.Lock()
		r.handled[s.URI]++
		nth := r.handled[s.URI]
		if nth == 1 {
			r.again[s.URI] = make(chan struct{})
		}
		again := r.again[s.URI]
		if nth == 2 {
			close(again)
		}
		r.mu.Unlock()
		if nth == 1 {
			select {
			case <-again:
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(30 * time.Second):
				return nil, errors.New("redeliverEach: the input was not redelivered")
			}
		}
		return h(ctx, s)
	}
}

// counts returns how often each story was handled.
func (r *redeliverEach) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.handled)
}

func (r *redeliverEach) total() int64 {
	var n int64
	for _, c := range r.counts() {
		n += int64(c)
	}
	return n
}

// coreCounter is a plain core NATS subscriber (what nats sub SUBJECT is)
// that keeps every message it receives.
type coreCounter struct {
	mu   sync.Mutex
	recv []*nats.Msg
}

func newCoreCounter(t *testing.T, nc *nats.Conn, subject string) *coreCounter {
	t.Helper()
	c := &coreCounter{}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		c.mu.Lock()
		c.recv = append(c.recv, m)
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *coreCounter) msgs() []*nats.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.recv)
}

func (c *coreCounter) total() int { return len(c.msgs()) }

// counts returns the messages received per story uri.
func (c *coreCounter) counts() map[string]int {
	got := map[string]int{}
	for _, m := range c.msgs() {
		got[m.Header.Get(proto.HeaderStoryURI)]++
	}
	return got
}

func TestSubjectMatches(t *testing.T) {
	for _, c := range []struct {
		filter, subj string
		want         bool
	}{
		{"ws.out.>", "ws.out.region.UZ", true},
		{"ws.out.>", "ws.out", false},
		{"ws.out.all", "ws.out.all", true},
		{"ws.out.all", "ws.out.region.UZ", false},
		{"ws.out.*.UZ", "ws.out.region.UZ", true},
		{"ws.out.*", "ws.out.region.UZ", false},
		{"ws.out.region.*", "ws.out.region", false},
		{">", "a", true},
		{"a.b", "a.b.c", false},
	} {
		if got := pipeline.SubjectMatches(c.filter, c.subj); got != c.want {
			t.Errorf("SubjectMatches(%q, %q) = %v, want %v", c.filter, c.subj, got, c.want)
		}
	}
}

func TestSubscribeMissingStream(t *testing.T) {
	s := pipelinetest.StartServer(t)
	_, js := pipelinetest.Connect(t, s)
	err := pipeline.Subscribe(pipelinetest.Context(t, 5*time.Second), js, pipeline.SubscribeConfig{Names: proto.Live()}, func(pipeline.Delivery) error { return nil })
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a clear error about the missing output stream", err)
	}
}
