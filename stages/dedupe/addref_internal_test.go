package dedupe

import (
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"
)

// addRef is add as it was before the byte-table run scan (the reference
// the fuzz test compares add with).
func (t *tokens) addRef(text string, firstGroup int32) int32 {
	group, depth := firstGroup, 0
	inTok := false
	closeTok := func() {
		if inTok {
			t.end = append(t.end, int32(len(t.buf)))
			inTok = false
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		var r rune
		if c < utf8.RuneSelf {
			m := asciiClass[c]
			i++
			if m >= '0' { // a run of ASCII letters and digits
				t.open(&inTok, depth, group)
				// Find the run, copy it in one go, lower-case only if needed.
				j, upper := i, c-'A' < 26
				for j < len(text) {
					c = text[j]
					if c >= utf8.RuneSelf || asciiClass[c] < '0' {
						break
					}
					upper = upper || c-'A' < 26
					j++
				}
				n := len(t.buf)
				t.buf = append(t.buf, text[i-1:j]...)
				if upper {
					for k, b := range t.buf[n:] {
						t.buf[n+k] = asciiClass[b]
					}
				}
				i = j
				continue
			}
			switch m {
			case clsApostrophe:
				// dropped, does not split
			case clsOpen:
				closeTok()
				if depth == 0 {
					group++
				}
				depth++
			case clsClose:
				closeTok()
				if depth > 0 {
					depth--
				}
			default:
				closeTok()
			}
			continue
		}
		var size int
		r, size = utf8.DecodeRuneInString(text[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			closeTok()
			continue
		}
		switch {
		case r == '\u2019' || r == '\u2018':
			continue // curly apostrophes
		case isTypographic(r):
			closeTok() // curly quotes, dashes, no-break space: separators, without the table lookups below
			continue
		case r == '\u02bc' || r == '\u00ad' || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Mn, r):
			continue // apostrophes, soft hyphen, zero-width, combining marks
		case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
			b := byte(r - 0xFEE0)
			if 'A' <= b && b <= 'Z' {
				b += 'a' - 'A'
			}
			if 'a' <= b && b <= 'z' || '0' <= b && b <= '9' {
				t.open(&inTok, depth, group)
				t.buf = append(t.buf, b)
			} else {
				closeTok()
			}
			continue
		}
		if f, ok := foldTable[r]; ok {
			t.open(&inTok, depth, group)
			t.buf = append(t.buf, f...)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			t.open(&inTok, depth, group)
			lr := unicode.ToLower(r)
			if f, ok := foldTable[lr]; ok {
				t.buf = append(t.buf, f...)
			} else if lr < utf8.RuneSelf && 'A' <= lr && lr <= 'Z' {
				t.buf = append(t.buf, byte(lr)+'a'-'A')
			} else {
				t.buf = utf8.AppendRune(t.buf, lr)
			}
			continue
		}
		closeTok()
	}
	closeTok()
	return group
}

// FuzzAddSameAsReference: add produces exactly the tokens, groups and
// buffer of the reference implementation.
func FuzzAddSameAsReference(f *testing.F) {
	for _, s := range []string{"Hello, World (AP) — x", "“Quoted” don’t [ONE] two)", "ÉCOLE ﬁn Ｆｕｌｌ", "a\xffb", "MiXeD123abc", "((nested) deep) END", "A", "Bee cAt dE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b := new(tokens), new(tokens)
		ga, gb := a.add(s, 1), b.addRef(s, 1)
		if ga != gb || string(a.buf) != string(b.buf) || !slices.Equal(a.start, b.start) || !slices.Equal(a.end, b.end) || !slices.Equal(a.group, b.group) {
			t.Fatalf("%q: add %d %q %v %v %v, reference %d %q %v %v %v", s, ga, a.buf, a.start, a.end, a.group, gb, b.buf, b.start, b.end, b.group)
		}
	})
}
