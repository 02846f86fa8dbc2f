package geo

// acMatcher is an Aho-Corasick automaton compiled to a DFA over byte
// classes. Matching is ASCII case-insensitive (the caller checks case
// against the pattern); bytes that occur in no pattern reset to the root.
type acMatcher struct {
	class  [256]uint8
	nclass int
	delta  []int32 // state*nclass + class → state
	out    []int32 // state → word ending here, or -1
	link   []int32 // state → nearest proper suffix state with a word, or -1
	wlen   []int32 // word → length in bytes
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newACMatcher(words []string) *acMatcher {
	m := &acMatcher{}
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
	// Trie.
	type node struct{ next map[uint8]int32 }
	trie := []node{{}}
	m.out = []int32{-1}
	m.wlen = make([]int32, len(words))
	for wi, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := m.class[lowerASCII(w[i])]
			if trie[s].next == nil {
				trie[s].next = map[uint8]int32{}
			}
			t, ok := trie[s].next[c]
			if !ok {
				t = int32(len(trie))
				trie = append(trie, node{})
				m.out = append(m.out, -1)
				trie[s].next[c] = t
			}
			s = t
		}
		if m.out[s] < 0 {
			m.out[s] = int32(wi)
		}
		m.wlen[wi] = int32(len(w))
	}
	ns := len(trie)
	m.delta = make([]int32, ns*n)
	m.link = make([]int32, ns)
	fail := make([]int32, ns)
	queue := make([]int32, 0, ns)
	m.link[0] = -1
	for c := 1; c < n; c++ {
		if t, ok := trie[0].next[uint8(c)]; ok {
			m.delta[c] = t
			fail[t] = 0
			m.link[t] = -1
			queue = append(queue, t)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 1; c < n; c++ {
			t, ok := trie[s].next[uint8(c)]
			if !ok {
				m.delta[int(s)*n+c] = m.delta[int(fail[s])*n+c]
				continue
			}
			m.delta[int(s)*n+c] = t
			f := m.delta[int(fail[s])*n+c]
			fail[t] = f
			if m.out[f] >= 0 {
				m.link[t] = f
			} else {
				m.link[t] = m.link[f]
			}
			queue = append(queue, t)
		}
	}
	return m
}

// scan calls fn(start, end, word) for every occurrence of every word in
// text, in order of end position.
func (m *acMatcher) scan(text string, fn func(start, end int, word int32)) {
	s := int32(0)
	n := m.nclass
	for i := 0; i < len(text); i++ {
		c := m.class[text[i]]
		if c == 0 {
			s = 0
			continue
		}
		s = m.delta[int(s)*n+int(c)]
		for t := s; t > 0; t = m.link[t] {
			if w := m.out[t]; w >= 0 {
				fn(i+1-int(m.wlen[w]), i+1, w)
			}
			if m.link[t] < 0 {
				break
			}
		}
	}
}
