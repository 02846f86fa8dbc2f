package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/wirestream/wirestream/proto"
)

// NormalizeText returns s in Unicode NFC with wire-feed whitespace cleaned:
// CR and CRLF become LF; non-breaking and other Unicode spaces become a plain
// space; zero-width characters, the BOM and control characters
// (proto.IsControl: C0, DEL, C1, bidi overrides and isolates) are removed; runs of horizontal
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
		case proto.IsControl(r):
			// other control characters (C0, DEL, C1, bidi overrides and
			// isolates): drop
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
		if c-'!' < '~'-'!'+1 { // printable ASCII other than space: most bytes
			newlines = 0
			prev = c
			i++
			continue
		}
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
			r == '\u2028' || r == '\u2029' || unicode.IsSpace(r), r <= 0x9f, r >= 0x202a && r <= 0x2069 && proto.IsControl(r):
			return false
		}
		newlines = 0
		prev = 'x'
		i += size
	}
	return ascii || isNFC(s)
}

// isNFC reports whether s is in Unicode NFC, checking only the segments
// around other characters than ASCII and typographic punctuation. Those
// are "stable" in the sense of UAX #15 (canonical combining class 0, NFC
// quick check yes, never part of a canonical composition), so text splits
// into independent normalisation segments before each of them, and a
// segment of them alone is NFC. Wire copy is mostly ASCII with typographic
// quotes and dashes; checking all 8 KB of such a story as one string took
// ~12 µs.
func isNFC(s string) bool {
	seg, inRun := 0, false
	for i := 0; i < len(s); {
		// Eight ASCII bytes at a time while not inside a run.
		if !inRun && i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if w&0x8080808080808080 == 0 {
				seg = i + 7
				i += 8
				continue
			}
		}
		size := 1
		stable := s[i] < utf8.RuneSelf
		if !stable {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			stable = isStablePunct(r)
		}
		if stable {
			if inRun {
				if !norm.NFC.IsNormalString(s[seg:i]) {
					return false
				}
				inRun = false
			}
			seg = i
		} else {
			inRun = true
		}
		i += size
	}
	return !inRun || norm.NFC.IsNormalString(s[seg:])
}

// isStablePunct: the typographic punctuation of wire copy (dashes, curly
// quotes, ellipsis, bullets, guillemets, no-break space). TestStablePunct
// checks each is stable for NFC.
func isStablePunct(r rune) bool {
	return r >= 0x2010 && r <= 0x2027 && r != 0x2017 || r == 0xa0 || r == 0xab || r == 0xbb || r == 0x2039 || r == 0x203a
}
