package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// fold is the lookup key of a name: lower case, diacritics and ligatures
// folded (textkit.FoldRune, the fold of dedupe and the topic tokenizer), curly
// apostrophes straightened, periods dropped, hyphens read as spaces,
// "saint"/"st" unified and runs of spaces collapsed. "ST. LOUIS", "Saint Louis" and "St Louis" share a key.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // suppress leading spaces
	for _, r := range s {
		switch {
		case r == '.':
			continue
		case r == '\u2019' || r == '\u2018' || r == '`' || r == '\u02bb' || r == '\u02bc':
			r = '\''
		case r == ' ' || r == '\t' || r == '\n' || r == '\u00a0' || r == '-':
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
			continue
		}
		lr := unicode.ToLower(r)
		if f, ok := textkit.FoldRune(lr); ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(lr)
	}
	k := strings.TrimRight(b.String(), " ")
	if strings.HasPrefix(k, "saint ") {
		k = "st " + k[len("saint "):]
	} else if strings.HasPrefix(k, "sainte ") {
		k = "ste " + k[len("sainte "):]
	}
	return k
}

// deaccented returns s with Latin diacritics and ligatures folded
// (textkit.Deaccent, keeping case) and curly apostrophes straightened, or s
// itself when it has neither.
func deaccented(s string) string {
	return apostrophes.Replace(textkit.Deaccent(s))
}

var apostrophes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02bb", "'", "\u02bc", "'")
