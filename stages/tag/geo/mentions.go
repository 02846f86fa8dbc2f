package geo

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// collect scans text from offset from, keeps the matches that respect word
// boundaries and case, and selects the leftmost-longest ones.
func (p *Parser) collect(text string, from int, f field, sc *scratch) {
	g := p.g
	if from > len(text) {
		from = len(text)
	}
	sc.raw = g.matcher.scanInto(text, from, sc.raw[:0])
	if lm, ok := g.byLang[sc.lang]; ok {
		n := len(sc.raw)
		sc.raw = lm.m.scanWordsInto(text, from, lm.base, sc.raw)
		if len(sc.raw) > n {
			// By start, shortest first, as the main matcher reports them.
			sort.SliceStable(sc.raw, func(i, j int) bool {
				if sc.raw[i].start != sc.raw[j].start {
					return sc.raw[i].start < sc.raw[j].start
				}
				return sc.raw[i].end < sc.raw[j].end
			})
		}
	}
	// The matcher reports matches by start, shortest first: take the
	// longest acceptable match at each start, leftmost first.
	last := int32(-1)
	for k := 0; k < len(sc.raw); k++ {
		// Move to the longest match of this start that is acceptable.
		r := sc.raw[k]
		if r.start < last {
			continue
		}
		e := k
		for e+1 < len(sc.raw) && sc.raw[e+1].start == r.start {
			e++
		}
		chosen := int32(-1)
		var cr match
		for q := e; q >= k; q-- {
			cand := sc.raw[q]
			if !boundary(text, int(cand.start), int(cand.end)) {
				continue
			}
			m := text[cand.start:cand.end]
			for _, pi := range g.groups[cand.word] {
				if caseOK(m, g.pats[pi].canon) {
					chosen = pi
					break
				}
			}
			if chosen >= 0 {
				cr = cand
				break
			}
		}
		k = e
		if chosen < 0 {
			continue
		}
		last = cr.end
		if g.pats[chosen].kind == kindBlock {
			continue
		}
		sc.hits = append(sc.hits, hit{start: cr.start, end: cr.end, pat: chosen, word: cr.word, cc: -1, field: f})
	}
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r|0x20 && r|0x20 <= 'z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func boundary(text string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if isWordRune(r) {
			return false
		}
	}
	if end < len(text) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if isWordRune(r) {
			return false
		}
		// "U.S" must not match the start of "U.S.A": a pattern that ends
		// in a letter followed by '.' and a letter is inside an abbreviation.
		if text[end] == '.' && end+1 < len(text) && text[end-1] != '.' {
			r, _ := utf8.DecodeRuneInString(text[end+1:])
			if r < utf8.RuneSelf && isWordRune(r) && end-start <= 3 {
				return false
			}
		}
	}
	return true
}

// caseOK accepts text that is spelled exactly like the pattern, or in all
// capitals when the pattern is a word of four letters or more.
func caseOK(text, pat string) bool {
	if text == pat {
		return true
	}
	if len(pat) < 4 {
		return false
	}
	hasLower := false
	for i := 0; i < len(pat); i++ {
		if 'a' <= pat[i] && pat[i] <= 'z' {
			hasLower = true
			break
		}
	}
	if !hasLower {
		return false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'a' <= c && c <= 'z' {
			return false
		}
		if c != pat[i] && c != pat[i]-('a'-'A') {
			return false
		}
	}
	return true
}

// sameName reports whether a and b fold to the same key, without
// allocating for the common case of plain ASCII names.
func sameName(a, b string) bool {
	if a == "" || b == "" || lowerASCII(a[0]) != lowerASCII(b[0]) {
		return false
	}
	if len(a) != len(b) {
		return fold(a) == fold(b)
	}
	for i := 0; i < len(a); i++ {
		if a[i] >= utf8.RuneSelf || b[i] >= utf8.RuneSelf {
			return fold(a) == fold(b)
		}
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}
