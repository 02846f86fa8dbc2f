package geo

import (
	"unicode"
	"unicode/utf8"
)

// matcher finds every pattern that starts at a word start, in one pass
// over the text. It is a trie compiled to a dense transition table over
// byte classes (a deterministic automaton without failure links): because a
// place name must begin at a word boundary, the walk restarts only at word
// starts and stops as soon as no pattern continues, so most words cost one
// or two table lookups. Matching is ASCII case-insensitive; the caller
// checks case against the pattern.
type matcher struct {
	class  [256]uint8
	nclass int
	next   []int32 // state*nclass + class → state, or -1
	out    []int32 // state → word ending here, or -1
	wlen   []int32 // word → length in bytes
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newMatcher(words []string) *matcher {
	m := &matcher{}
	// Byte classes: class 0 is "no pattern uses this byte".
	n := 1
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			c := lowerASCII(w[i])
			if m.class[c] == 0 {
				m.class[c] = uint8(n)
				n++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	m.nclass = n
	m.next = make([]int32, n, 64*1024)
	for i := range m.next {
		m.next[i] = -1
	}
	m.out = []int32{-1}
	m.wlen = make([]int32, len(words))
	for wi, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := int32(m.class[lowerASCII(w[i])])
			t := m.next[s*int32(n)+c]
			if t < 0 {
				t = int32(len(m.out))
				m.out = append(m.out, -1)
				for k := 0; k < n; k++ {
					m.next = append(m.next, -1)
				}
				m.next[s*int32(n)+c] = t
			}
			s = t
		}
		if m.out[s] < 0 {
			m.out[s] = int32(wi)
		}
		m.wlen[wi] = int32(len(w))
	}
	m.next = m.next[:len(m.next):len(m.next)]
	return m
}

// states is the number of automaton states.
func (m *matcher) states() int { return len(m.out) }

// scanInto appends every occurrence of every word that starts at a word
// start in text[from:], in order of start position.
func (m *matcher) scanInto(text string, from int, out []acHit) []acHit {
	n := int32(m.nclass)
	prevWord := false
	if from > 0 {
		prevWord = endsInWord(text[:from])
	}
	for i := from; i < len(text); i++ {
		b := text[i]
		if b >= utf8.RuneSelf {
			// A word start follows a non-letter rune ("“Ukraine", "—Russia").
			if b >= 0xC0 {
				r, _ := utf8.DecodeRuneInString(text[i:])
				isW := unicode.IsLetter(r) || unicode.IsDigit(r)
				if isW && !prevWord {
					out = m.walk(text, i, n, out)
				}
				prevWord = isW
			}
			continue
		}
		isW := 'a' <= b|0x20 && b|0x20 <= 'z' || '0' <= b && b <= '9'
		if isW && !prevWord {
			out = m.walk(text, i, n, out)
		}
		prevWord = isW
	}
	return out
}

func (m *matcher) walk(text string, i int, n int32, out []acHit) []acHit {
	s := int32(0)
	for j := i; j < len(text); j++ {
		c := int32(m.class[text[j]])
		if c == 0 {
			break
		}
		s = m.next[s*n+c]
		if s < 0 {
			break
		}
		if w := m.out[s]; w >= 0 {
			out = append(out, acHit{start: int32(i), end: int32(j + 1), word: w})
		}
	}
	return out
}

func endsInWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordRune(r)
}
