package pipeline_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// The conformance suite run on a trivial stage, so the suite itself is
// exercised where the runtime lives (each real stage runs it in internal/wiring).
func TestConformancePassThrough(t *testing.T) {
	var stories []*proto.Story
	for i := range 5 {
		stories = append(stories, story(i))
	}
	pipelinetest.RunConformance(t, pipelinetest.ConformanceCase{
		New: func(testing.TB, jetstream.JetStream) pipeline.Handler {
			return pipeline.HandlerFunc(func(_ context.Context, s *proto.Story) ([]*proto.Story, error) { return []*proto.Story{s}, nil })
		},
		Stories: stories,
	})
}
