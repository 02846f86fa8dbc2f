package topic_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/wirestream/wirestream/stages/tag/topic"
)

// FuzzTokenizer checks that the eight-bytes-at-a-time path, the path for
// words at the end of the text and the byte-at-a-time path agree.
func FuzzTokenizer(f *testing.F) {
	f.Add("The quick brown fox, internationalisation and U.S. policy")
	f.Add("x")
	f.Add("abcdefgh abcdefghijklmnop ABCDEFGHIJKLMNOPQRSTUVWX 12345678")
	f.Add("Putin’s war; the court's ruling: café CAFÉ")
	f.Fuzz(func(t *testing.T, s string) {
		// Words do not change with what follows the text.
		a, b := topic.WordHashes(s), topic.WordHashes(s+strings.Repeat(" ", 17))
		if !slices.Equal(a, b) {
			t.Fatalf("hashes depend on the end of the text: %x vs %x", a, b)
		}
		// Nor with what precedes it.
		if c := topic.WordHashes(strings.Repeat(" ", 13) + s); !slices.Equal(a, c) {
			t.Fatalf("hashes depend on the start of the text: %x vs %x", a, c)
		}
		// An ASCII word hashes the same on every path.
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			got := topic.WordHashes(w + strings.Repeat(" ", 9))
			if len(got) != 1 || got[0] != topic.SlowHash(w, true) {
				t.Fatalf("%q: fast hash %x, slow %x", w, got, topic.SlowHash(w, true))
			}
			if tail := topic.WordHashes(w); len(tail) != 1 || tail[0] != got[0] {
				t.Fatalf("%q: tail hash %x, fast %x", w, tail, got)
			}
		}
	})
}

func TestTokenizer(t *testing.T) {
	tests := []struct {
		name string
		a, b string // must give the same word hashes
	}{
		{"case", "Supreme COURT", "supreme court"},
		{"possessive", "Putin’s court's", "putin court"},
		{"dotted abbreviation", "U.S. e.g.", "us eg"},
		{"punctuation", "war, war; war!", "war war war"},
		{"hyphen", "cease-fire", "cease fire"},
		{"non-ASCII letters", "Über Café", "über café"},
		{"accents fold", "Café ZÜRICH São Tomé", "cafe zurich sao tome"},
		{"ligatures fold", "Œuvre straße ﬁnal Æsir", "oeuvre strasse final aesir"},
		{"combining marks fold", "cafe\u0301 Zu\u0308rich", "cafe zurich"},
		{"accent in a long word", "internationalisé", "internationalise"},
		{"long words", "Internationalisation INTERNATIONALISATION", "internationalisation internationalisation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := topic.WordHashes(tt.a), topic.WordHashes(tt.b); !slices.Equal(a, b) {
				t.Fatalf("%q -> %x, %q -> %x", tt.a, a, tt.b, b)
			}
		})
	}
	if n := len(topic.WordHashes("one two, three... four-five")); n != 5 {
		t.Errorf("%d words, want 5", n)
	}
}
