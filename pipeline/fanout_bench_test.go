package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// BenchmarkFanOut compares the two ways to announce a story on its nodes,
// through the real publish stage runtime on an embedded server with file
// storage: a 6 KB story as the tag stage leaves it, with 3 countries, their
// 4 M49 regions and 2 topics with their 2 parents (fanOutStory), so 11
// nodes, taken from its places and subjects as the publish stage takes
// them. It reports stories/s, the nodes per story and the bytes the output
// stream stores per story.
//
//	go test ./pipeline -run XXX -bench FanOut -benchtime 3000x -count 5
func BenchmarkFanOut(b *testing.B) {
	outputs := map[string]func(n proto.Names) pipeline.Output{
		"claim-check": func(n proto.Names) pipeline.Output { return pipeline.FanOut(n.OutStream(), n.OutAll(), storyNodes(n)) },
		"full-copies": func(n proto.Names) pipeline.Output { return pipeline.FanOutCopies(n.OutAll(), storyNodes(n)) },
	}
	for _, name := range []string{"claim-check", "full-copies"} {
		b.Run(name, func(b *testing.B) {
			s := pipelinetest.StartServer(b)
			nc, js := pipelinetest.Connect(b, s)
			names := proto.Live()
			ctx := context.Background()
			if err := pipeline.EnsureStreams(ctx, js, names, pipeline.StreamsConfig{}); err != nil {
				b.Fatal(err)
			}
			cfg := pipeline.StageConfig{Name: "publish", Stream: names.WorkStream(), Subject: names.Work("tag"), DeadLetter: names.DLQ("publish")}
			cfg.Output = outputs[name](names)
			cfg.Workers = 8
			nodes := len(storyNodes(names)(fanOutStory(0)))
			if nodes != 11 {
				b.Fatalf("the story is on %d nodes, want 11", nodes)
			}
			// Fill the input first, so the stage runs flat out.
			for i := 0; i < b.N; i++ {
				data, err := proto.MarshalProto(fanOutStory(i))
				if err != nil {
					b.Fatal(err)
				}
				m := nats.NewMsg(cfg.Subject)
				m.Data = data
				m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
				if _, err := js.PublishMsgAsync(m); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
			// The publish stage's Handle: validate, pass on.
			stage, err := pipeline.NewStage(js, cfg, pipeline.HandlerFunc(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
				if err := s.Validate(); err != nil {
					return nil, proto.Permanent(err)
				}
				return []*proto.Story{s}, nil
			}), nil)
			if err != nil {
				b.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- stage.Run(runCtx) }()
			for st := stage.Stats(); st.Processed < int64(b.N); st = stage.Stats() {
				if st.Errors > 0 || st.DeadLettered > 0 {
					cancel()
					b.Fatalf("stage failed: %+v", st)
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			str, err := js.Stream(ctx, names.OutStream())
			if err != nil {
				b.Fatal(err)
			}
			info, err := str.Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if info.State.Msgs != uint64(b.N*(1+nodes)) {
				b.Fatalf("output stream holds %d messages, want %d (%d stories on 1+%d subjects)", info.State.Msgs, b.N*(1+nodes), b.N, nodes)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "stories/s")
			b.ReportMetric(float64(nodes), "nodes/story")
			b.ReportMetric(float64(info.State.Bytes)/float64(b.N), "stored-B/story")
			_ = nc
		})
	}
}

// fanOutStory is story i as the publish stage receives it: a 6 KB body, a
// dedupe decision, 3 countries (one located) with their 4 M49 regions
// (Central Asia and Asia, Eastern Europe and Europe) and 2 Media Topics
// with their 2 parents.
func fanOutStory(i int) *proto.Story {
	body := strings.Repeat("Leaders met on the sidelines of the summit to discuss trade and security. ", 90)[:6000]
	place := func(code, scheme, rel string) *proto.Place {
		return &proto.Place{Code: code, Scheme: scheme, Rel: rel, Relevance: 50}
	}
	subject := func(code string) *proto.Subject {
		return &proto.Subject{Scheme: proto.SchemeMedTop, Code: proto.SchemeMedTop + ":" + code, Relevance: 50}
	}
	return &proto.Story{URI: fmt.Sprintf("urn:bench:%d", i), Version: "1", IngestSeq: uint64(i + 1),
		Headline: "Central Asian leaders meet Putin and Xi in Samarkand", Located: "SAMARKAND, Uzbekistan",
		BodyText: "SAMARKAND, Uzbekistan (AP) — " + body, PubStatus: proto.PubStatusUsable,
		Dedupe: &proto.Dedupe{Status: proto.DedupeNew},
		Place: []*proto.Place{
			place("UZ", proto.SchemeCountry, proto.RelLocated), place("KZ", proto.SchemeCountry, proto.RelMentioned),
			place("RU", proto.SchemeCountry, proto.RelMentioned),
			place("143", proto.SchemeM49, proto.RelLocated), place("142", proto.SchemeM49, proto.RelLocated),
			place("151", proto.SchemeM49, proto.RelMentioned), place("150", proto.SchemeM49, proto.RelMentioned),
		},
		Subject: []*proto.Subject{subject("11000000"), subject("11001000"), subject("16000000"), subject("16001000")},
	}
}

// storyNodes lists a story's node subjects as the publish stage does (one
// per distinct region token of its places, then one per distinct topic
// token of its subjects; package pipeline does not import the stages).
func storyNodes(n proto.Names) func(*proto.Story) []string {
	return func(s *proto.Story) []string {
		var regions, topics []string
		for _, p := range s.Place {
			if t := proto.PlaceToken(p); t != "" {
				regions = append(regions, t)
			}
		}
		for _, sub := range s.Subject {
			if t := proto.SubjectToken(sub); t != "" {
				topics = append(topics, t)
			}
		}
		slices.Sort(regions)
		slices.Sort(topics)
		var out []string
		for _, r := range slices.Compact(regions) {
			out = append(out, n.Region(r))
		}
		for _, t := range slices.Compact(topics) {
			out = append(out, n.Topic(t))
		}
		return out
	}
}
