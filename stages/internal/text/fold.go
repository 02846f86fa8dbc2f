package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// FoldRune returns the lower-case ASCII spelling of r when r is a Latin
// letter with a diacritic ("É", "ø", "ł" → "e", "o", "l"), a Latin ligature
// or special letter ("æ" → "ae", "œ" → "oe", "ß" → "ss", "þ" → "th", "ﬁ" →
// "fi", "ĳ" → "ij"), upper or lower case; ok is false for every other rune,
// plain ASCII included. Callers lower-case what is not folded themselves.
//
// The table is the one dedupe's fingerprints and MinHash signatures are
// computed with: changing an entry changes dedupe's persisted state (see
// stages/dedupe TestStateFormatGolden).
func FoldRune(r rune) (folded string, ok bool) {
	switch {
	case r >= latinLo && r < latinHi:
		f := latinFold[r-latinLo]
		return f, f != ""
	case r >= 0xFB00 && r <= 0xFB06: // ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ
		return ligatureFold[r-0xFB00], true
	}
	return "", false
}

// Deaccent returns s with the letters FoldRune folds replaced by their ASCII
// spelling, keeping the case of a letter's first ASCII letter ("Zürich" → "Zurich",
// "ÉCOLE" → "ECOLE", "Æsir" → "Aesir"); other runes are kept. It returns s itself when nothing folds.
func Deaccent(s string) string {
	i := 0
	for i < len(s) {
		if s[i] >= utf8.RuneSelf {
			r, _ := utf8.DecodeRuneInString(s[i:])
			if _, ok := FoldRune(r); ok {
				break
			}
		}
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		f, ok := FoldRune(r)
		if !ok {
			b.WriteRune(r)
			continue
		}
		if unicode.IsUpper(r) {
			f = strings.ToUpper(f[:1]) + f[1:]
		}
		b.WriteString(f)
	}
	return b.String()
}

const (
	latinLo = 0xC0  // À
	latinHi = 0x180 // end of Latin Extended-A
)

// latinFold is the folding of U+00C0-U+017F; "" means not folded (× and ÷).
var latinFold = func() (t [latinHi - latinLo]string) {
	for _, p := range []struct{ from, to string }{
		{"ÀÁÂÃÄÅàáâãäåĀāĂăĄą", "a"},
		{"ÇçĆćĈĉĊċČč", "c"},
		{"ĎďĐđÐð", "d"},
		{"ÈÉÊËèéêëĒēĔĕĖėĘęĚě", "e"},
		{"ĜĝĞğĠġĢģ", "g"},
		{"ĤĥĦħ", "h"},
		{"ÌÍÎÏìíîïĨĩĪīĬĭĮįİı", "i"},
		{"Ĵĵ", "j"},
		{"Ķķĸ", "k"},
		{"ĹĺĻļĽľĿŀŁł", "l"},
		{"ÑñŃńŅņŇňŉŊŋ", "n"},
		{"ÒÓÔÕÖØòóôõöøŌōŎŏŐő", "o"},
		{"ŔŕŖŗŘř", "r"},
		{"ŚśŜŝŞşŠšſ", "s"},
		{"ŢţŤťŦŧ", "t"},
		{"ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų", "u"},
		{"Ŵŵ", "w"},
		{"ÝýÿŶŷŸ", "y"},
		{"ŹźŻżŽž", "z"},
		{"Ææ", "ae"},
		{"Œœ", "oe"},
		{"ß", "ss"},
		{"Þþ", "th"},
		{"Ĳĳ", "ij"},
	} {
		for _, r := range p.from {
			t[r-latinLo] = p.to
		}
	}
	return t
}()

var ligatureFold = [...]string{"ff", "fi", "fl", "ffi", "ffl", "st", "st"}
