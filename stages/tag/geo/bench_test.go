package geo_test

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

// manyPlacesStory is 6 KB of labelled bodies (datelines cut off) behind
// one AP dateline, chosen for the most countries per byte: each next body
// is the one whose gold countries not yet in the story are the most per
// byte (ties: the first in the file). Choosing by the gold labels, not by
// the tagger, keeps the input the same when the rules change.
func manyPlacesStory(tb testing.TB) *proto.Story {
	tb.Helper()
	type body struct {
		text string
		want []string
	}
	var bodies []body
	for _, l := range readLabelled(tb) {
		text := l.Body
		if _, after, ok := strings.Cut(text, " — "); ok {
			text = after
		} else if _, after, ok := strings.Cut(text, " - "); ok {
			text = after
		}
		bodies = append(bodies, body{text, l.Want})
	}
	var sb strings.Builder
	sb.WriteString("SAMARKAND, Uzbekistan (AP) — ")
	have := map[string]bool{}
	used := make([]bool, len(bodies))
	for sb.Len() < 6<<10 {
		best, bestScore := -1, 0.0
		for i, bd := range bodies {
			if used[i] {
				continue
			}
			n := 0
			for _, c := range bd.want {
				if !have[c] {
					n++
				}
			}
			if score := float64(n) / float64(len(bd.text)+2); score > bestScore {
				best, bestScore = i, score
			}
		}
		if best < 0 {
			break // no body adds a country
		}
		used[best] = true
		for _, c := range bodies[best].want {
			have[c] = true
		}
		sb.WriteString(bodies[best].text)
		sb.WriteString("\n\n")
	}
	text := sb.String()
	if len(text) > 6<<10 {
		text = text[:6<<10]
	}
	for !utf8.ValidString(text) {
		text = text[:len(text)-1]
	}
	return &proto.Story{URI: "bench", Headline: "Central Asian leaders meet Putin and Xi in Samarkand", BodyText: text}
}

// placeCounts is how many countries and M49 regions p tags in s.
func placeCounts(p *geo.Parser, s *proto.Story) (countries, regions int) {
	for _, pl := range p.Tag(s) {
		switch pl.Scheme {
		case proto.SchemeCountry:
			countries++
		case proto.SchemeM49:
			regions++
		}
	}
	return countries, regions
}

// BenchmarkTag tags a realistic 6 KB single-topic story (an EU summit
// report): 37 places, 28 countries and 9 M49 regions (places/op,
// countries/op and regions/op report them). cpu-ns/op is process CPU
// time per op, which other processes on the machine do not inflate.
func BenchmarkTag(b *testing.B) {
	benchTag(b, ingested(realisticStory(b)))
}

// BenchmarkTagManyPlaces tags 6 KB of labelled stories chosen for the most
// countries (manyPlacesStory): 118 places, 91 countries and 27 M49
// regions, a worst case for scoring and sorting.
func BenchmarkTagManyPlaces(b *testing.B) {
	benchTag(b, ingested(manyPlacesStory(b)))
}

func benchTag(b *testing.B, s *proto.Story) {
	p := geo.New(loadGazetteer(b))
	b.SetBytes(int64(len(s.BodyText)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNanos()
	places := 0
	for i := 0; i < b.N; i++ {
		n := len(p.Tag(s))
		if n == 0 {
			b.Fatal("no places")
		}
		places += n
	}
	b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
	b.StopTimer()
	reportPlaces(b, p, s, places)
}

// reportPlaces reports the places tagged per op (total/b.N) and how many
// of them are countries and regions.
func reportPlaces(b *testing.B, p *geo.Parser, s *proto.Story, total int) {
	countries, regions := placeCounts(p, s)
	b.ReportMetric(float64(total)/float64(b.N), "places/op")
	b.ReportMetric(float64(countries), "countries/op")
	b.ReportMetric(float64(regions), "regions/op")
}

// realisticStory is a 6 KB story in the style of a wire summit report,
// written for this benchmark.
func realisticStory(tb testing.TB) *proto.Story {
	tb.Helper()
	paras := []string{
		"BRUSSELS (AP) — European Union leaders agreed early Friday to open membership talks with Ukraine and Moldova, overcoming weeks of resistance from Hungary, whose prime minister left the room before the vote so that the decision could be unanimous.",
		"The breakthrough came after a day of haggling in the Belgian capital, where diplomats from Germany, France and Italy worked to keep the bloc's promise to Kyiv alive as Russian forces pressed attacks in the east of the country.",
		"“This is a victory for Ukraine. A victory for all of Europe,” Ukrainian President Volodymyr Zelenskyy wrote on social media shortly after the announcement. Moldovan President Maia Sandu said her country had waited for this moment for three decades.",
		"Hungarian Prime Minister Viktor Orbán has long argued that Ukraine is not ready to join and that its membership would drain money from farmers in Poland, Hungary and Romania. He said Thursday that he had not changed his view but had chosen not to block the others.",
		"Georgia, which applied at the same time as Ukraine and Moldova, was granted candidate status, a step behind. Leaders said Tbilisi still had to carry out reforms to its courts and electoral law before talks could start.",
		"In Moscow, the Kremlin said the decision would not change the situation on the battlefield. Russian officials have repeatedly warned that closer ties between Kyiv and the West threaten Russia's security.",
		"The leaders failed, however, to agree on a 50 billion euro aid package for Ukraine over the next four years, which Orbán vetoed. Officials said they would try again in January, and several countries, including the Netherlands and Denmark, said they were ready to give money bilaterally if needed.",
		"Washington is watching the European debate closely as President Joe Biden struggles to get more military aid for Ukraine through Congress. U.S. officials have said the money will run out within weeks.",
		"The summit also discussed the war between Israel and Hamas in Gaza, with leaders divided over whether to call for a ceasefire. Spain and Ireland pressed for stronger language, while Austria and the Czech Republic resisted.",
		"Turkey, a candidate for membership since 1999 whose talks have been frozen for years, was not on the agenda. Serbia and other Western Balkan countries have been waiting for years as well, and some of their leaders complained that Ukraine was being moved to the front of the line.",
		"For Ukraine, the opening of talks is mostly symbolic: accession usually takes a decade or more, and every one of the 35 chapters of negotiations must be closed by unanimity. Croatia, the last country to join, in 2013, took eight years from the start of talks.",
		"Still, analysts in Warsaw and Vilnius said the signal mattered. Lithuania and Poland have been among Ukraine's strongest backers, along with Estonia and Latvia, and their leaders said the vote showed that Orbán could be isolated.",
		"European Commission President Ursula von der Leyen said the commission would present a negotiating framework in March. She praised Ukraine for passing laws on national minorities and on lobbying, two of the conditions the commission had set.",
		"Outside the summit building, several hundred Ukrainians living in Belgium waved flags and sang the national anthem as news of the decision spread. Some had traveled from the Netherlands and from Germany to be there.",
		"The leaders are due to meet again on Friday to discuss the budget of the bloc, where divisions between richer northern countries such as Sweden and Finland and poorer members in the south and east are expected to resurface.",
	}
	var sb strings.Builder
	for sb.Len() < 6<<10 {
		for _, p := range paras {
			sb.WriteString(p)
			sb.WriteString("\n\n")
		}
	}
	body := sb.String()[:6<<10]
	for !utf8.ValidString(body) {
		body = body[:len(body)-1]
	}
	return &proto.Story{URI: "bench", Headline: "EU agrees to open membership talks with Ukraine and Moldova", BodyText: body}
}

// BenchmarkTagParallel is BenchmarkTag (the same realistic story, 37
// places) on every core at once: its ns/op against BenchmarkTag's is how
// Tag scales.
func BenchmarkTagParallel(b *testing.B) {
	p := geo.New(loadGazetteer(b))
	s := ingested(realisticStory(b))
	b.SetBytes(int64(len(s.BodyText)))
	b.ReportAllocs()
	b.ResetTimer()
	var places atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			n += len(p.Tag(s))
		}
		places.Add(int64(n))
	})
	b.StopTimer()
	reportPlaces(b, p, s, int(places.Load()))
}

// BenchmarkExplain explains the places of the story BenchmarkTag tags (37
// places, each with its evidence).
func BenchmarkExplain(b *testing.B) {
	p := geo.New(loadGazetteer(b))
	s := ingested(realisticStory(b))
	b.ReportAllocs()
	b.ResetTimer()
	places := 0
	for i := 0; i < b.N; i++ {
		places += len(p.Explain(s))
	}
	b.StopTimer()
	reportPlaces(b, p, s, places)
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	var live uint64
	c0 := cpuNanos()
	for i := 0; i < b.N; i++ {
		g, err := geo.Load()
		if err != nil {
			b.Fatal(err)
		}
		if i == b.N-1 {
			b.StopTimer()
			var before, after runtime.MemStats
			g = nil
			runtime.GC()
			runtime.ReadMemStats(&before)
			g, _ = geo.Load()
			runtime.GC()
			runtime.ReadMemStats(&after)
			live = after.HeapAlloc - before.HeapAlloc
			runtime.KeepAlive(g)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(live)/(1<<20), "live-MB")
	b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
}

// TestBenchStories checks that the benchmark stories still tag what the
// benchmarks' comments say, give or take three countries or regions (a
// rule change that moves them further must update the comments).
func TestBenchStories(t *testing.T) {
	p := geo.New(loadGazetteer(t))
	for _, c := range []struct {
		name               string
		s                  *proto.Story
		countries, regions int
	}{
		{"realistic", ingested(realisticStory(t)), 28, 9},
		{"many-places", ingested(manyPlacesStory(t)), 91, 27},
	} {
		if n := len(c.s.BodyText); n < 6<<10-4 || n > 6<<10 {
			t.Errorf("%s: body is %d bytes, want 6 KB", c.name, n)
		}
		countries, regions := placeCounts(p, c.s)
		t.Logf("%s: %d places, %d countries, %d regions", c.name, countries+regions, countries, regions)
		if countries < c.countries-3 || countries > c.countries+3 || regions < c.regions-3 || regions > c.regions+3 {
			t.Errorf("%s: %d countries and %d regions; the benchmark comments say %d and %d: update them",
				c.name, countries, regions, c.countries, c.regions)
		}
	}
}
