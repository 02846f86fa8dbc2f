package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// detectLanguageRef is DetectLanguage as it was before the packed lookup
// table (a map of strings, every word lower-cased with strings.ToLower),
// kept to check that the faster one gives the same answers.
func detectLanguageRef(headline, body string) string {
	return decide(detectCountsRef(headline, body))
}

func detectCountsRef(headline, body string) [4]int {
	var count [4]int
	scan := func(s string) {
		if len(s) > maxDetectBytes {
			s = s[:maxDetectBytes]
		}
		start := -1
		var buf [24]byte
		for i := 0; i <= len(s); {
			r, size := rune(0), 1
			if i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			letter := i < len(s) && unicode.IsLetter(r)
			switch {
			case letter && start < 0:
				start = i
			case !letter && start >= 0:
				w := s[start:i]
				if len(w) <= len(buf) {
					lw := buf[:0]
					for _, c := range strings.ToLower(w) {
						lw = utf8.AppendRune(lw, c)
					}
					for _, li := range langIndexRef[string(lw)] {
						count[li]++
					}
				}
				start = -1
			}
			i += size
		}
	}
	scan(headline)
	scan(body)
	return count
}

var langIndexRef = func() map[string][]int8 {
	idx := map[string][]int8{}
	for li, lang := range Languages {
		for _, w := range langWords[lang] {
			idx[w] = append(idx[w], int8(li))
		}
	}
	return idx
}()

// For the tests: the reference and the current function-word counts.
var (
	DetectLanguageRef = detectLanguageRef
	DetectCountsRef   = detectCountsRef
	DetectCounts      = func(headline, body string) [4]int {
		var count [4]int
		detectCount(&count, headline)
		detectCount(&count, body)
		return count
	}
)
