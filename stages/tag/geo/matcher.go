package geo

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// matcher finds every pattern that starts at a word start, in one pass
// over the text. It is a trie compiled to a deterministic automaton over
// byte classes, without failure links: a place name must begin at a word
// boundary, so the walk restarts only at word starts and stops as soon as no
// pattern continues, and most words cost one or two transitions. The root
// and the first level use dense transition rows; deeper states, which have
// one or a few children, use short sorted edge lists, which keeps the
// automaton small enough to stay in cache. Matching is ASCII
// case-insensitive; the caller checks case against the pattern.
type matcher struct {
	class  [256]uint8
	nclass int
	dense  []int32 // state*nclass + class → state or -1, for states < ndense
	ndense int32
	estart []int32 // state-ndense → first edge; len = sparse states + 1
	edges  []edge  // sorted by class within a state
	out    []int32 // state → word ending here, or -1
	wlen   []int32 // word → length in bytes
}

type edge struct {
	class uint8
	to    int32
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
	// A plain trie first.
	type node struct {
		kids  []edge
		out   int32
		depth int
	}
	trie := []node{{out: -1}}
	m.wlen = make([]int32, len(words))
	for wi, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := m.class[lowerASCII(w[i])]
			t := int32(-1)
			for _, e := range trie[s].kids {
				if e.class == c {
					t = e.to
					break
				}
			}
			if t < 0 {
				t = int32(len(trie))
				trie = append(trie, node{out: -1, depth: trie[s].depth + 1})
				trie[s].kids = append(trie[s].kids, edge{class: c, to: t})
			}
			s = t
		}
		if trie[s].out < 0 {
			trie[s].out = int32(wi)
		}
		m.wlen[wi] = int32(len(w))
	}
	// Renumber breadth first, so that shallow states come first.
	id := make([]int32, len(trie))
	order := []int32{0}
	for k := 0; k < len(order); k++ {
		s := order[k]
		id[s] = int32(k)
		kids := trie[s].kids
		sort.Slice(kids, func(a, b int) bool { return kids[a].class < kids[b].class })
		for _, e := range kids {
			order = append(order, e.to)
		}
	}
	for _, s := range order {
		if trie[s].depth <= denseDepth {
			m.ndense++
		}
	}
	m.dense = make([]int32, int(m.ndense)*n)
	for i := range m.dense {
		m.dense[i] = -1
	}
	m.out = make([]int32, len(trie))
	m.estart = make([]int32, 0, len(trie)-int(m.ndense)+1)
	for k, s := range order {
		nd := &trie[s]
		m.out[k] = nd.out
		if int32(k) < m.ndense {
			for _, e := range nd.kids {
				m.dense[k*n+int(e.class)] = id[e.to]
			}
			continue
		}
		m.estart = append(m.estart, int32(len(m.edges)))
		for _, e := range nd.kids {
			m.edges = append(m.edges, edge{class: e.class, to: id[e.to]})
		}
	}
	m.estart = append(m.estart, int32(len(m.edges)))
	return m
}

// states is the number of automaton states.
func (m *matcher) states() int { return len(m.out) }

// step is the transition from state s on class c, or -1.
func (m *matcher) step(s int32, c uint8) int32 {
	if s < m.ndense {
		return m.dense[int(s)*m.nclass+int(c)]
	}
	k := s - m.ndense
	for _, e := range m.edges[m.estart[k]:m.estart[k+1]] {
		if e.class >= c {
			if e.class == c {
				return e.to
			}
			return -1
		}
	}
	return -1
}

// scanInto appends every occurrence of every word that starts at a word
// start in text[from:], in order of start position. Every pattern starts
// with a capital letter (or a non-ASCII letter), so only such word starts
// are tried.
func (m *matcher) scanInto(text string, from int, out []match) []match {
	prevWord := false
	if from > 0 {
		prevWord = endsInWord(text[:from])
	}
	for i := from; i < len(text); i++ {
		switch byteKind[text[i]] {
		case bkUpper:
			if !prevWord {
				out = m.walk(text, i, out)
			}
			prevWord = true
		case bkWord:
			prevWord = true
		case bkOther:
			prevWord = false
		case bkLead:
			// A word start follows a non-letter rune ("“Ukraine", "—Russia").
			r, _ := utf8.DecodeRuneInString(text[i:])
			isW := unicode.IsLetter(r) || unicode.IsDigit(r)
			if isW && !prevWord {
				out = m.walk(text, i, out)
			}
			prevWord = isW
		}
	}
	return out
}

func (m *matcher) walk(text string, i int, out []match) []match {
	s := int32(0)
	for j := i; j < len(text); j++ {
		c := m.class[text[j]]
		if c == 0 {
			break
		}
		s = m.step(s, c)
		if s < 0 {
			break
		}
		if w := m.out[s]; w >= 0 {
			out = append(out, match{start: int32(i), end: int32(j + 1), word: w})
		}
	}
	return out
}

func endsInWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordRune(r)
}

// denseDepth is the deepest trie level with dense transition rows.
const denseDepth = 2

// Byte kinds for the scan loop.
const (
	bkOther = iota // space, punctuation: ends a word
	bkUpper        // A-Z: may start a pattern
	bkWord         // a-z, 0-9: inside a word
	bkLead         // first byte of a multi-byte rune
	bkCont         // continuation byte
)

var byteKind = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case 'A' <= c && c <= 'Z':
			t[c] = bkUpper
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			t[c] = bkWord
		case c >= 0xC0:
			t[c] = bkLead
		case c >= 0x80:
			t[c] = bkCont
		}
	}
	return t
}()

// scanWordsInto is scanInto trying every word start, lower-case ones too
// (for the lower-case adjectives of a language), with base added to the
// word numbers it reports.
func (m *matcher) scanWordsInto(text string, from int, base int32, out []match) []match {
	prevWord := false
	if from > 0 {
		prevWord = endsInWord(text[:from])
	}
	for i := from; i < len(text); i++ {
		switch byteKind[text[i]] {
		case bkUpper, bkWord:
			if !prevWord {
				n := len(out)
				out = m.walk(text, i, out)
				for k := n; k < len(out); k++ {
					out[k].word += base
				}
			}
			prevWord = true
		case bkOther:
			prevWord = false
		case bkLead:
			r, _ := utf8.DecodeRuneInString(text[i:])
			isW := unicode.IsLetter(r) || unicode.IsDigit(r)
			if isW && !prevWord {
				n := len(out)
				out = m.walk(text, i, out)
				for k := n; k < len(out); k++ {
					out[k].word += base
				}
			}
			prevWord = isW
		}
	}
	return out
}
