package wiring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/fileingest"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
)

// TestCitySubjects runs stories through every stage and subscribes to a
// city's node subject, both as a JetStream reader (pipeline.Subscribe, what
// tail --city uses) and as a plain core subscriber: each gets exactly the
// stories announced for that city, each once — the one filed from it and
// the one that mentions it among its three most relevant cities — and
// neither the story that does not name it, nor the one where it is only a
// hotel's name, nor the one where it is the fifth mentioned city (listed in
// place[], beyond the bound of city nodes).
func TestCitySubjects(t *testing.T) {
	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	d := new(wiring.Data)
	samarkand, name, err := d.CitySubject(l.Names, "Samarkand")
	if err != nil || samarkand != "ws.out.city.1216265" || !strings.HasPrefix(name, "Samarkand") {
		t.Fatalf("CitySubject(Samarkand) = %q %q %v", samarkand, name, err)
	}
	bukhara, _, err := d.CitySubject(l.Names, "Bukhara, Uzbekistan")
	if err != nil {
		t.Fatal(err)
	}
	live := &collector{}
	if _, err := l.NC.Subscribe(samarkand, live.add); err != nil {
		t.Fatal(err)
	}
	if err := l.NC.Flush(); err != nil {
		t.Fatal(err)
	}

	stories := []map[string]string{
		{"uri": "urn:test:city:filed", "headline": "Leaders meet in Uzbekistan",
			"body_text": "SAMARKAND, Uzbekistan (AP) — Leaders of the Shanghai Cooperation Organization met on Thursday in the ancient city."},
		{"uri": "urn:test:city:mentioned", "headline": "Uzbekistan adds trains",
			"body_text": "TASHKENT, Uzbekistan (AP) — Uzbekistan will add high-speed trains to Samarkand next year, the railway company said."},
		{"uri": "urn:test:city:other", "headline": "Uzbekistan cotton harvest",
			"body_text": "TASHKENT, Uzbekistan (AP) — Uzbekistan's cotton harvest rose 4% this year, the agriculture ministry said, with fields around Namangan leading."},
		{"uri": "urn:test:city:hotel", "headline": "London restaurant opens",
			"body_text": "LONDON (AP) — The Samarkand Restaurant opened in Mayfair on Friday, serving food from Uzbekistan."},
		{"uri": "urn:test:city:fifth", "headline": "Uzbekistan floods",
			"body_text": "TASHKENT, Uzbekistan (AP) — Floods hit Bukhara, Namangan, Andijon and Nukus on Monday.\n\n" +
				"Rescuers in Bukhara, Namangan, Andijon and Nukus searched for survivors. Bukhara, Namangan and Andijon reported damage; Nukus was cut off.\n\n" +
				"Bukhara and Namangan opened shelters. Andijon asked for help. Trains to Samarkand were cancelled."},
	}
	var in bytes.Buffer
	for _, s := range stories {
		b, _ := json.Marshal(s)
		in.Write(append(b, '\n'))
	}
	ctx := pipelinetest.Context(t, 60*time.Second)
	if _, err := fileingest.Files(ctx, l.JS, fileingest.Config{Names: l.Names, Source: "cities"},
		[]fileingest.Input{{Name: "cities.jsonl", R: &in}}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, 30*time.Second, func() bool {
		return pipelinetest.StreamMsgs(t, l.JS, l.Names.OutStream(), l.Names.OutAll()) >= uint64(len(stories))
	}, "stories on out.all")

	// history reads a subject from the start until a quiet deadline and
	// counts deliveries per story.
	history := func(subject string) map[string]int {
		t.Helper()
		got := map[string]int{}
		n := 0
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_ = pipeline.Subscribe(sctx, l.JS, pipeline.SubscribeConfig{Names: l.Names, Subject: subject, FromStart: true}, func(d pipeline.Delivery) error {
			got[d.Story.URI]++
			n++
			return nil // read to the deadline: a wrong extra story is counted too
		})
		return got
	}
	want := map[string]int{"urn:test:city:filed": 1, "urn:test:city:mentioned": 1}
	if got := history(samarkand); !equalCounts(got, want) {
		t.Errorf("%s history: %v, want %v", samarkand, got, want)
	}
	pipelinetest.Eventually(t, 10*time.Second, func() bool { return live.len() >= 2 }, "live notifications")
	time.Sleep(200 * time.Millisecond) // let a wrong extra notification arrive
	liveGot := map[string]int{}
	for _, m := range live.all() {
		liveGot[m.Header.Get(proto.HeaderStoryURI)]++
	}
	if !equalCounts(liveGot, want) {
		t.Errorf("%s core subscriber: %v, want %v", samarkand, liveGot, want)
	}
	// The fifth story lists Samarkand in place[] (beyond the node bound)
	// and is announced for its first mentioned city, Bukhara.
	if got := history(bukhara); !equalCounts(got, map[string]int{"urn:test:city:fifth": 1}) {
		t.Errorf("%s history: %v, want the flood story once", bukhara, got)
	}
	var fifth *proto.Story
	err = pipeline.Subscribe(ctx, l.JS, pipeline.SubscribeConfig{Names: l.Names, FromStart: true}, func(d pipeline.Delivery) error {
		if d.Story.URI == "urn:test:city:fifth" {
			fifth = d.Story
			return pipeline.ErrStop
		}
		return nil
	})
	if err != nil || fifth == nil {
		t.Fatalf("reading the flood story: %v", err)
	}
	found := false
	for _, p := range fifth.Place {
		found = found || (p.Scheme == proto.SchemeGeoNames && p.Code == "1216265")
	}
	if !found {
		t.Errorf("the flood story's places lack Samarkand: %+v", fifth.Place)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
