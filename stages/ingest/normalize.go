package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText returns s in Unicode NFC with wire-feed whitespace cleaned:
// CR and CRLF become LF; non-breaking and other Unicode spaces become a plain
// space; zero-width characters and the BOM are removed; runs of horizontal
// space collapse to one; lines are trimmed; more than one blank line between
// paragraphs collapses to one; leading and trailing space is removed.
func NormalizeText(s string) string {
	if s == "" || isNormalized(s) {
		return s
	}
	return normalizeSlow(s)
}

// normalizeSlow is the full pass of NormalizeText.
func normalizeSlow(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false // a horizontal space waits to be written
	newlines := 0         // newlines waiting to be written (at most 2)
	wrote := false        // anything written yet
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				i++
			}
			fallthrough
		case r == '\n' || r == '\u2028' || r == '\u2029' || r == '\f' || r == '\v':
			pendingSpace = false
			if newlines < 2 {
				newlines++
			}
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad' || r == '\u2060':
			// zero-width, BOM and soft hyphen: drop
		case r == ' ' || r == '\t' || r == '\u00a0' || (r > 0x7f && unicode.IsSpace(r)):
			pendingSpace = true
		case r < 0x20 || r == 0x7f:
			// other control characters: drop
		default:
			if wrote {
				switch {
				case newlines > 0:
					b.WriteString("\n\n"[:newlines])
				case pendingSpace:
					b.WriteByte(' ')
				}
			}
			newlines, pendingSpace = 0, false
			b.WriteString(s[i-size : i])
			wrote = true
		}
	}
	// NFC last: dropping a control or zero-width character can bring a
	// combining mark next to its base (found by FuzzNormalizeText).
	out := b.String()
	if !norm.NFC.IsNormalString(out) {
		out = norm.NFC.String(out)
	}
	return out
}

// NormalizeLine is NormalizeText for single-line fields (headline, byline):
// every line break becomes a space.
func NormalizeLine(s string) string {
	s = NormalizeText(s)
	if strings.IndexByte(s, '\n') < 0 {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// isNormalized reports whether NormalizeText would return s unchanged, in
// one pass and without allocating: most wire copy is already clean, and
// normalising 6 KB rune by rune cost more than everything else in ingest.
func isNormalized(s string) bool {
	if s[0] == ' ' || s[0] == '\n' || s[len(s)-1] == ' ' || s[len(s)-1] == '\n' {
		return false
	}
	ascii := true
	newlines := 0
	var prev byte
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				if prev == ' ' {
					return false // trailing space on a line
				}
				newlines++
				if newlines > 2 {
					return false
				}
			case c == ' ':
				if prev == ' ' || prev == '\n' {
					return false // double space, or a line starting with one
				}
				newlines = 0
			case c < 0x20 || c == 0x7f:
				return false // tab, CR, other controls
			default:
				newlines = 0
			}
			prev = c
			i++
			continue
		}
		ascii = false
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad' || r == '\u2060',
			r == '\u2028' || r == '\u2029' || unicode.IsSpace(r):
			return false
		}
		newlines = 0
		prev = 'x'
		i += size
	}
	return ascii || norm.NFC.IsNormalString(s)
}
