package dedupe

import (
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
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
				t.openRef(&inTok, depth, group)
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
				t.openRef(&inTok, depth, group)
				t.buf = append(t.buf, b)
			} else {
				closeTok()
			}
			continue
		}
		if f, ok := textkit.FoldRune(r); ok {
			t.openRef(&inTok, depth, group)
			t.buf = append(t.buf, f...)
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mc, r) {
			t.openRef(&inTok, depth, group)
			lr := unicode.ToLower(r)
			if f, ok := textkit.FoldRune(lr); ok {
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

// stripRef is stripBoilerplate as it was when add kept "(AP)"-style groups
// for it to remove (the reference of FuzzAddSameAsReference).
func (t *tokens) stripRef() {
	for i := 0; i < t.n(); i++ {
		g := t.group[i]
		if g == 0 || (i > 0 && t.group[i-1] == g) || (i+1 < t.n() && t.group[i+1] == g) {
			continue
		}
		if agencies[string(t.tok(i))] {
			t.refRemove(i, i+1)
			i--
		}
	}
	for changed := true; changed && t.n() > 0; {
		changed = false
		n := t.n()
		if g := t.group[n-1]; g != 0 {
			i := n - 1
			for i > 0 && t.group[i-1] == g {
				i--
			}
			if creditWords[string(t.tok(i))] {
				t.refTruncate(i)
				changed = true
				continue
			}
		}
		if n >= 4 && string(t.tok(n-3)) == "all" && string(t.tok(n-2)) == "rights" && string(t.tok(n-1)) == "reserved" {
			for i := n - 4; i >= 0 && i >= n-16; i-- {
				if s := string(t.tok(i)); s == "copyright" || s == "c" && i+1 < n && isYear(t.tok(i+1)) {
					t.refTruncate(i)
					changed = true
					break
				}
			}
			if changed {
				continue
			}
		}
		if agencies[string(t.tok(n-1))] {
			t.refTruncate(n - 1)
			changed = true
		}
	}
	// compact, unconditionally
	w := int32(0)
	for i := range t.start {
		if i > 0 {
			t.buf[w] = ' '
			w++
		}
		s, e := t.start[i], t.end[i]
		copy(t.buf[w:], t.buf[s:e])
		t.start[i], t.end[i] = w, w+(e-s)
		w += e - s
	}
	t.buf = t.buf[:w]
}

func (t *tokens) refTruncate(n int) {
	t.start, t.end, t.group = t.start[:n], t.end[:n], t.group[:n]
}

func (t *tokens) refRemove(i, j int) {
	t.start = append(t.start[:i], t.start[j:]...)
	t.end = append(t.end[:i], t.end[j:]...)
	t.group = append(t.group[:i], t.group[j:]...)
}

// FuzzAddSameAsReference: add then stripBoilerplate produce exactly the
// normalised buffer, token bounds and groups of the reference
// implementation (so the same fingerprints and signatures).
func FuzzAddSameAsReference(f *testing.F) {
	for _, s := range []string{"Hello, World (AP) — x", "“Quoted” don’t [ONE] two)", "ÉCOLE ﬁn Ｆｕｌｌ", "a\xffb", "MiXeD123abc", "((nested) deep) END", "A", "Bee cAt dE",
		"(AP) x (Reuters) y (AFP", "LONDON (Reuters) - Oil rose. (Reporting by A; Editing by B)", "x (ap) (AP (x)) [dpa] (AP)", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@[`{/:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b := new(tokens), new(tokens)
		ga, gb := a.add(s, 1), b.addRef(s, 1)
		a.stripBoilerplate()
		b.stripRef()
		if ga != gb || string(a.buf) != string(b.buf) || !slices.Equal(a.start, b.start) || !slices.Equal(a.end, b.end) || !slices.Equal(a.group, b.group) {
			t.Fatalf("%q: add %d %q %v %v %v, reference %d %q %v %v %v", s, ga, a.buf, a.start, a.end, a.group, gb, b.buf, b.start, b.end, b.group)
		}
	})
}

// openRef is open as addRef used it.
func (t *tokens) openRef(inTok *bool, depth int, group int32) {
	if *inTok {
		return
	}
	*inTok = true
	if len(t.start) > 0 {
		t.buf = append(t.buf, ' ')
	}
	t.start = append(t.start, int32(len(t.buf)))
	if depth > 0 {
		t.group = append(t.group, group)
	} else {
		t.group = append(t.group, 0)
	}
}
