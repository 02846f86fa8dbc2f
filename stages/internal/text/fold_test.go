package text_test

import (
	"testing"
	"unicode"

	"github.com/wirestream/wirestream/stages/internal/text"
)

func TestFoldRune(t *testing.T) {
	for r, want := range map[rune]string{
		'É': "e", 'é': "e", 'ø': "o", 'Ø': "o", 'ł': "l", 'ğ': "g", 'İ': "i", 'ı': "i", 'ñ': "n",
		'ü': "u", 'Ÿ': "y", 'ſ': "s", 'ð': "d", 'Ð': "d",
		'æ': "ae", 'Æ': "ae", 'œ': "oe", 'ß': "ss", 'þ': "th", 'ĳ': "ij", 'ﬁ': "fi", 'ﬀ': "ff", 'ﬃ': "ffi", 'ﬆ': "st",
	} {
		if got, ok := text.FoldRune(r); !ok || got != want {
			t.Errorf("FoldRune(%q) = %q, %v; want %q", r, got, ok, want)
		}
	}
	for _, r := range []rune{'a', 'Z', '0', ' ', '×', '÷', 'ж', 'Ж', 'α', '東', '’', 0xFB07, 0xBF, 0x180} {
		if got, ok := text.FoldRune(r); ok {
			t.Errorf("FoldRune(%q) = %q, want not folded", r, got)
		}
	}
	// Everything folded is lower-case ASCII letters, and only letters fold.
	for r := rune(0); r < 0x10000; r++ {
		f, ok := text.FoldRune(r)
		if !ok {
			continue
		}
		if !unicode.IsLetter(r) || f == "" {
			t.Errorf("FoldRune(%U) = %q for a non-letter", r, f)
		}
		for i := 0; i < len(f); i++ {
			if f[i] < 'a' || f[i] > 'z' {
				t.Errorf("FoldRune(%U) = %q is not lower-case ASCII", r, f)
			}
		}
	}
}

func TestDeaccent(t *testing.T) {
	for given, want := range map[string]string{
		"Zürich":        "Zurich",
		"ÉCOLE":         "ECOLE",
		"Æsir":          "Aesir",
		"São Tomé":      "Sao Tome",
		"Côte d’Ivoire": "Cote d’Ivoire",
		"Plain":         "Plain",
		"Москва":        "Москва",
		"Straße ﬁnale":  "Strasse finale",
		"Łódź, Poland":  "Lodz, Poland",
		"":              "",
	} {
		if got := text.Deaccent(given); got != want {
			t.Errorf("Deaccent(%q) = %q, want %q", given, got, want)
		}
	}
}
