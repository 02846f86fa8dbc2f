package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// commonNoun reports whether the name of h is a reviewed common noun
// (overrides "noun") that also occurs in lower case in the story ("turkey",
// "china"): then a capitalised use at the start of a sentence or headline is
// the common noun too.
func (p *Parser) commonNoun(s *proto.Story, h *hit, sc *scratch) bool {
	for _, l := range sc.lower {
		if l.word == h.word {
			return l.seen
		}
	}
	seen := false
	if p.g.pats[h.pat].noun {
		low := p.g.lowerOf[h.word]
		seen = lowerWordIn(s.Headline, low) || lowerWordIn(s.BodyText, low)
	}
	sc.lower = append(sc.lower, lowerSeen{h.word, seen})
	return seen
}

// lowerWordIn reports whether word occurs in text as a whole word, exactly
// in lower case.
func lowerWordIn(text, word string) bool {
	for off := 0; off < len(text); {
		k := strings.Index(text[off:], word)
		if k < 0 {
			return false
		}
		st := off + k
		if boundary(text, st, st+len(word)) {
			return true
		}
		off = st + 1
	}
	return false
}

// qualified resolves "Moscow, Idaho" and "Paris, Texas": a place followed
// by a comma and a division or country that has a place of that name.
func (p *Parser) qualified(text string, h *hit, pt *pattern) (int32, bool) {
	e := int(h.end)
	if e+2 >= len(text) || text[e] != ',' || text[e+1] != ' ' {
		return 0, false
	}
	q := text[e+2:]
	// The qualifier runs to the next punctuation, at most three words.
	end := 0
	words := 0
	for end < len(q) {
		c := q[end]
		if c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '"' || c == '\n' {
			break
		}
		if c == '.' && (end+1 == len(q) || q[end+1] == ' ' || q[end+1] == ',') && !abbrevBefore(q[:end+1]) {
			break
		}
		if c == ' ' {
			words++
			if words == 3 {
				break
			}
		}
		end++
	}
	qual := strings.TrimSpace(q[:end])
	if qual == "" {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(qual)
	if !unicode.IsUpper(r) {
		return 0, false
	}
	g := p.g
	name := text[h.start:h.end]
	cands := g.cities[fold(name)]
	try := func(q string) (int32, bool) {
		qk := fold(q)
		for _, a := range g.admins[qk] {
			for _, c := range cands {
				if c.cc == a.cc {
					return a.cc, true
				}
			}
		}
		for _, cc := range g.countryKeys[qk] {
			for _, c := range cands {
				if c.cc == cc {
					return cc, true
				}
			}
		}
		return 0, false
	}
	// Longest qualifier first: "Moscow, Idaho" before "Moscow, Idaho last".
	for qual != "" {
		if cc, ok := try(qual); ok {
			return cc, true
		}
		k := strings.LastIndexByte(qual, ' ')
		if k < 0 {
			break
		}
		qual = qual[:k]
	}
	return 0, false
}

// abbrevBefore reports whether s ends in an abbreviation such as "N.Y." or "Ga.".
func abbrevBefore(s string) bool {
	k := strings.LastIndexByte(strings.TrimSuffix(s, "."), ' ')
	w := s[k+1:]
	return len(w) <= 6 && strings.Count(w, ".") >= 1
}

// titles and function words may stand next to a place name without making
// it part of a person's name.
var okNeighbour = map[string]bool{
	"The": true, "In": true, "At": true, "On": true, "Of": true, "To": true, "From": true, "For": true,
	"And": true, "But": true, "Or": true, "As": true, "By": true, "With": true, "Into": true, "Near": true,
	"Across": true, "After": true, "Before": true, "Both": true, "Like": true, "Unlike": true,
	"Neighbouring": true, "Neighboring": true, "Northern": true, "Southern": true, "Eastern": true,
	"Western": true, "Central": true, "North": true, "South": true, "East": true, "West": true,
	"Upper": true, "Lower": true, "Greater": true, "Outside": true, "Inside": true, "Where": true,
	"While": true, "When": true, "If": true, "Since": true, "Until": true, "A": true, "An": true,
	"Then": true, "Also": true, "Even": true, "Including": true, "Against": true, "Between": true,
	"Among": true, "Over": true, "Under": true, "Via": true, "Toward": true, "Towards": true,
	"Throughout": true, "Around": true, "Why": true, "How": true, "What": true, "That": true,
	"This": true, "Officials": true, "Gov.": true, "Governor": true, "Sen.": true, "Rep.": true,
	"Mayor": true, "City": true, "State": true, "Province": true, "County": true, "Police": true,
	"Republicans": true, "Democrats": true, "Republican": true, "Democratic": true, "Democrat": true,
	"Legislature": true, "Senate": true, "House": true, "Parliament": true, "Government": true,
	"Prime": true, "President": true, "Foreign": true, "Interior": true, "Defense": true, "Defence": true,
	"Supreme": true, "National": true, "Attorney": true, "Secretary": true, "Gen.": true,
	"Monday": true, "Tuesday": true, "Wednesday": true, "Thursday": true, "Friday": true,
	"Saturday": true, "Sunday": true, "Is": true, "Was": true, "Has": true, "Had": true, "Will": true,
	"It": true, "Its": true, "Said": true, "Says": true, "Told": true,
}

// personAdjacent reports whether the name at text[start:end] stands next
// to another capitalised word that makes it part of a person's or an
// organisation's name ("Michael Jordan", "Paris Hilton").
func personAdjacent(text string, start, end int) bool {
	// "Jordan, 23, was arrested": a name followed by an age.
	if end+3 < len(text) && text[end] == ',' && text[end+1] == ' ' && '0' <= text[end+2] && text[end+2] <= '9' {
		k := end + 2
		for k < len(text) && '0' <= text[k] && text[k] <= '9' {
			k++
		}
		if k-end-2 <= 3 && k < len(text) && text[k] == ',' {
			return true
		}
	}
	if end+1 < len(text) && text[end] == ' ' {
		w := nextWord(text[end+1:])
		if w != "" && startsUpper(w) && !okNeighbour[w] {
			return true
		}
	}
	if start >= 2 && text[start-1] == ' ' {
		w := prevWord(text[:start-1])
		if w != "" && startsUpper(w) && !okNeighbour[w] && !strings.HasSuffix(w, ".") {
			return true
		}
	}
	return false
}

func startsUpper(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

func nextWord(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(isWordRune(r) || r == '.' || r == '-') {
			break
		}
		i += n
	}
	return strings.TrimRight(s[:i], ".")
}

func prevWord(s string) string {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !(isWordRune(r) || r == '.' || r == '-') {
			break
		}
		i -= n
	}
	return s[i:]
}

// cues are the words before a place name that make it a place.
var cues = map[string]bool{
	"in": true, "into": true, "to": true, "from": true, "of": true, "across": true, "near": true,
	"neighboring": true, "neighbouring": true, "neighbor": true, "neighbour": true, "visit": true,
	"visited": true, "visiting": true, "toward": true, "towards": true, "throughout": true,
	"inside": true, "outside": true, "and": true, "or": true, "via": true, "between": true,
	"border": true, "at": true, "over": true, "against": true,
}

// languageBefore and languageAfter mark a demonym used as a language name.
var (
	languageBefore = map[string]bool{
		"in": true, "speak": true, "speaks": true, "spoke": true, "speaking": true, "into": true,
		"learn": true, "learning": true, "learned": true, "taught": true, "fluent": true, "teach": true,
	}
	languageAfter = []string{"-speaking", "-language", " language", " speakers", " speaker", " translation", " subtitles", " dialect", " lessons", " class", " classes"}
)

// language reports whether the demonym at text[start:end] names a language.
func language(text string, start, end int) bool {
	for _, a := range languageAfter {
		if strings.HasPrefix(text[end:], a) {
			return true
		}
	}
	// "in Chinese." is the language; "in Chinese waters" is the country.
	if end+1 < len(text) && text[end] == ' ' {
		w := nextWord(text[end+1:])
		if !(w == "" || w == "and" || w == "or" || startsUpper(w)) {
			return false
		}
	} else if end < len(text) && text[end] == '-' {
		return false
	}
	// Look back over a list of names: "spoke in Catalan and Portuguese".
	i := start
	for n := 0; n < 5 && i >= 2 && text[i-1] == ' '; n++ {
		w := prevWord(text[:i-1])
		if w == "" {
			return false
		}
		lw := strings.ToLower(w)
		if languageBefore[lw] {
			return true
		}
		if !(startsUpper(w) || lw == "and" || lw == "or") {
			return false
		}
		i = i - 1 - len(w)
	}
	return false
}

// stateTitles after a possessive make a name a state: "Jordan's King".
var stateTitles = map[string]bool{
	"King": true, "Queen": true, "President": true, "Prime": true, "Foreign": true, "Defense": true,
	"Defence": true, "Interior": true, "Crown": true, "Parliament": true, "Government": true,
	"Army": true, "Emir": true, "Sultan": true, "Supreme": true, "Central": true, "National": true,
	"Ministry": true, "Minister": true, "Embassy": true, "Ambassador": true,
}

// cued reports whether a cue word stands right before the name at
// text[start:end], or a possessive and a state title right after it.
func cued(text string, start, end int) bool {
	for _, apos := range []string{"'s ", "’s "} {
		if strings.HasPrefix(text[end:], apos) && stateTitles[nextWord(text[end+len(apos):])] {
			return true
		}
	}
	if start < 2 || text[start-1] != ' ' {
		return false
	}
	w := prevWord(text[:start-1])
	return cues[strings.ToLower(w)]
}

// sentenceStart returns start when text[start:] opens a sentence, else -1.
func sentenceStart(text string, start int) int32 {
	i := start - 1
	for i >= 0 && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t') {
		i--
	}
	if i < 0 {
		return int32(start)
	}
	switch text[i] {
	case '.', '!', '?', ':', '"':
		return int32(start)
	}
	if i >= 2 && (text[i-2:i+1] == "—" || text[i-2:i+1] == "“" || text[i-2:i+1] == "”") {
		return int32(start)
	}
	return -1
}

// paragraphEnd is the end of the first paragraph after from: the first
// blank line, or 400 bytes.
func paragraphEnd(body string, from int) int {
	if from > len(body) {
		return len(body)
	}
	end := from + 400
	if k := strings.Index(body[from:], "\n\n"); k >= 0 && from+k < end {
		end = from + k
	}
	return end
}
