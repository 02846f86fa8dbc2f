package topic

// LoadFrom builds a classifier from the given taxonomy and lexicon sources,
// so that tests can exercise Load's error handling.
func LoadFrom(tax, lex string) (*Classifier, error) { return load(tax, lex, nil) }

// WordHashes returns the lower-case hash of every word of s (boundaries
// left out), for tests of the tokenizer's fast and slow paths.
func WordHashes(s string) []uint64 {
	var out []uint64
	for _, t := range tokenize(nil, s, 1<<30) {
		if !t.boundary {
			out = append(out, t.lower)
		}
	}
	return out
}

// SlowHash hashes an ASCII word byte by byte, the way words with non-ASCII
// letters are hashed, lower-cased when lower is true.
func SlowHash(w string, lower bool) uint64 {
	h := newHasher()
	for i := 0; i < len(w); i++ {
		c := w[i]
		if lower && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h.add(c)
	}
	return h.sum()
}
