package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

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

// Every story reaches a subscriber of each of its nodes exactly once, as a
// full story, even when the publishing stage sees inputs twice: with stored
// notifications (the default) and with live ones (StreamsConfig.LiveNodes),
// where Subscribe reads out.all and filters on Ws-Nodes, and a plain core
// NATS subscriber of a node subject still gets one notification per story.
func TestFanOutSubscribe(t *testing.T) {
	t.Run("stored", func(t *testing.T) { testFanOutSubscribe(t, false) })
	t.Run("live", func(t *testing.T) { testFanOutSubscribe(t, true) })
}

func testFanOutSubscribe(t *testing.T, live bool) {
	f := newFixtureStreams(t, pipeline.StreamsConfig{LiveNodes: live})
	liveUZ := make(chan *nats.Msg, 100)
	sub, err := f.nc.ChanSubscribe(f.names.Region("UZ"), liveUZ)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := f.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	cfg := f.stageCfg()
	cfg.Output = pipeline.FanOut(f.names.OutStream(), f.names.OutAll(), nodesOf(f.names))
	st, _ := f.run(cfg, pipeline.HandlerFunc(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
		return []*proto.Story{tagged(int(s.IngestSeq) - 1)}, nil
	}))
	const n = 30
	f.feed(0, n)
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return st.Stats().Processed == n }, "processed %d", st.Stats().Processed)

	count := func(subject string, want int) map[string]int {
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
			total++
			if total == want {
				return pipeline.ErrStop
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != want {
			t.Fatalf("%s: %d deliveries, want %d", subject, total, want)
		}
		return got
	}
	for uri, c := range count(f.names.Region("UZ"), n) {
		if c != 1 {
			t.Errorf("UZ: %s delivered %d times", uri, c)
		}
	}
	if got := count(f.names.Region("KZ"), n/2); len(got) != n/2 {
		t.Errorf("KZ: %d distinct stories, want %d", len(got), n/2)
	}
	count(f.names.Topic("11000000"), n)
	count(f.names.OutAll(), n)
	// Nothing more than expected was stored: n full stories and 3-4 notifications each.
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
	// The core subscriber of UZ saw every story's notification, pointing at
	// a stored full story whose Ws-Nodes header names UZ.
	seen := map[string]bool{}
	for len(seen) < n {
		select {
		case m := <-liveUZ:
			seq, err := strconv.ParseUint(m.Header.Get(proto.HeaderStorySeq), 10, 64)
			if err != nil {
				t.Fatalf("notification without a story seq: %v", m.Header)
			}
			raw, err := f.js.Conn().Request("$JS.API.DIRECT.GET."+f.names.OutStream(), []byte(fmt.Sprintf(`{"seq":%d}`, seq)), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if nodes := raw.Header.Get(proto.HeaderNodes); !strings.Contains(nodes, f.names.Region("UZ")) {
				t.Fatalf("story %d: Ws-Nodes %q lacks the UZ node", seq, nodes)
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
			seen[uri] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("core subscriber of UZ saw %d of %d stories", len(seen), n)
		}
	}
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
