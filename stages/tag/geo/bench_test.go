package geo_test

import (
	"runtime"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

// benchStory is a 6 KB story made of the labelled bodies, behind an AP dateline.
func benchStory(b *testing.B) *proto.Story {
	b.Helper()
	var sb strings.Builder
	sb.WriteString("SAMARKAND, Uzbekistan (AP) — ")
	for _, l := range readLabelled(b) {
		if sb.Len() >= 6<<10 {
			break
		}
		body := l.Body
		if _, after, ok := strings.Cut(body, " — "); ok {
			body = after
		} else if _, after, ok := strings.Cut(body, " - "); ok {
			body = after
		}
		sb.WriteString(body)
		sb.WriteString("\n\n")
	}
	body := sb.String()
	if len(body) > 6<<10 {
		body = body[:6<<10]
	}
	return &proto.Story{URI: "bench", Headline: "Central Asian leaders meet Putin and Xi in Samarkand", BodyText: body}
}

func BenchmarkTag(b *testing.B) {
	p := geo.New(loadGazetteer(b))
	s := benchStory(b)
	b.SetBytes(int64(len(s.BodyText)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(p.Tag(s)) == 0 {
			b.Fatal("no places")
		}
	}
}

func BenchmarkTagParallel(b *testing.B) {
	p := geo.New(loadGazetteer(b))
	s := benchStory(b)
	b.SetBytes(int64(len(s.BodyText)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Tag(s)
		}
	})
}

func BenchmarkExplain(b *testing.B) {
	p := geo.New(loadGazetteer(b))
	s := benchStory(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Explain(s)
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	var live uint64
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
}
