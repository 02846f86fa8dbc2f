package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/app"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

func conformanceStories() []*proto.Story {
	bodies := []string{
		"TASHKENT, Uzbekistan (AP) — Water ministers met on Tuesday to divide the spring flow of the Syr Darya.",
		"NAIROBI, Kenya (AP) — Kenya's central bank raised its benchmark interest rate by half a point.",
		"MELBOURNE, Australia (AP) — Victoria beat New South Wales by six wickets in the cricket final.",
		"LIMA, Peru (AP) — Heavy rain flooded roads in the north of the country, officials said on Monday.",
	}
	var out []*proto.Story
	for i, b := range bodies {
		out = append(out, &proto.Story{URI: "urn:test:conf:" + string(rune('a'+i)), Version: "1", Headline: b[:30], BodyText: b,
			PubStatus: proto.PubStatusUsable, Dedupe: &proto.Dedupe{Status: proto.DedupeNew}})
	}
	return out
}

func stageFactory(name string) func(testing.TB, jetstream.JetStream) any {
	return func(t testing.TB, js jetstream.JetStream) any {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		h, err := app.Handler(ctx, js, name, app.Config{Names: proto.Live()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}

// Every stage of the pipeline passes the runtime conformance suite.
func TestConformanceIngest(t *testing.T) {
	var raw [][]byte
	for _, s := range conformanceStories() {
		b, err := proto.MarshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	raw = append(raw, []byte("date 2024-04-03 ANKARA, Turkey (AP) — Parliament approved a budget on Wednesday."))
	pipelinetest.RunConformance(t, pipelinetest.ConformanceCase{New: stageFactory(proto.StageIngest), Raw: raw})
}

func TestConformanceDedupe(t *testing.T) {
	pipelinetest.RunConformance(t, pipelinetest.ConformanceCase{New: stageFactory(proto.StageDedupe), Stories: conformanceStories()})
}

func TestConformanceTag(t *testing.T) {
	pipelinetest.RunConformance(t, pipelinetest.ConformanceCase{New: stageFactory(proto.StageTag), Stories: conformanceStories()})
}

func TestConformancePublish(t *testing.T) {
	pipelinetest.RunConformance(t, pipelinetest.ConformanceCase{New: stageFactory(proto.StagePublish), Stories: conformanceStories()})
}
