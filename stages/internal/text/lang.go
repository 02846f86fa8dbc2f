package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Languages DetectLanguage tells apart, as BCP 47 primary tags.
var Languages = []string{"en", "fr", "es", "de"}

// function words: frequent, short and nearly exclusive to one of the
// languages (words two of them share, such as "de", "la", "en", "die" in
// Spanish and German or "a", are left out or kept only where they are
// far more frequent).
var langWords = map[string][]string{
	"en": {"the", "of", "and", "to", "in", "is", "was", "for", "that", "with", "on", "said", "by", "from", "his", "her", "it", "at", "have", "has", "were", "which", "after", "would", "will", "their", "they", "been", "who", "this"},
	"fr": {"le", "les", "des", "du", "et", "est", "une", "dans", "pour", "qui", "sur", "au", "aux", "avec", "pas", "ont", "été", "mais", "selon", "cette", "leur", "ses", "sont", "par", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "dimanche", "également", "après", "où", "son", "sa", "ce", "ces", "sous", "près", "doit", "ne", "plus", "il", "elle", "ils", "nous", "était", "deux", "ainsi", "contre", "la", "de", "un"},
	"es": {"el", "los", "las", "del", "y", "que", "por", "con", "una", "para", "su", "sus", "se", "al", "como", "más", "fue", "según", "este", "esta", "entre", "tras", "lunes", "martes", "miércoles", "jueves", "viernes", "domingo", "informó", "también", "años", "ha", "han", "hasta", "desde", "sobre", "muy", "lo", "tras", "sido", "dos", "contra", "la", "de", "un"},
	"de": {"der", "die", "das", "und", "ist", "mit", "den", "dem", "von", "zu", "nicht", "auf", "für", "sich", "ein", "eine", "einer", "im", "wurde", "wurden", "hat", "haben", "nach", "auch", "bei", "aus", "sagte", "sind", "wie", "werden", "am", "es", "wird", "noch", "nur", "um", "über", "zum", "zur", "vor", "seit", "oder", "einen", "nachdem", "ihre", "seine", "gegen", "unter", "zwischen", "durch", "ohne", "mehrere", "bereits", "wegen", "soll", "sollen", "kann", "können", "muss", "müssen", "worden"},
}

var langIndex = func() map[string][]int8 {
	idx := map[string][]int8{}
	for li, lang := range Languages {
		for _, w := range langWords[lang] {
			idx[w] = append(idx[w], int8(li))
		}
	}
	return idx
}()

// maxDetectBytes is how much of the text DetectLanguage reads.
const maxDetectBytes = 2000

// DetectLanguage returns the language of a story's text among Languages,
// from the function words in its first 2,000 bytes, or "" when the text
// is too short or too mixed to tell (fewer than 3 function words, or the
// runner-up within 1 of the winner; words two languages share count for
// both, so they never decide).
func DetectLanguage(headline, body string) string {
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
					for _, li := range langIndex[string(lw)] {
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
	best, second := -1, 0
	for i, c := range count {
		if best < 0 || c > count[best] {
			if best >= 0 {
				second = max(second, count[best])
			}
			best = i
		} else {
			second = max(second, c)
		}
	}
	if count[best] < 3 || count[best]-second < 2 {
		return ""
	}
	return Languages[best]
}
