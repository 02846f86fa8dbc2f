package dedupe

import (
	"testing"
	"unicode"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// The fast path of add for typographic punctuation decides as the general
// path would: none of these runes is an apostrophe, a format character, a
// combining mark, a full-width form, folded, a letter or a digit, so the
// general path would close the current word too.
func TestTypographicSeparators(t *testing.T) {
	n := 0
	for r := rune(0x80); r < 0x3000; r++ {
		if !isTypographic(r) {
			continue
		}
		n++
		_, folded := textkit.FoldRune(r)
		_, foldedLower := textkit.FoldRune(unicode.ToLower(r))
		if r == '\u2019' || r == '\u2018' || r == '\u02bc' || r == '\u00ad' || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r) ||
			r >= 0xFF01 && r <= 0xFF5E || folded || foldedLower || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			t.Errorf("%U is not a plain separator for add", r)
		}
	}
	if n < 20 {
		t.Fatalf("only %d typographic runes", n)
	}
	// And end to end: quotes and dashes split words exactly like spaces.
	got := Normalize("“Quoted”—text…and «more» here\u00a0now")
	want := []string{"quoted", "text", "and", "more", "here", "now"}
	if len(got) != len(want) {
		t.Fatalf("Normalize = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Normalize = %q, want %q", got, want)
		}
	}
}
