package wiring_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
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

func deps(js jetstream.JetStream) wiring.Deps {
	return wiring.Deps{Config: wiring.Config{Names: proto.Live(), Data: new(wiring.Data)}, JS: js}
}

// Every stage of the table passes the runtime conformance suite: the raw
// stage on raw input, the story stages on stories.
func TestConformance(t *testing.T) {
	var raw [][]byte
	for _, s := range conformanceStories() {
		b, err := proto.MarshalJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	raw = append(raw, []byte("date 2024-04-03 ANKARA, Turkey (AP) — Parliament approved a budget on Wednesday."))
	for _, spec := range wiring.Stages() {
		t.Run(spec.Name, func(t *testing.T) {
			c := pipelinetest.ConformanceCase{}
			if spec.NewRaw != nil {
				c.Raw = raw
				c.NewRaw = func(t testing.TB, js jetstream.JetStream) pipeline.RawHandler {
					h, err := spec.NewRaw(ctxFor(t), deps(js))
					if err != nil {
						t.Fatal(err)
					}
					return h
				}
			} else {
				c.Stories = conformanceStories()
				c.New = func(t testing.TB, js jetstream.JetStream) pipeline.Handler {
					h, err := spec.New(ctxFor(t), deps(js))
					if err != nil {
						t.Fatal(err)
					}
					return h
				}
			}
			pipelinetest.RunConformance(t, c)
		})
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
