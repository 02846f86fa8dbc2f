package topic

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// The tokenizer turns text into a stream of word hashes in one pass over the
// bytes. A word is a maximal run of letters and digits; everything else
// separates words, so word boundaries are respected by construction. Each
// word gets a 64-bit hash of its lower-cased form (used for almost every
// lexicon entry) and, when it contains an upper-case letter, a hash of the
// word exactly as written (used for the few case-sensitive acronyms such as
// "WHO" or "AI").
//
// Letters with diacritics and ligatures fold to ASCII in the lower-cased
// hash (text.FoldRune, the fold dedupe and the geo tagger use): "café",
// "CAFÉ" and "cafe" are one word, and so are "Zürich" and "Zurich".
//
// Three details matter for news copy:
//   - a possessive "'s" or "’s" is dropped: "Putin’s" gives "putin";
//   - a dot between two letters joins them: "U.S." gives "US", "e.g." "eg",
//     and the dot that ends such an abbreviation does not end the sentence;
//   - sentence punctuation (. ! ? ; :) and line breaks emit a boundary, so
//     that a phrase never matches across two sentences.

// token is one word (or a boundary when boundary is true).
type token struct {
	lower    uint64 // hash of the lower-cased word
	exact    uint64 // hash of the word as written; set only when hasUpper
	hasUpper bool   // the word contains an upper-case letter
	boundary bool   // a sentence boundary, not a word
}

// byte classes.
const (
	clsSep   = iota // separator
	clsLower        // a-z, 0-9
	clsUpper        // A-Z
	clsStop         // sentence punctuation or line break: separator + boundary
	clsQuote        // ' (possessive)
	clsMulti = 0xff // first byte of a multi-byte UTF-8 sequence (or invalid)
)

var asciiClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsLower
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsLower
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clsUpper
	}
	for _, c := range ".!?;:\n" {
		t[c] = clsStop
	}
	t['\''] = clsQuote
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = clsMulti
	}
	return t
}()

// tokenize appends the tokens of s to dst and returns it. It never allocates
// beyond growing dst. Plain ASCII words, the vast majority, are hashed eight
// bytes at a time; words with non-ASCII letters or joined dots take a
// byte-at-a-time path that yields the same hashes. The case-sensitive hash
// is computed only for words of at most maxExact bytes (the longest
// case-sensitive lexicon word); longer words cannot match one anyway.
func tokenize(dst []token, s string, maxExact int) []token {
	var (
		pendStop bool // a boundary is owed before the next word
		i        int
	)
	for i < len(s) {
		// Between words: skip separators, noting sentence ends.
		switch asciiClass[s[i]] {
		case clsSep, clsQuote:
			i++
			continue
		case clsStop:
			pendStop = true
			i++
			continue
		case clsMulti:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				if r == '\u2028' || r == '\u2029' {
					pendStop = true
				}
				i += size
				continue
			}
		}
		// A word starts at i.
		if pendStop && len(dst) > 0 && !dst[len(dst)-1].boundary {
			dst = append(dst, token{boundary: true})
		}
		pendStop = false
		start := i
		var (
			t        token
			h        = uint64(hashSeed)
			hasUpper bool
			tail     bool // the word reaches into the last seven bytes
			short    bool // hashed by shortHash already
		)
		// Scan and hash eight bytes at a time (chunks as in hashSpan).
		for {
			if i+8 > len(s) {
				tail = true
				break
			}
			x := load8(s, i)
			n := alnumPrefix(x)
			if n < 8 && i == start { // a word of one to seven bytes: one multiply
				t.lower = shortHash((x|0x2020202020202020)&(1<<(8*n)-1), n)
				i += n
				short = true
				break
			}
			if n == 8 {
				h = mixChunk(h, x|0x2020202020202020)
				i += 8
				continue
			}
			if n > 0 {
				h = mixChunk(h, (x|0x2020202020202020)&(1<<(8*n)-1))
			}
			i += n
			break
		}
		if tail {
			for i < len(s) && asciiClass[s[i]]-clsLower <= clsUpper-clsLower {
				i++
			}
			t.lower = hashSpan(s, start, i, 0x2020202020202020)
		} else if !short {
			t.lower = finishHash(h, i-start)
		}
		// Only short words can be case-sensitive lexicon entries (acronyms).
		if n := i - start; n <= maxExact {
			if n <= 8 && start+8 <= len(s) {
				hasUpper = upperIn(load8(s, start), n)
			} else {
				for j := start; j < i; j++ {
					hasUpper = hasUpper || asciiClass[s[j]] == clsUpper
				}
			}
			if hasUpper {
				t.hasUpper, t.exact = true, hashSpan(s, start, i, 0)
			}
		}
		if i < len(s) && (s[i] >= utf8.RuneSelf || (s[i] == '.' && i > start && i+1 < len(s) && isASCIILetter(s[i+1]) && isASCIILetter(s[i-1]))) {
			var dotted bool
			t, i, dotted = slowWord(s, start)
			if dotted && i < len(s) && s[i] == '.' {
				i++ // the abbreviation's own dot: not a sentence end
			}
		}
		dst = append(dst, t)
		// A possessive 's after the word is dropped.
		if i < len(s) {
			if c := s[i]; c == '\'' && possessive(s, i+1) {
				i += 2
			} else if c >= utf8.RuneSelf && strings.HasPrefix(s[i:], "’") && possessive(s, i+len("’")) {
				i += len("’") + 1
			}
		}
	}
	return dst
}

// slowWord reads the word starting at s[start] byte by byte, for words with
// non-ASCII letters or joined dots. Non-ASCII letters are folded
// (textkit.FoldRune) or lower-cased in the lower-case hash; combining marks
// inside the word are dropped from it. It returns the token, the index just
// after the word and whether the word had a joined dot.
func slowWord(s string, start int) (token, int, bool) {
	lower, exact := newHasher(), newHasher()
	hasUpper, dotted := false, false
	i := start
loop:
	for i < len(s) {
		c := s[i]
		switch asciiClass[c] {
		case clsLower:
			lower.add(c)
			exact.add(c)
			i++
		case clsUpper:
			lower.add(c + 'a' - 'A')
			exact.add(c)
			hasUpper = true
			i++
		case clsStop:
			if c == '.' && i > start && i+1 < len(s) && isASCIILetter(s[i+1]) && isASCIILetter(s[i-1]) {
				dotted = true // "U.S." -> "US"
				i++
				continue
			}
			break loop
		case clsMulti:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case unicode.Is(unicode.Mn, r):
				// A combining mark inside a word ("cafe\u0301"): folded away,
				// like the diacritic of a precomposed letter.
			case r == '’' || (!unicode.IsLetter(r) && !unicode.IsDigit(r)):
				break loop
			default:
				lr := unicode.ToLower(r)
				if lr != r {
					hasUpper = true
				}
				if f, ok := textkit.FoldRune(lr); ok {
					for k := 0; k < len(f); k++ {
						lower.add(f[k])
					}
				} else if f, ok := textkit.FoldRune(r); ok {
					for k := 0; k < len(f); k++ {
						lower.add(f[k])
					}
				} else {
					lower.addRune(lr)
				}
			}
			for j := i; j < i+size; j++ {
				exact.add(s[j])
			}
			i += size
		default:
			break loop
		}
	}
	t := token{lower: lower.sum(), hasUpper: hasUpper}
	if hasUpper {
		t.exact = exact.sum()
	}
	return t, i, dotted
}

// Word hashing: the bytes of a word are packed little-endian into 64-bit
// chunks; a word of up to seven bytes is hashed with one multiply
// (shortHash), a longer one chunk by chunk. hashSpan (whole words) and
// hasher (byte by byte) compute the same function.
const (
	hashSeed = 0x243f6a8885a308d3
	hashMul1 = 0x9e3779b97f4a7c15
	hashMul2 = 0xc2b2ae3d27d4eb4f
)

func mixChunk(h, x uint64) uint64 {
	h = (h ^ x) * hashMul1
	return h ^ h>>29
}

// shortHash hashes a word of n < 8 bytes packed into x.
func shortHash(x uint64, n int) uint64 {
	h := (x ^ hashSeed ^ uint64(n)<<56) * hashMul1
	return nonZero(h ^ h>>32)
}

func finishHash(h uint64, n int) uint64 {
	h = (h ^ uint64(n)) * hashMul2
	return nonZero(h ^ h>>32)
}

// hashSpan hashes s[start:end], an ASCII word of letters and digits,
// OR-ing every byte with the matching byte of or (0x20 in each byte
// lower-cases letters and leaves digits unchanged).
func hashSpan(s string, start, end int, or uint64) uint64 {
	n := end - start
	if n < 8 {
		var x uint64
		if start+8 <= len(s) { // read past the word and mask: one load
			x = load8(s, start) & (1<<(8*n) - 1)
		} else {
			for m := 0; m < n; m++ {
				x |= uint64(s[start+m]) << (8 * m)
			}
		}
		return shortHash(x|(or>>(8*(8-n))), n)
	}
	h := uint64(hashSeed)
	j := start
	for ; end-j >= 8; j += 8 {
		h = mixChunk(h, load8(s, j)|or)
	}
	if k := end - j; k > 0 {
		var x uint64
		if j+8 <= len(s) { // read past the word and mask: one load
			x = load8(s, j) & (1<<(8*k) - 1)
		} else {
			for m := 0; m < k; m++ {
				x |= uint64(s[j+m]) << (8 * m)
			}
		}
		h = mixChunk(h, x|(or>>(8*(8-k))))
	}
	return finishHash(h, n)
}

// SWAR constants: one bit or value per byte lane.
const (
	lanesLow  = 0x0101010101010101
	lanesHigh = 0x8080808080808080
	lanes7F   = 0x7f7f7f7f7f7f7f7f
)

// alnumPrefix returns how many of the eight bytes of x (first byte in the
// low lane) are ASCII letters or digits before the first that is not.
func alnumPrefix(x uint64) int {
	x7 := x & lanes7F // no carries between lanes below
	l := x7 | 0x2020202020202020
	letter := (l + (0x80-'a')*lanesLow) &^ (l + (0x80-'z'-1)*lanesLow)
	digit := (x7 + (0x80-'0')*lanesLow) &^ (x7 + (0x80-'9'-1)*lanesLow)
	word := (letter | digit) &^ x & lanesHigh // ASCII only
	return bits.TrailingZeros64(^word&lanesHigh) >> 3
}

// upperIn reports whether any of the low n bytes of x is an ASCII capital.
func upperIn(x uint64, n int) bool {
	x7 := x & lanes7F
	upper := (x7 + (0x80-'A')*lanesLow) &^ (x7 + (0x80-'Z'-1)*lanesLow) & lanesHigh
	return upper&(^uint64(0)>>(64-8*uint(n))) != 0
}

func load8(s string, j int) uint64 {
	s = s[j : j+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hasher is the byte-at-a-time form of hashSpan.
type hasher struct {
	h, acc uint64
	k, n   int // bytes in acc, bytes in total
}

func newHasher() hasher { return hasher{h: hashSeed} }

func (z *hasher) add(c byte) {
	z.acc |= uint64(c) << (8 * z.k)
	z.k++
	z.n++
	if z.k == 8 {
		z.h = mixChunk(z.h, z.acc)
		z.acc, z.k = 0, 0
	}
}

func (z *hasher) addRune(r rune) {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	for _, c := range b[:n] {
		z.add(c)
	}
}

func (z *hasher) sum() uint64 {
	if z.n < 8 {
		return shortHash(z.acc, z.n)
	}
	h := z.h
	if z.k > 0 {
		h = mixChunk(h, z.acc)
	}
	return finishHash(h, z.n)
}

// possessive reports whether s[i] is an 's' or 'S' that ends a word.
func possessive(s string, i int) bool {
	if i >= len(s) || (s[i] != 's' && s[i] != 'S') {
		return false
	}
	if i+1 == len(s) {
		return true
	}
	c := s[i+1]
	if c < utf8.RuneSelf {
		return asciiClass[c] != clsLower && asciiClass[c] != clsUpper
	}
	r, _ := utf8.DecodeRuneInString(s[i+1:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// nonZero keeps 0 free as the empty-slot marker of the hash tables.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
