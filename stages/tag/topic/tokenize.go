package topic

import (
	"unicode"
	"unicode/utf8"
)

// The tokenizer turns text into a stream of word hashes in one pass over the
// bytes. A word is a maximal run of letters and digits; everything else
// separates words, so word boundaries are respected by construction. Two
// FNV-1a hashes are computed per word: one of the lower-cased word (used for
// almost every lexicon entry) and one of the word exactly as written (used
// for the few case-sensitive acronyms such as "US" or "WHO").
//
// Three details matter for news copy:
//   - a possessive "'s" or "’s" is dropped: "Putin’s" gives "putin";
//   - a dot between two letters joins them: "U.S." gives "US", "e.g." "eg",
//     and the dot that ends such an abbreviation does not end the sentence;
//   - sentence punctuation (. ! ? ; :) and line breaks emit a boundary, so
//     that a phrase never matches across two sentences.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// token is one word (or a boundary when boundary is true).
type token struct {
	lower    uint64 // FNV-1a of the lower-cased word
	exact    uint64 // FNV-1a of the word as written
	hasUpper bool   // the word contains an upper-case letter
	boundary bool   // a sentence boundary, not a word
}

// byteClass classifies ASCII bytes.
const (
	clsSep   = 0 // separator
	clsLower = 1 // a-z, 0-9
	clsUpper = 2 // A-Z
	clsStop  = 3 // sentence punctuation or line break: separator + boundary
)

var asciiClass = func() (t [128]uint8) {
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
	return t
}()

// tokenize appends the tokens of s to dst and returns it. It never allocates
// beyond growing dst.
func tokenize(dst []token, s string) []token {
	var (
		inWord   bool
		lower    uint64
		exact    uint64
		hasUpper bool
		dotted   bool // the word is a dotted abbreviation such as "U.S."
		pendStop bool // a boundary is owed before the next word
	)
	emit := func() {
		if inWord {
			dst = append(dst, token{lower: nonZero(lower), exact: nonZero(exact), hasUpper: hasUpper})
			inWord = false
		}
	}
	start := func() {
		if pendStop && len(dst) > 0 && !dst[len(dst)-1].boundary {
			dst = append(dst, token{boundary: true})
		}
		pendStop = false
		inWord = true
		lower, exact, hasUpper, dotted = fnvOffset, fnvOffset, false, false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch asciiClass[c] {
			case clsLower:
				if !inWord {
					start()
				}
				lower = (lower ^ uint64(c)) * fnvPrime
				exact = (exact ^ uint64(c)) * fnvPrime
				i++
				continue
			case clsUpper:
				if !inWord {
					start()
				}
				lower = (lower ^ uint64(c+'a'-'A')) * fnvPrime
				exact = (exact ^ uint64(c)) * fnvPrime
				hasUpper = true
				i++
				continue
			case clsStop:
				if c == '.' && inWord && i+1 < len(s) && isASCIILetter(s[i+1]) && i > 0 && isASCIILetter(s[i-1]) {
					dotted = true
					i++ // "U.S." -> "US"
					continue
				}
				wasDotted := inWord && dotted && c == '.'
				emit()
				pendStop = !wasDotted // "U.S. officials" stays one sentence
				i++
				continue
			}
			if c == '\'' && inWord && possessive(s, i+1) {
				emit()
				i += 2
				continue
			}
			emit()
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '’' && inWord && possessive(s, i+size):
			emit()
			i += size + 1
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				start()
			}
			lr := unicode.ToLower(r)
			if lr != r {
				hasUpper = true
			}
			lower = hashRune(lower, lr)
			exact = hashRune(exact, r)
		case r == '\u2028' || r == '\u2029':
			emit()
			pendStop = true
		default:
			emit()
		}
		i += size
	}
	emit()
	return dst
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

func hashRune(h uint64, r rune) uint64 {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	for _, c := range b[:n] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// nonZero keeps 0 free as the empty-slot marker of the hash tables.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
