package replay_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/internal/replay"
	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/internal/wiring/wiringtest"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/pipeline/pipelinetest"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/tag"
)

// A gazetteer change (a test fixture: a new place, a country name
// dropped) tried on a replay: diff reports exactly the places each story
// gains and loses, computed here with the tagger itself, and nothing for
// the stories the change does not touch.
func TestDiffReportsGazetteerChange(t *testing.T) {
	const overrides = "place | FR | Gotham   # test fixture: a fictional city filed under France\n" +
		"drop | Kenya   # test fixture: the name no longer tags Kenya\n"
	stories := []string{
		`{"uri":"urn:diff:gotham-1","version":"1","versioncreated":"2024-03-01T10:00:00Z","headline":"Protest in Gotham","body_text":"Thousands marched through Gotham on Sunday, police said."}`,
		`{"uri":"urn:diff:gotham-2","version":"1","versioncreated":"2024-03-01T10:01:00Z","headline":"Gotham votes","body_text":"Voters in Gotham chose a new mayor on Tuesday."}`,
		`{"uri":"urn:diff:kenya","version":"1","versioncreated":"2024-03-01T10:02:00Z","headline":"Kenya drought","body_text":"Kenya asked for food aid as the drought worsened, officials said."}`,
		`{"uri":"urn:diff:both","version":"2","versioncreated":"2024-03-01T10:03:00Z","headline":"Observers","body_text":"Kenya sent observers to the election in Gotham, the ministry said."}`,
		`{"uri":"urn:diff:uz","version":"1","versioncreated":"2024-03-01T10:04:00Z","headline":"Uzbekistan budget","body_text":"Uzbekistan's parliament approved the budget on Monday."}`,
		`{"uri":"urn:diff:jp","version":"1","versioncreated":"2024-03-01T10:05:00Z","headline":"Japan exports","body_text":"Japan's exports rose for a third month, the finance ministry said."}`,
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "archive.jsonl")
	if err := os.WriteFile(archive, []byte(strings.Join(stories, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// What the change does, from the tagger alone.
	want := map[string]replay.Change{}
	parser, _ := ingest.New(ingest.Config{})
	before, err := tag.New()
	if err != nil {
		t.Fatal(err)
	}
	after, err := tag.NewWithOverrides(overrides)
	if err != nil {
		t.Fatal(err)
	}
	places := func(tg *tag.Stage, raw string) map[string]int32 {
		s, err := parser.Parse([]byte(raw), "")
		if err != nil {
			t.Fatal(err)
		}
		out, _ := tg.Handle(context.Background(), s)
		m := map[string]int32{}
		for _, p := range out[0].Place {
			m[p.Scheme+":"+p.Code] = p.Relevance
		}
		return m
	}
	for _, raw := range stories {
		s, _ := parser.Parse([]byte(raw), "")
		b, a := places(before, raw), places(after, raw)
		c := replay.Change{URI: s.URI, Version: s.Version}
		for code, r := range a {
			if rb, ok := b[code]; !ok {
				c.PlacesAdded = append(c.PlacesAdded, code)
			} else if d := r - rb; d >= 10 || d <= -10 {
				c.Relevance = append(c.Relevance, replay.Move{Code: code, From: rb, To: r})
			}
		}
		for code := range b {
			if _, ok := a[code]; !ok {
				c.PlacesRemoved = append(c.PlacesRemoved, code)
			}
		}
		sort.Strings(c.PlacesAdded)
		sort.Strings(c.PlacesRemoved)
		if len(c.PlacesAdded)+len(c.PlacesRemoved)+len(c.Relevance) > 0 {
			want[s.URI] = c
		}
	}
	if len(want) != 4 || !slices.Contains(want["urn:diff:gotham-1"].PlacesAdded, "iso3166-1a2:FR") || !slices.Contains(want["urn:diff:kenya"].PlacesRemoved, "iso3166-1a2:KE") {
		t.Fatalf("the fixture does not change what it should: %+v", want)
	}

	l := wiringtest.Start(t, pipeline.StreamsConfig{}, nil)
	ctx := pipelinetest.Context(t, 120*time.Second)
	shared := new(wiring.Data)
	for _, run := range []struct {
		into string
		data *wiring.Data
	}{{"base", shared}, {"trial", &wiring.Data{GeoOverrides: overrides}}} {
		res, err := replay.Run(ctx, l.JS, replay.Config{Live: l.Names, Into: run.into, Files: []string{archive}, Data: run.data}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Published != uint64(len(stories)) {
			t.Fatalf("replay into %s published %d of %d", run.into, res.Published, len(stories))
		}
	}
	a, _ := proto.Namespace("trial")
	b, _ := proto.Namespace("base")
	got := map[string]replay.Change{}
	calls := 0
	sum, err := replay.Diff(ctx, l.JS, replay.DiffConfig{A: a, B: b}, func(c replay.Change) error {
		calls++
		got[c.URI] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(want) || len(got) != len(want) {
		t.Errorf("diff reported %d changes (%d stories), want %d", calls, len(got), len(want))
	}
	for uri, w := range want {
		g := got[uri]
		if fmt.Sprint(g.PlacesAdded, g.PlacesRemoved, g.Relevance) != fmt.Sprint(w.PlacesAdded, w.PlacesRemoved, w.Relevance) || g.Version != w.Version {
			t.Errorf("%s: diff says %+v, the tagger %+v", uri, g, w)
		}
		if g.Dedupe != nil || len(g.TopicsAdded)+len(g.TopicsRemoved) > 0 || g.Only != "" {
			t.Errorf("%s: changes the fixture does not make: %+v", uri, g)
		}
	}
	if sum.StoriesA != len(stories) || sum.StoriesB != len(stories) || sum.Compared != len(stories) || sum.Changed != len(want) {
		t.Errorf("summary %+v", sum)
	}
	if sum.Gained["iso3166-1a2:FR"] != 3 || sum.Lost["iso3166-1a2:KE"] != 2 || sum.Kinds[replay.KindPlaceAdded] != 3 || sum.Kinds[replay.KindPlaceRemoved] != 2 {
		t.Errorf("summary counts: gained %v lost %v kinds %v", sum.Gained, sum.Lost, sum.Kinds)
	}
	// Against itself: nothing.
	sum, err = replay.Diff(ctx, l.JS, replay.DiffConfig{A: b, B: b}, func(replay.Change) error { t.Error("a change against itself"); return nil })
	if err != nil || sum.Changed != 0 || sum.Compared != len(stories) {
		t.Errorf("base against base: %+v, %v", sum, err)
	}
	list, err := replay.Namespaces(ctx, l.JS, l.Names)
	if err != nil || len(list) != 2 || list[0].Name != "base" || list[1].Name != "trial" || list[0].Published != uint64(len(stories)) || list[0].Bytes == 0 {
		t.Errorf("namespaces: %+v, %v", list, err)
	}
}
