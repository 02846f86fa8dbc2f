package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold is the lookup key of a name: lower case, diacritics removed, curly
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
		if d, ok := deaccent[unicode.ToLower(r)]; ok {
			b.WriteString(d)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	k := strings.TrimRight(b.String(), " ")
	if strings.HasPrefix(k, "saint ") {
		k = "st " + k[len("saint "):]
	} else if strings.HasPrefix(k, "sainte ") {
		k = "ste " + k[len("sainte "):]
	}
	return k
}

// deaccented returns s with Latin diacritics removed, keeping case, or s
// itself when it has none.
func deaccented(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		lr := unicode.ToLower(r)
		d, ok := deaccent[lr]
		if !ok {
			b.WriteRune(r)
			continue
		}
		if lr != r && d != "'" {
			d = strings.ToUpper(d[:1]) + d[1:]
		}
		b.WriteString(d)
	}
	return b.String()
}

var deaccent = func() map[rune]string {
	m := map[rune]string{}
	for _, p := range []struct{ from, to string }{
		{"àáâãäåāăą", "a"}, {"çćčĉċ", "c"}, {"ďđ", "d"}, {"èéêëēĕėęě", "e"},
		{"ĝğġģ", "g"}, {"ĥħ", "h"}, {"ìíîïĩīĭįı", "i"}, {"ĵ", "j"}, {"ķ", "k"},
		{"ĺļľŀł", "l"}, {"ñńņňŉ", "n"}, {"òóôõöøōŏő", "o"}, {"ŕŗř", "r"},
		{"śŝşšș", "s"}, {"ţťŧț", "t"}, {"ùúûüũūŭůűų", "u"}, {"ŵ", "w"},
		{"ýÿŷ", "y"}, {"źżž", "z"}, {"\u2019\u2018\u02bb\u02bc", "'"},
	} {
		for _, r := range p.from {
			m[r] = p.to
		}
	}
	m['ß'] = "ss"
	m['æ'] = "ae"
	m['œ'] = "oe"
	m['þ'] = "th"
	m['ð'] = "d"
	return m
}()
