package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
// full story, even when the publishing stage sees inputs twice.
func TestFanOutSubscribe(t *testing.T) {
	f := newFixture(t)
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
	if kz := pipelinetest.StreamMsgs(t, f.js, f.names.OutStream(), f.names.Region("KZ")); kz != n/2 {
		t.Errorf("KZ node holds %d notifications, want %d", kz, n/2)
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
