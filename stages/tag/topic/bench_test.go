package topic_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/topic"
)

// story6KB builds a 6 KB story from the labelled set: the first story's
// headline over the bodies of every seventh labelled story, cut at 6 KB.
// That is 15 bodies from 15 different topic groups (arts to weather), a
// collage of many topics rather than one wire story, so Tag scores more
// topics than on most copy: it returns 12 subjects, 4 of them top-level
// (subjects/op and top-level/op report them; TestStory6KB checks them).
func story6KB(t testing.TB) *proto.Story {
	t.Helper()
	stories := readLabelled(t)
	var b strings.Builder
	for i := 0; b.Len() < 6*1024; i = (i + 7) % len(stories) {
		b.WriteString(stories[i].Body)
		b.WriteString("\n\n")
	}
	body := b.String()[:6*1024]
	for !utf8.ValidString(body) {
		body = body[:len(body)-1]
	}
	return &proto.Story{URI: "bench", Headline: stories[0].Headline, Slugline: "BENCH-STORY", BodyText: body}
}

// reportSubjects reports the subjects returned per op (total/b.N) and how
// many of them are top-level topics.
func reportSubjects(b *testing.B, c *topic.Classifier, s *proto.Story, total int) {
	b.ReportMetric(float64(total)/float64(b.N), "subjects/op")
	b.ReportMetric(float64(len(topTokens(c, c.Tag(s)))), "top-level/op")
}

// BenchmarkTag tags story6KB (12 subjects).
func BenchmarkTag(b *testing.B) {
	c := mustLoad(b)
	s := story6KB(b)
	b.SetBytes(int64(len(s.BodyText) + len(s.Headline) + len(s.Slugline)))
	b.ReportAllocs()
	b.ResetTimer()
	subjects := 0
	for i := 0; i < b.N; i++ {
		got := c.Tag(s)
		if got == nil {
			b.Fatal("no topics")
		}
		subjects += len(got)
	}
	b.StopTimer()
	reportSubjects(b, c, s, subjects)
}

// BenchmarkExplain explains the subjects of story6KB (12, each with the
// term hits behind it).
func BenchmarkExplain(b *testing.B) {
	c := mustLoad(b)
	s := story6KB(b)
	b.ReportAllocs()
	b.ResetTimer()
	subjects := 0
	for i := 0; i < b.N; i++ {
		subjects += len(c.Explain(s))
	}
	b.StopTimer()
	reportSubjects(b, c, s, subjects)
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := topic.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStory6KB checks that the benchmark story is what the comments of
// story6KB and the benchmarks say: 6 KB of valid UTF-8, 12 subjects of
// which 4 top-level, give or take a few (a rule change that moves them
// further must update the comments).
func TestStory6KB(t *testing.T) {
	s := story6KB(t)
	if n := len(s.BodyText); n < 6*1024-3 || n > 6*1024 || !utf8.ValidString(s.BodyText) {
		t.Fatalf("body is %d bytes (valid UTF-8: %v), want 6 KB", n, utf8.ValidString(s.BodyText))
	}
	c := mustLoad(t)
	got := c.Tag(s)
	top := topTokens(c, got)
	t.Logf("%d subjects, %d top-level: %v", len(got), len(top), top)
	if len(got) < 9 || len(got) > 15 || len(top) < 3 || len(top) > 5 {
		t.Errorf("benchmark story has %d subjects, %d top-level; the comments say 12 and 4", len(got), len(top))
	}
}
