package tag_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag"
)

// languageStory is about 6 KB of one language's labelled stories (tune
// split) behind the first one's dateline, in ninjs as the tag stage gets it
// (language unset, so detection runs too).
func languageStory(tb testing.TB, lang string) *proto.Story {
	tb.Helper()
	var b strings.Builder
	var bodies []string
	if lang == "en" {
		for _, raw := range readEnglishBodies(tb) {
			bodies = append(bodies, raw)
		}
	} else {
		for _, l := range readLangStories(tb) {
			if l.Lang == lang && l.Split == "tune" {
				bodies = append(bodies, l.Body)
			}
		}
	}
	for b.Len() < 6000 {
		for _, body := range bodies {
			if b.Len() >= 6000 {
				break
			}
			if b.Len() > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(body)
		}
	}
	return &proto.Story{URI: "bench:" + lang, Headline: "Bench " + lang, BodyText: b.String()}
}

// readEnglishBodies returns the bodies of the labelled English stories.
func readEnglishBodies(tb testing.TB) []string {
	tb.Helper()
	f, err := os.ReadFile(filepath.Join("..", "..", "testdata", "geo", "stories.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(f)), "\n") {
		var l struct{ Body string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			tb.Fatal(err)
		}
		out = append(out, l.Body)
	}
	return out
}

// BenchmarkTagLanguage runs the whole tag stage (detection, region and
// topic tagging) on a 6 KB story of each language, English included for
// comparison (bodies of the labelled stories of each language, joined).
func BenchmarkTagLanguage(b *testing.B) {
	st, err := tag.New()
	if err != nil {
		b.Fatal(err)
	}
	for _, lang := range []string{"en", "fr", "es", "de"} {
		b.Run(lang, func(b *testing.B) {
			base := languageStory(b, lang)
			b.SetBytes(int64(len(base.BodyText)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				s := *base
				if _, err := st.Handle(context.Background(), &s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
