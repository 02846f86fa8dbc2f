package pipeline_test

import (
	"context"
	"fmt"
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
// storage: a 6 KB story on 3 countries, 2 M49 regions... 11 nodes in all.
// It reports stories/s and the bytes the output stream stores per story.
//
//	go test ./pipeline -run XXX -bench FanOut -benchtime 3000x -count 5
func BenchmarkFanOut(b *testing.B) {
	outputs := map[string]func(n proto.Names) pipeline.Output{
		"claim-check": func(n proto.Names) pipeline.Output { return pipeline.FanOut(n.OutStream(), n.OutAll(), elevenNodes(n)) },
		"full-copies": func(n proto.Names) pipeline.Output { return pipeline.FanOutCopies(n.OutAll(), elevenNodes(n)) },
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
			body := strings.Repeat("Leaders met on the sidelines of the summit to discuss trade and security. ", 90)[:6000]
			// Fill the input first, so the stage runs flat out.
			for i := 0; i < b.N; i++ {
				st := &proto.Story{URI: fmt.Sprintf("urn:bench:%d", i), Version: "1", Headline: "Summit", BodyText: body, IngestSeq: uint64(i + 1)}
				data, _ := proto.MarshalProto(st)
				m := nats.NewMsg(cfg.Subject)
				m.Data = data
				m.Header.Set(proto.HeaderEncoding, string(proto.EncodingProto))
				if _, err := js.PublishMsgAsync(m); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
			stage, err := pipeline.NewStage(js, cfg, pipeline.HandlerFunc(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
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
			for stage.Stats().Processed < int64(b.N) {
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			str, _ := js.Stream(ctx, names.OutStream())
			info, _ := str.Info(ctx)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "stories/s")
			b.ReportMetric(float64(info.State.Bytes)/float64(b.N), "stored-B/story")
			_ = nc
		})
	}
}

// elevenNodes: 3 countries, their 4 M49 regions, 2 topics and 2 parents.
func elevenNodes(n proto.Names) func(*proto.Story) []string {
	nodes := []string{n.Region("UZ"), n.Region("KZ"), n.Region("RU"), n.Region("143"), n.Region("142"), n.Region("151"),
		n.Region("150"), n.Topic("11000000"), n.Topic("11001000"), n.Topic("16000000"), n.Topic("16001000")}
	return func(*proto.Story) []string { return nodes }
}
