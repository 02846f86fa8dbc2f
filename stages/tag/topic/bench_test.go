package topic_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/topic"
)

// story6KB builds a realistic 6 KB wire story from the labelled set: a
// headline and body paragraphs drawn from several stories.
func story6KB(t testing.TB) *proto.Story {
	t.Helper()
	stories := readLabelled(t)
	var b strings.Builder
	for i := 0; b.Len() < 6*1024; i = (i + 7) % len(stories) {
		b.WriteString(stories[i].Body)
		b.WriteString("\n\n")
	}
	body := b.String()[:6*1024]
	return &proto.Story{URI: "bench", Headline: stories[0].Headline, Slugline: "BENCH-STORY", BodyText: body}
}

func BenchmarkTag(b *testing.B) {
	c := mustLoad(b)
	s := story6KB(b)
	b.SetBytes(int64(len(s.BodyText) + len(s.Headline) + len(s.Slugline)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if c.Tag(s) == nil {
			b.Fatal("no topics")
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	c := mustLoad(b)
	s := story6KB(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Explain(s)
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := topic.Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStory6KBIsRealistic(t *testing.T) {
	s := story6KB(t)
	if n := len(s.BodyText); n != 6*1024 {
		t.Fatalf("body is %d bytes", n)
	}
	if got := mustLoad(t).Tag(s); len(got) == 0 {
		t.Fatal("benchmark story has no topics")
	}
}
