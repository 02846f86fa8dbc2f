package text

import (
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

// langTable maps a function word, lower case, to how many times it counts
// for each language (once per listing: "tras" is listed twice in Spanish
// and counts twice): an open-addressing table keyed by the
// word's bytes packed into two words, so that a lookup neither hashes a
// string nor allocates.
var langTable = func() (t langTab) {
	for li, lang := range Languages {
		for _, w := range langWords[lang] {
			if len(w) > maxLangWord {
				panic("text: function word " + w + " is longer than maxLangWord")
			}
			a, b := packWord(w)
			t.add(a, b, uint8(len(w)), li)
		}
	}
	return t
}()

// maxLangWord is the longest function word in bytes that langTable can
// hold (the longest is 10, "également" and "miércoles").
const maxLangWord = 16

const langTabSize = 512 // a power of two, over twice the number of words

type langTab struct {
	slots [langTabSize]langSlot
}

type langSlot struct {
	a, b  uint64
	n     uint8    // length in bytes; 0 for an empty slot
	count [4]uint8 // per language in Languages
}

func packWord(w string) (a, b uint64) {
	for i := 0; i < len(w); i++ {
		if i < 8 {
			a |= uint64(w[i]) << (8 * i)
		} else {
			b |= uint64(w[i]) << (8 * (i - 8))
		}
	}
	return a, b
}

func langHash(a, b uint64, n uint8) uint32 {
	h := (a ^ b*0xc2b2ae3d27d4eb4f ^ uint64(n)) * 0x9e3779b97f4a7c15
	return uint32(h >> 55) // 9 bits: langTabSize
}

func (t *langTab) add(a, b uint64, n uint8, lang int) {
	for i := langHash(a, b, n); ; i = (i + 1) & (langTabSize - 1) {
		sl := &t.slots[i]
		if sl.n == 0 {
			*sl = langSlot{a: a, b: b, n: n}
		}
		if sl.a == a && sl.b == b && sl.n == n {
			sl.count[lang]++
			return
		}
	}
}

// get returns the slot of a word, or nil.
func (t *langTab) get(a, b uint64, n uint8) *langSlot {
	for i := langHash(a, b, n); ; i = (i + 1) & (langTabSize - 1) {
		sl := &t.slots[i]
		if sl.n == 0 {
			return nil
		}
		if sl.a == a && sl.b == b && sl.n == n {
			return sl
		}
	}
}

// maxDetectBytes is how much of the text DetectLanguage reads.
const maxDetectBytes = 2000

// maxDetectWord is the longest word (in bytes, as written) DetectLanguage
// looks up; longer words are skipped.
const maxDetectWord = 24

// DetectLanguage returns the language of a story's text among Languages,
// from the function words in its first 2,000 bytes, or "" when the text
// is too short or too mixed to tell (fewer than 3 function words, or the
// runner-up within 1 of the winner; words two languages share count for
// both, so they never decide). A word is a run of letters (digits and
// everything else separate words), lower-cased (unicode) before it is
// looked up.
func DetectLanguage(headline, body string) string {
	var count [4]int
	detectCount(&count, headline)
	detectCount(&count, body)
	return decide(count)
}

// decide picks the language of the counts, or "".
func decide(count [4]int) string {
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

// detectCount adds the function words of s[:maxDetectBytes] to count.
// Plain ASCII words, nearly all of them, are lower-cased and packed in one
// pass; a word with other letters is lower-cased rune by rune (packLower).
func detectCount(count *[4]int, s string) {
	if len(s) > maxDetectBytes {
		s = s[:maxDetectBytes]
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !isASCIILetter(c) {
			i++
			continue
		}
		// A word may start at i.
		start := i
		var a, b uint64
		ascii := true // ASCII or Latin-1 letters only: a, b hold the lower-cased word
		for i < len(s) {
			c := s[i]
			if c < utf8.RuneSelf {
				if !isASCIILetter(c) {
					break
				}
				if k := i - start; k < 8 {
					a |= uint64(c|0x20) << (8 * k)
				} else if k < maxLangWord {
					b |= uint64(c|0x20) << (8 * (k - 8))
				}
				i++
				continue
			}
			if c == 0xC3 && i+1 < len(s) {
				// Latin-1 letters (U+00C0-U+00FF but × and ÷), the accents of
				// French, Spanish and German: lower-cased in place.
				if c2 := s[i+1]; c2 >= 0x80 && c2 <= 0xBF && c2 != 0x97 && c2 != 0xB7 {
					if c2 <= 0x9E {
						c2 += 0x20 // À-Þ → à-þ; ß (0x9F) is lower case already
					}
					if k := i - start; k+1 < 8 {
						a |= (uint64(c) | uint64(c2)<<8) << (8 * k)
					} else if k+1 < maxLangWord {
						a, b = packTwo(a, b, k, c, c2)
					}
					i += 2
					continue
				}
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !unicode.IsLetter(r) {
				break
			}
			ascii = false
			i += size
		}
		if i == start {
			i += runeLen(s[i:]) // a non-letter rune
			continue
		}
		n := i - start
		if n > maxDetectWord {
			continue
		}
		if !ascii {
			var ok bool
			if a, b, n, ok = packLower(s[start:i]); !ok {
				continue
			}
		} else if n > maxLangWord {
			continue
		}
		if sl := langTable.get(a, b, uint8(n)); sl != nil {
			for li, k := range sl.count {
				count[li] += int(k)
			}
		}
	}
}

// packTwo puts bytes c and c2 at positions k and k+1 of the packed word.
func packTwo(a, b uint64, k int, c, c2 byte) (uint64, uint64) {
	for j, x := range [2]byte{c, c2} {
		if p := k + j; p < 8 {
			a |= uint64(x) << (8 * p)
		} else {
			b |= uint64(x) << (8 * (p - 8))
		}
	}
	return a, b
}

// packLower packs w lower-cased as strings.ToLower does it (unicode.ToLower
// of each rune; w is letters only, so valid UTF-8), with its length in
// bytes; ok is false when that is longer than maxLangWord.
func packLower(w string) (a, b uint64, n int, ok bool) {
	var buf [maxLangWord + utf8.UTFMax]byte
	lw := buf[:0]
	for _, r := range w {
		lw = utf8.AppendRune(lw, unicode.ToLower(r))
		if len(lw) > maxLangWord {
			return 0, 0, 0, false
		}
	}
	for k, c := range lw {
		if k < 8 {
			a |= uint64(c) << (8 * k)
		} else {
			b |= uint64(c) << (8 * (k - 8))
		}
	}
	return a, b, len(lw), true
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// runeLen is the size of the rune at the start of s (1 for an invalid byte).
func runeLen(s string) int {
	_, size := utf8.DecodeRuneInString(s)
	return size
}
