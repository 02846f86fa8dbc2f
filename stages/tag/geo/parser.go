package geo

import (
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// Fields of a story in which evidence is found.
const (
	FieldLocated  = "located"  // the located field or the dateline
	FieldHeadline = "headline" // the headline
	FieldBody     = "body"     // the body text
)

// Evidence is one piece of text that supports a place.
type Evidence struct {
	Field      string // FieldLocated, FieldHeadline or FieldBody
	Text       string // the matched text
	Start, End int    // byte offsets of Text in the field
	Rule       string // the rule that fired, e.g. "dateline:qualified-city", "name", "demonym", "name+cue", "rollup:UZ"
}

// Explained is a place with the evidence for it.
type Explained struct {
	Place    proto.Place
	Evidence []Evidence
}

// Parser is a geoparser over a gazetteer. It is safe for concurrent use.
type Parser struct {
	g    *Gazetteer
	pool sync.Pool
}

// New returns a geoparser over g. Tag is safe for concurrent use by many
// goroutines.
func New(g *Gazetteer) *Parser {
	p := &Parser{g: g}
	p.pool.New = func() any { return &scratch{} }
	return p
}

type field uint8

const (
	fHeadline field = iota
	fBody
	fLocated
)

func (f field) String() string {
	return [...]string{FieldHeadline, FieldBody, FieldLocated}[f]
}

// hit is one pattern occurrence.
type hit struct {
	start, end int32
	pat        int32
	word       int32 // matcher word
	cc         int32 // resolved country, or -1 when rejected
	field      field
	rule       string
}

type tally struct {
	cc       int32
	score    float64
	evidence int // accepted unambiguous, non-weak mentions
}

type scratch struct {
	raw     []match
	hits    []hit
	tallies []tally
	persons []int32     // patterns rejected as part of a person's name
	lower   []lowerSeen // cache of commonNoun answers

	fromLocated bool // the dateline came from the located field
	regions     []regionScore
	rels        []int32
}

type lowerSeen struct {
	word int32
	seen bool
}

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

type regionScore struct {
	code    string
	rel     float64
	located bool
}

type match struct {
	start, end int32
	word       int32
}

// Tag returns the places of a story: the located country (from s.Located if
// set, else the dateline at the start of s.BodyText), mentioned countries,
// and their M49 intermediate region, subregion and region roll-ups.
// Deterministic order: located first, then by relevance descending, then
// code.
func (p *Parser) Tag(s *proto.Story) []*proto.Place {
	if s == nil {
		return nil
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	loc, _ := p.analyze(s, sc)
	return p.places(sc, loc)
}

// Explain returns the same places as Tag with their evidence: the matched
// text, its byte offsets, the field (located, headline or body) and the
// rule that fired.
func (p *Parser) Explain(s *proto.Story) []Explained {
	if s == nil {
		return nil
	}
	sc := &scratch{}
	loc, d := p.analyze(s, sc)
	places := p.places(sc, loc)
	out := make([]Explained, len(places))
	idx := map[string]int{}
	for i, pl := range places {
		out[i].Place = *pl
		idx[pl.Scheme+"/"+pl.Code] = i
	}
	if loc >= 0 {
		src := FieldLocated
		e := Evidence{Field: src, Text: d.Text, Start: d.Start, End: d.End, Rule: "located:" + d.Rule}
		if !sc.fromLocated {
			e.Field = FieldBody
			e.Rule = "dateline:" + d.Rule
		}
		i := idx[proto.SchemeCountry+"/"+p.g.countries[loc].code]
		out[i].Evidence = append(out[i].Evidence, e)
	}
	for _, h := range sc.hits {
		if h.cc < 0 || p.g.pats[h.pat].kind == kindBlock {
			continue
		}
		text := s.BodyText
		if h.field == fHeadline {
			text = s.Headline
		}
		i, ok := idx[proto.SchemeCountry+"/"+p.g.countries[h.cc].code]
		if !ok {
			continue
		}
		out[i].Evidence = append(out[i].Evidence, Evidence{
			Field: h.field.String(), Text: text[h.start:h.end], Start: int(h.start), End: int(h.end), Rule: h.rule,
		})
	}
	for i := range out {
		if out[i].Place.Scheme != proto.SchemeM49 {
			continue
		}
		for _, t := range sc.tallies {
			c := &p.g.countries[t.cc]
			if containsStr(c.chain, out[i].Place.Code) {
				out[i].Evidence = append(out[i].Evidence, Evidence{Rule: "rollup:" + c.code})
			}
		}
	}
	return out
}

// Rejected returns the place names found in a story that were not taken as
// places, with the rule that rejected them ("person", "weak-person",
// "common-noun", "language"), for a --explain output that shows why a
// country is missing. Blocked phrases (organisations, seas) are not listed.
func (p *Parser) Rejected(s *proto.Story) []Evidence {
	if s == nil {
		return nil
	}
	sc := &scratch{}
	p.analyze(s, sc)
	var out []Evidence
	for _, h := range sc.hits {
		if h.cc >= 0 {
			continue
		}
		text := p.fieldText(s, h.field)
		out = append(out, Evidence{Field: h.field.String(), Text: text[h.start:h.end], Start: int(h.start), End: int(h.end), Rule: h.rule})
	}
	return out
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// analyze fills sc.hits and sc.tallies and returns the located country.
func (p *Parser) analyze(s *proto.Story, sc *scratch) (int32, Dateline) {
	g := p.g
	sc.hits = sc.hits[:0]
	sc.tallies = sc.tallies[:0]
	sc.persons = sc.persons[:0]
	sc.lower = sc.lower[:0]

	// 1. Dateline.
	loc := int32(-1)
	var d Dateline
	var ok bool
	located := s.Located != "" // d comes from the located field
	bodyStart := 0
	if s.Located != "" {
		d, ok = g.ParseLocated(s.Located)
		// Skip a dateline in the body that repeats the located field; use
		// it when the located field names no known place.
		if bd, bok := g.ParseDateline(s.BodyText); bok {
			bodyStart = bd.BodyStart
			if !ok || d.Country == "" {
				d, ok = bd, true
				located = false
			}
		}
	} else {
		d, ok = g.ParseDateline(s.BodyText)
		if ok {
			bodyStart = d.BodyStart
		}
	}
	if ok && d.Country != "" {
		loc = g.byCC[d.Country]
	}
	sc.fromLocated = located

	// 2. Mentions.
	p.collect(s.Headline, 0, fHeadline, sc)
	p.collect(s.BodyText, bodyStart, fBody, sc)

	// 3. Qualified places and person names.
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &g.pats[h.pat]
		text := p.fieldText(s, h.field)
		if pt.kind == kindCity || pt.kind == kindPlace || pt.kind == kindAdmin {
			if loc >= 0 && pt.cands[0] != loc && sameName(text[h.start:h.end], d.City) {
				// The dateline city again: "PARIS, Texas ... the town of Paris".
				h.cc = loc
				h.rule = "dateline-city"
				continue
			}
			if cc, ok := p.qualified(text, h, pt); ok {
				h.cc = cc
				h.rule = "qualified"
				continue
			}
		}
		if strings.HasPrefix(text[h.end:], " City") && boundary(text, int(h.start), int(h.end)+5) {
			// "Jersey City", "Kansas City", "Quebec City": the city, not the name.
			if cs := g.cities[fold(text[h.start:h.end+5])]; len(cs) > 0 {
				h.cc = cs[0].cc
				h.rule = "city-name"
				continue
			}
		}
		if sentenceStart(text, int(h.start)) >= 0 && p.commonNoun(s, h, sc) {
			// "Turkey prices soar" over a story about the price of a turkey.
			h.cc = -1
			h.rule = "common-noun"
			continue
		}
		if pt.kind == kindDemonym && language(text, int(h.start), int(h.end)) {
			// "spoke in Spanish", "French-language": the language, not the country.
			h.cc = -1
			h.rule = "language"
			continue
		}
		if pt.person && personAdjacent(text, int(h.start), int(h.end)) {
			h.cc = -1
			h.rule = "person"
			if !containsIdx(sc.persons, h.pat) {
				sc.persons = append(sc.persons, h.pat)
			}
		}
	}

	// 4. Evidence from unambiguous, strong mentions.
	if loc >= 0 {
		sc.tally(loc).evidence += 2
	}
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &g.pats[h.pat]
		if h.rule != "" || pt.ambig || pt.weak {
			continue
		}
		h.cc = pt.cands[0]
		h.rule = pt.kind.String()
		sc.tally(h.cc).evidence++
	}

	// 5. Ambiguous and weak mentions, decided by the evidence.
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &g.pats[h.pat]
		if h.rule != "" {
			continue
		}
		text := p.fieldText(s, h.field)
		cc, support := pt.cands[0], 0
		for _, c := range pt.cands {
			if n := sc.evidenceOf(c); n > support {
				cc, support = c, n
			}
		}
		rule := pt.kind.String()
		if pt.ambig {
			rule = contextRule[pt.kind]
		}
		if pt.weak && support == 0 {
			// Once a name has been a person's in this story, only a cue
			// in mid-sentence makes it a place again ("Michael Jordan ...
			// Jordan added eight rebounds" but "... flew to Jordan").
			if containsIdx(sc.persons, h.pat) {
				if !cued(text, int(h.start), int(h.end)) || sentenceStart(text, int(h.start)) >= 0 {
					h.cc = -1
					h.rule = "weak-person"
					continue
				}
				rule = cueRule[pt.kind]
			} else if cued(text, int(h.start), int(h.end)) {
				rule = cueRule[pt.kind]
			}
		}
		h.cc = cc
		h.rule = rule
	}

	// 6. Scores.
	firstPara := paragraphEnd(s.BodyText, bodyStart)
	for i := range sc.hits {
		h := &sc.hits[i]
		if h.cc < 0 {
			continue
		}
		w := kindWeight[g.pats[h.pat].kind]
		switch {
		case h.field == fHeadline:
			w *= 3
		case int(h.start) < firstPara:
			w *= 2
		}
		sc.tally(h.cc).score += w
	}
	if loc >= 0 {
		sc.tally(loc).score += 100
	}
	return loc, d
}

var (
	contextRule = [...]string{"name+context", "place+context", "city+context", "admin+context", "demonym+context", "block"}
	cueRule     = [...]string{"name+cue", "place+cue", "city+cue", "admin+cue", "demonym+cue", "block"}
)

func (p *Parser) fieldText(s *proto.Story, f field) string {
	if f == fHeadline {
		return s.Headline
	}
	return s.BodyText
}

func (sc *scratch) tally(cc int32) *tally {
	for i := range sc.tallies {
		if sc.tallies[i].cc == cc {
			return &sc.tallies[i]
		}
	}
	sc.tallies = append(sc.tallies, tally{cc: cc})
	return &sc.tallies[len(sc.tallies)-1]
}

func (sc *scratch) evidenceOf(cc int32) int {
	for i := range sc.tallies {
		if sc.tallies[i].cc == cc {
			return sc.tallies[i].evidence
		}
	}
	return 0
}

// collect scans text from offset from, keeps the matches that respect word
// boundaries and case, and selects the leftmost-longest ones.
func (p *Parser) collect(text string, from int, f field, sc *scratch) {
	g := p.g
	if from > len(text) {
		from = len(text)
	}
	sc.raw = g.matcher.scanInto(text, from, sc.raw[:0])
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

// places turns the tallies into sorted places with roll-ups.
func (p *Parser) places(sc *scratch, loc int32) []*proto.Place {
	g := p.g
	rs := sc.regions[:0]
	n := 0
	for _, t := range sc.tallies {
		if t.score > 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	// Country relevance.
	rels := sc.rels[:0]
	for _, t := range sc.tallies {
		r := int32(0)
		if t.score > 0 {
			r = relevance(t.score, t.cc == loc)
		}
		rels = append(rels, r)
		if t.score <= 0 {
			continue
		}
		for _, code := range g.countries[t.cc].chain {
			found := false
			for i := range rs {
				if rs[i].code == code {
					found = true
					if float64(r) > rs[i].rel {
						rs[i].rel = float64(r)
					}
					rs[i].located = rs[i].located || t.cc == loc
				}
			}
			if !found {
				rs = append(rs, regionScore{code: code, rel: float64(r), located: t.cc == loc})
			}
		}
	}
	sc.regions, sc.rels = rs, rels
	slab := make([]proto.Place, 0, n+len(rs))
	out := make([]*proto.Place, 0, n+len(rs))
	for i, t := range sc.tallies {
		if t.score <= 0 {
			continue
		}
		c := &g.countries[t.cc]
		rel := proto.RelMentioned
		if t.cc == loc {
			rel = proto.RelLocated
		}
		slab = append(slab, proto.Place{Name: c.name, Scheme: proto.SchemeCountry, Code: c.code, Rel: rel, Relevance: rels[i]})
	}
	for _, r := range rs {
		rel := proto.RelMentioned
		if r.located {
			rel = proto.RelLocated
		}
		slab = append(slab, proto.Place{Name: g.regions[r.code].name, Scheme: proto.SchemeM49, Code: r.code, Rel: rel, Relevance: int32(r.rel)})
	}
	for i := range slab {
		out = append(out, &slab[i])
	}
	slices.SortFunc(out, comparePlaces)
	return out
}

// comparePlaces orders places: located first, then relevance descending,
// then countries before regions, then code.
func comparePlaces(a, b *proto.Place) int {
	if (a.Rel == proto.RelLocated) != (b.Rel == proto.RelLocated) {
		if a.Rel == proto.RelLocated {
			return -1
		}
		return 1
	}
	if a.Relevance != b.Relevance {
		return int(b.Relevance - a.Relevance)
	}
	if a.Scheme != b.Scheme {
		if a.Scheme == proto.SchemeCountry {
			return -1
		}
		return 1
	}
	return strings.Compare(a.Code, b.Code)
}

// relevance maps a mention score to 0-100: the located country is 100; a
// single passing mention is about 15, a headline mention about 50, a
// story-wide subject 90 or more.
func relevance(score float64, located bool) int32 {
	if located {
		return 100
	}
	r := int32(math.Round(95 * (1 - math.Exp(-score/4))))
	if r < 5 {
		r = 5
	}
	return r
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
