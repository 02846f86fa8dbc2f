package geo

import (
	_ "embed"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// Cities. Every GeoNames city of the gazetteer (46,000 with a population of
// 5,000 or more, or a national capital) has its GeoNames id and point. A
// story gets city places (scheme "geonames") for
//
//   - the dateline city (rel located): the located field's city in the
//     located country, in the division its qualifier names, the most
//     populous of that name otherwise;
//   - cities named in the headline and body that resolve with confidence:
//     a capitalised name (one to four words, accents optional) that is a
//     GeoNames city and is not part of a longer name ("Manchester United",
//     "Lamar Jackson", "T-Mobile"), whose country is one of the story's
//     countries (the located country and the countries tagged from the
//     text), and which is the clear choice there: the most populous city
//     of that name in those countries, of 15,000 people or more (or a
//     capital), at least twice the size of the runner-up. "Paris, Texas"
//     and "Alexandria, Virginia" (a qualifier) and the dateline city named
//     again decide on their own. Reviewed names in data/city-rules.txt that
//     are common words (Mobile, Nice, Reading, Bath, Split) or given names
//     (Jackson, Florence, Austin) need a qualifier, the dateline, or a cue
//     word before them ("in Nice"); names that are also countries or
//     divisions (Georgia, Victoria the Australian state) need a qualifier
//     or the dateline.
//
// At most maxCities city places are kept, the located city first.

//go:embed data/city-rules.txt
var cityRulesTXT string

const (
	// minMentionPop is the population a mentioned city needs (capitals
	// need none).
	minMentionPop = 15_000
	// minSentenceStartPop is the population a city named at a sentence
	// start or in a headline needs without a qualifier or cue.
	minSentenceStartPop = 100_000
	// maxCities bounds the city places of one story.
	maxCities = 8
	// cityLeadBytes bounds the part of the body searched for mentioned
	// cities: the first 2,048 bytes after the dateline, where wire copy
	// names its places (and where mentions count double). It keeps the
	// second scan of the text within the tag stage's budget.
	cityLeadBytes = 2048
	// maxCityWords bounds the words of a city name the scanner tries.
	maxCityWords = 4
)

type cityRec struct {
	name     string
	cc       int32
	admin    string // as cityRef.admin
	pop      int64
	capital  bool
	id       string // GeoNames id
	lon, lat float64
}

// cityName is a text a city may be written as, with its candidates.
type cityName struct {
	recs   []int32 // most populous first
	clash  bool    // also a country, region or first-level division name
	word   bool    // reviewed: a common English word (Mobile, Nice)
	person bool    // reviewed: a common given name or surname (Jackson)
	alias  bool    // reviewed: a wire spelling; never a clash ("New York" the city)
	// divisions are the countries with a first-level division of this
	// name (Victoria: Australia; Córdoba: Argentina, Colombia).
	divisions []int32
}

type cityIndex struct {
	cityRecs  []cityRec
	cityByID  map[string]int32
	cityNames map[string]*cityName // exact text (and its deaccented form) → name
	cityFirst map[string]uint8     // first word of a name → most words of a name it starts
	firstBits bitset               // hashes of the keys of cityFirst
}

// addCityRecord reads the id and point of a P record into a new cityRec
// and points ref at it.
func (g *Gazetteer) addCityRecord(f []string, ref *cityRef) error {
	lon, err1 := strconv.ParseFloat(f[7], 64)
	lat, err2 := strconv.ParseFloat(f[8], 64)
	if _, err := strconv.ParseUint(f[6], 10, 32); err != nil || err1 != nil || err2 != nil || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return fmt.Errorf("bad GeoNames id or coordinates")
	}
	ref.rec = int32(len(g.cityRecs))
	g.cityRecs = append(g.cityRecs, cityRec{name: f[1], cc: ref.cc, admin: ref.admin, pop: ref.pop, capital: ref.capital, id: f[6], lon: lon, lat: lat})
	return nil
}

// buildCityIndex indexes the city records by id and by the texts they may
// be written as, and applies data/city-rules.txt.
func (g *Gazetteer) buildCityIndex() error {
	g.cityByID = make(map[string]int32, len(g.cityRecs))
	g.cityNames = make(map[string]*cityName, len(g.cityRecs)+len(g.cityRecs)/8)
	g.cityFirst = make(map[string]uint8, len(g.cityRecs))
	for i := range g.cityRecs {
		r := &g.cityRecs[i]
		g.cityByID[r.id] = int32(i)
		g.addCityName(r.name, int32(i))
		if d := deaccented(r.name); d != r.name {
			g.addCityName(d, int32(i))
		}
	}
	if err := g.applyCityRules(cityRulesTXT); err != nil {
		return err
	}
	g.firstBits = make(bitset, 1<<firstBitsLog/64)
	for w := range g.cityFirst {
		g.firstBits.set(fnv1a(w))
	}
	for text, n := range g.cityNames {
		slices.SortStableFunc(n.recs, func(a, b int32) int {
			pa, pb := g.cityRecs[a].pop, g.cityRecs[b].pop
			switch {
			case pa > pb:
				return -1
			case pa < pb:
				return 1
			}
			return 0
		})
		k := fold(text)
		if n.alias {
			continue
		}
		// A country's name (Georgia, Lebanon, Djibouti) clashes; a city the
		// country rules read as its country's (Tripoli: Libya or Lebanon,
		// overrides "ambiguous") does not.
		for _, c := range g.countryKeys[k] {
			inside := false
			for _, rec := range n.recs {
				inside = inside || g.cityRecs[rec].cc == c
			}
			if !inside || fold(g.countries[c].name) == k {
				n.clash = true
			}
		}
		if _, ok := g.regionKeys[k]; ok {
			n.clash = true
		}
		for _, a := range g.admins[k] {
			if !containsIdx(n.divisions, a.cc) {
				n.divisions = append(n.divisions, a.cc)
			}
		}
	}
	return nil
}

func (g *Gazetteer) addCityName(text string, rec int32) *cityName {
	words := splitCityWords(text)
	if len(words) == 0 || len(words) > maxCityWords {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(text)
	if !unicode.IsUpper(r) {
		return nil
	}
	n := g.cityNames[text]
	if n == nil {
		n = &cityName{}
		g.cityNames[text] = n
	}
	if rec >= 0 && !containsIdx(n.recs, rec) {
		n.recs = append(n.recs, rec)
	}
	if uint8(len(words)) > g.cityFirst[words[0]] {
		g.cityFirst[words[0]] = uint8(len(words))
	}
	return n
}

// splitCityWords splits a name as the scanner reads text: words of letters
// joined by single spaces or hyphens. It returns nil for a name the scanner
// cannot match (digits, periods, commas, apostrophes).
func splitCityWords(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '-' {
			if i == start {
				return nil
			}
			out = append(out, s[start:i])
			start = i + 1
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return nil
		}
	}
	return out
}

// applyCityRules reads data/city-rules.txt: "word | Name # reason",
// "person | Name # reason", "alias | Text | GeoNames id # reason". Every
// entry needs its review comment.
func (g *Gazetteer) applyCityRules(txt string) error {
	for i, line := range strings.Split(txt, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		body, reason, ok := strings.Cut(line, "#")
		bad := func(why string) error {
			return fmt.Errorf("%w: city-rules.txt line %d: %s: %q", ErrOverrides, i+1, why, line)
		}
		if !ok || strings.TrimSpace(reason) == "" {
			return bad("no review comment")
		}
		f := strings.Split(body, "|")
		for k := range f {
			f[k] = strings.TrimSpace(f[k])
		}
		switch {
		case (f[0] == "word" || f[0] == "person") && len(f) == 2:
			n := g.cityNames[f[1]]
			if n == nil {
				return bad("no city of that name")
			}
			if f[0] == "word" {
				n.word = true
			} else {
				n.person = true
			}
			if d := deaccented(f[1]); d != f[1] && g.cityNames[d] != nil {
				g.cityNames[d].word, g.cityNames[d].person = n.word, n.person
			}
		case f[0] == "alias" && len(f) == 3:
			rec, ok := g.cityByID[f[2]]
			if !ok {
				return bad("unknown GeoNames id")
			}
			n := g.addCityName(f[1], rec)
			if n == nil {
				return bad("alias the scanner cannot match")
			}
			n.alias = true
			g.addCity(f[1], cityRef{cc: g.cityRecs[rec].cc, admin: g.cityRecs[rec].admin, pop: g.cityRecs[rec].pop, capital: g.cityRecs[rec].capital, rec: rec})
			cs := g.cities[fold(f[1])]
			slices.SortStableFunc(cs, func(a, b cityRef) int { return int(b.pop - a.pop) })
		default:
			return bad("unknown directive or wrong number of fields")
		}
	}
	return nil
}

// City is a GeoNames city of the gazetteer.
type City struct {
	GeoNamesID string
	Name       string
	Country    string // ISO 3166-1 alpha-2
	Population int64
	Lon, Lat   float64
}

func (g *Gazetteer) city(rec int32) City {
	r := &g.cityRecs[rec]
	return City{GeoNamesID: r.id, Name: r.name, Country: g.countries[r.cc].code, Population: r.pop, Lon: r.lon, Lat: r.lat}
}

// CityByID returns the city with a GeoNames id.
func (g *Gazetteer) CityByID(id string) (City, bool) {
	rec, ok := g.cityByID[strings.TrimSpace(id)]
	if !ok {
		return City{}, false
	}
	return g.city(rec), true
}

// ResolveCity maps what a user types to a city: a GeoNames id ("1216265"),
// a name ("Samarkand", "samarkand", "Sao Paulo": the most populous city of
// that name), or a name with a country or division ("Paris, Texas",
// "Cordoba, Spain", "Portland, ME"). ok is false when s names no city.
func (g *Gazetteer) ResolveCity(s string) (City, bool) {
	s = strings.TrimSpace(s)
	if c, ok := g.CityByID(s); ok {
		return c, true
	}
	name, qual, _ := strings.Cut(s, ",")
	refs := g.cities[fold(name)]
	qual = strings.TrimSpace(qual)
	pick := func(keep func(cityRef) bool) (City, bool) {
		for _, r := range refs { // most populous first
			if r.rec >= 0 && keep(r) {
				return g.city(r.rec), true
			}
		}
		return City{}, false
	}
	if qual == "" {
		return pick(func(cityRef) bool { return true })
	}
	qk := fold(qual)
	if _, ok := g.byCC[strings.ToUpper(qual)]; ok && len(qual) == 2 {
		cc := g.byCC[strings.ToUpper(qual)]
		if c, ok := pick(func(r cityRef) bool { return r.cc == cc }); ok {
			return c, true
		}
	}
	for _, a := range g.admins[qk] {
		if c, ok := pick(func(r cityRef) bool { return r.cc == a.cc && r.admin == a.code }); ok {
			return c, true
		}
	}
	for _, cc := range g.countryKeys[qk] {
		if c, ok := pick(func(r cityRef) bool { return r.cc == cc }); ok {
			return c, true
		}
	}
	// A division code: "Portland, ME", "Victoria, BC".
	code := strings.ToUpper(qual)
	return pick(func(r cityRef) bool { return r.admin == code })
}

// cityHit is one city mention the scanner found, accepted (rec >= 0) or
// rejected (rec < 0, with the rule that rejected it).
type cityHit struct {
	start, end int32
	field      field
	rec        int32
	rule       string
}

// locatedCity resolves the located field's city to a GeoNames record in
// the located country, or -1.
func (g *Gazetteer) locatedCity(loc int32, l Location) (int32, string) {
	if loc < 0 || l.City == "" {
		return -1, ""
	}
	refs := g.cities[fold(l.City)]
	if l.Qualifier != "" {
		for _, a := range g.admins[fold(l.Qualifier)] {
			if a.cc != loc {
				continue
			}
			for _, r := range refs {
				if r.rec >= 0 && r.cc == loc && r.admin == a.code {
					return r.rec, "qualified-city"
				}
			}
		}
	}
	for _, r := range refs {
		if r.rec >= 0 && r.cc == loc {
			return r.rec, "city"
		}
	}
	return -1, ""
}

// findCities scans the headline and the body after the dateline for city
// names and decides each (see the package comment on cities). It runs after
// analyze: it reads the story's countries from sc.tallies and the country
// rules' decisions from sc.hits.
func (p *Parser) findCities(s *proto.Story, sc *scratch, loc int32, l Location, bodyStart int) {
	sc.cityHits = sc.cityHits[:0]
	sc.cityPersons = sc.cityPersons[:0]
	sc.locCity, sc.locCityRule = p.g.locatedCity(loc, l)
	p.scanCities(s.Headline, 0, fHeadline, sc)
	p.scanCities(leadOf(s.BodyText, bodyStart), bodyStart, fBody, sc)
	// A name rejected as a person's once is a person's everywhere in the
	// story unless something stronger than a cue decided it.
	if len(sc.cityPersons) > 0 {
		for i := range sc.cityHits {
			h := &sc.cityHits[i]
			if h.rec >= 0 && (h.rule == "city" || h.rule == "city+cue") && containsStr(sc.cityPersons, p.fieldText(s, h.field)[h.start:h.end]) {
				h.rec, h.rule = -1, "person"
			}
		}
	}
}

func (p *Parser) scanCities(text string, from int, f field, sc *scratch) {
	if from > len(text) {
		from = len(text)
	}
	for i := from; i < len(text); {
		// Skip eight bytes at a time while none can start a name: no
		// upper-case ASCII letter and no non-ASCII byte.
		for i+8 <= len(text) && !mayStart(binary.LittleEndian.Uint64([]byte(text[i:i+8]))) {
			i += 8
		}
		if i >= len(text) {
			break
		}
		c := text[i]
		if c < utf8.RuneSelf && (c < 'A' || c > 'Z') {
			i++
			continue
		}
		if i > from && inWord[text[i-1]] && c < utf8.RuneSelf { // inside a word: "McDonald", "iPhone"
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(text[i:])
			if (!unicode.IsUpper(r) && r != '\u201c' && r != '\u2018') || (i > from && inWord[text[i-1]] && text[i-1] < utf8.RuneSelf) {
				i += n
				continue
			}
		}
		if e := p.cityAt(text, i, f, sc); e > i {
			i = e
			continue
		}
		i++
	}
}

// mayStart reports whether one of the eight bytes of w (little endian) is
// an upper-case ASCII letter or a non-ASCII byte (SWAR: each test sets the
// high bit of the bytes that pass). A name after "(" or a straight quote
// starts at its capital, which this finds.
func mayStart(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if w&highs != 0 {
		return true
	}
	// Bytes are < 0x80 here, so the additions stay within each byte.
	ge := (w + ones*(0x80-'A')) & highs     // byte >= 'A'
	gt := (w + ones*(0x80-('Z'+1))) & highs // byte > 'Z'
	return ge&^gt != 0
}

// cityAt looks for a city name at the word start i (after an opening
// parenthesis or quote) and records a hit; it returns where the name ends,
// or 0.
func (p *Parser) cityAt(text string, i int, f field, sc *scratch) int {
	g := p.g
	switch {
	case i < len(text) && (text[i] == '(' || text[i] == '"' || text[i] == '\''):
		i++
	case strings.HasPrefix(text[i:], "“") || strings.HasPrefix(text[i:], "‘"):
		i += 3
	}
	if i >= len(text) {
		return 0
	}
	c := text[i]
	if c < utf8.RuneSelf {
		if c < 'A' || c > 'Z' {
			return 0
		}
	} else if r, _ := utf8.DecodeRuneInString(text[i:]); !unicode.IsUpper(r) {
		return 0
	}
	j, h := cityWordEnd(text, i)
	if !g.firstBits.has(h) {
		return 0
	}
	maxw := int(g.cityFirst[text[i:j]])
	if maxw == 0 {
		return 0
	}
	var best *cityName
	bestEnd := 0
	end := j
	for w := 1; ; w++ {
		if n := g.cityNames[text[i:end]]; n != nil && len(n.recs) > 0 {
			best, bestEnd = n, end
		}
		if w >= maxw || end+1 >= len(text) || (text[end] != ' ' && text[end] != '-') || !wordStart(text[end+1]) {
			break
		}
		end, _ = cityWordEnd(text, end+1)
	}
	if best == nil || !boundary(text, i, bestEnd) {
		return 0
	}
	rec, rule := p.judgeCity(text, f, i, bestEnd, best, sc)
	sc.cityHits = append(sc.cityHits, cityHit{start: int32(i), end: int32(bestEnd), field: f, rec: rec, rule: rule})
	return bestEnd
}

// inWord marks the bytes of words: ASCII letters and digits, and every byte
// of a multi-byte UTF-8 sequence.
var inWord = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= utf8.RuneSelf
	}
	return t
}()

// bitset is a Bloom-like filter over word hashes: the scanner looks a
// capitalised word up in cityFirst only when its bit is set, which spares
// most map lookups.
type bitset []uint64

const firstBitsLog = 20

func (b bitset) has(h uint32) bool {
	h &= 1<<firstBitsLog - 1
	return b[h>>6]&(1<<(h&63)) != 0
}

func (b bitset) set(h uint32) {
	h &= 1<<firstBitsLog - 1
	b[h>>6] |= 1 << (h & 63)
}

// fnv1a hashes s as cityWordEnd does.
func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func wordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= utf8.RuneSelf
}

func wordStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf
}

// cityWordEnd returns the end of the word of letters at i and the FNV-1a
// hash of its bytes.
func cityWordEnd(text string, i int) (int, uint32) {
	h := uint32(2166136261)
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return i, h
			}
			h = (h ^ uint32(c)) * 16777619
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			return i, h
		}
		for k := 0; k < n; k++ {
			h = (h ^ uint32(text[i+k])) * 16777619
		}
		i += n
	}
	return i, h
}

var personTitles = map[string]bool{
	"Mr.": true, "Mrs.": true, "Ms.": true, "Dr.": true, "Gen.": true, "Sen.": true, "Rep.": true,
	"Gov.": true, "Lt.": true, "Col.": true, "Sgt.": true, "Capt.": true, "Prof.": true, "Rev.": true,
	"Adm.": true, "Maj.": true, "Cpl.": true, "Pvt.": true, "Judge": true, "coach": true, "Coach": true,
}

var personVerbs = []string{" said", " says", " told", " added", " wrote", " argued", " insisted", " scored",
	" threw", " ran ", " won ", " was sacked", " is expected", " declined", " tweeted", " posted"}

// judgeCity decides a city name at text[start:end]: the record it names
// and the rule, or -1 and the rule that rejected it.
func (p *Parser) judgeCity(text string, f field, start, end int, n *cityName, sc *scratch) (int32, string) {
	g := p.g
	name := text[start:end]
	if start > 0 && text[start-1] == '-' {
		return -1, "part-of-word" // "T-Mobile"
	}
	if end < len(text) && text[end] == '-' && !strings.HasPrefix(text[end:], "-based") {
		return -1, "part-of-word" // "Paris-Saint-Germain"
	}
	if start >= 2 && text[start-1] == ' ' && personTitles[prevWord(text[:start-1])] {
		sc.cityPersons = append(sc.cityPersons, name)
		return -1, "person"
	}
	for _, v := range personVerbs {
		if n.person && strings.HasPrefix(text[end:], v) { // "Moscow said" is the government
			sc.cityPersons = append(sc.cityPersons, name)
			return -1, "person"
		}
	}
	// Another capitalised name before or after: part of a longer name.
	if personAdjacent(text, start, end) {
		if n.person {
			sc.cityPersons = append(sc.cityPersons, name)
		}
		return -1, "longer-name"
	}
	if strings.HasPrefix(text[end:], " state") {
		return -1, "division" // "Washington state"
	}
	if start >= 4 && text[start-4:start] == " of " {
		if w := prevWord(text[:start-4]); w != "" && startsUpper(w) && sentenceStart(text, start-4-len(w)) < 0 {
			return -1, "longer-name" // "University of Reading"
		}
	}
	if rec, ok := p.qualifiedCity(text, end, n); ok {
		if !sc.storyCountry(g.cityRecs[rec].cc) {
			return -1, "no-story-country" // a city's country is always one of the story's
		}
		return rec, "qualified"
	}
	if sc.locCity >= 0 && containsIdx(n.recs, sc.locCity) {
		return sc.locCity, "dateline-city"
	}
	if n.clash {
		return -1, "country-or-division"
	}
	cue := start >= 2 && text[start-1] == ' ' && isCue(prevWord(text[:start-1])) && sentenceStart(text, start) < 0
	rule := "city"
	if n.word || n.person {
		if !cue {
			if n.word {
				return -1, "common-word"
			}
			return -1, "person-name"
		}
		rule = "city+cue"
	}
	// The country rules' decision on the same text (a major city is also
	// a country mention): its rejection stands, its country narrows.
	only := int32(-1)
	// sc.hits are in (field, start) order: the headline's, then the body's.
	k, _ := slices.BinarySearchFunc(sc.hits, hitKey{f, int32(start)}, func(h hit, k hitKey) int {
		if h.field != k.f {
			return int(h.field) - int(k.f)
		}
		return int(h.start - k.start)
	})
	if k < len(sc.hits) {
		if h := &sc.hits[k]; h.field == f && int(h.start) == start && int(h.end) == end {
			if h.cc < 0 {
				return -1, h.rule
			}
			only = h.cc
		}
	}
	best, second := int32(-1), int64(0)
	for _, rec := range n.recs {
		r := &g.cityRecs[rec]
		if only >= 0 && r.cc != only {
			continue
		}
		if !sc.storyCountry(r.cc) {
			continue
		}
		if best < 0 {
			best = rec
			continue
		}
		second = r.pop
		break
	}
	if best < 0 {
		return -1, "no-story-country"
	}
	b := &g.cityRecs[best]
	if b.pop < minMentionPop && !b.capital {
		return -1, "small"
	}
	for _, cc := range n.divisions {
		if cc != b.cc && sc.storyCountry(cc) {
			// Victoria in a story about Australia is the state, not
			// Victoria, B.C.; a division around its own city (Córdoba,
			// New York) does not count.
			return -1, "division"
		}
	}
	if rule == "city" && b.pop < minSentenceStartPop && !b.capital && (f == fHeadline || sentenceStart(text, start) >= 0) {
		// Capitals say nothing at a sentence start or in a title-case
		// headline: "Hurricane Sally" is no visit to Hurricane, Utah.
		return -1, "sentence-start"
	}
	if second*2 > b.pop {
		return -1, "ambiguous"
	}
	return best, rule
}

// qualifiedCity reads ", Qualifier" after a city name: a division or
// country that has a city of this name.
func (p *Parser) qualifiedCity(text string, end int, n *cityName) (int32, bool) {
	if end+2 >= len(text) || text[end] != ',' || text[end+1] != ' ' {
		return -1, false
	}
	q := text[end+2:]
	k := 0
	for k < len(q) && k < 40 {
		c := q[k]
		if c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '"' || c == '\n' {
			break
		}
		if c == '.' && (k+1 == len(q) || q[k+1] == ' ' || q[k+1] == ',') && !abbrevBefore(q[:k+1]) {
			break
		}
		k++
	}
	qual := strings.TrimSpace(q[:k])
	if qual == "" || !startsUpper(qual) {
		return -1, false
	}
	g := p.g
	for qual != "" {
		qk := fold(qual)
		for _, a := range g.admins[qk] {
			for _, rec := range n.recs {
				if r := &g.cityRecs[rec]; r.cc == a.cc && r.admin == a.code {
					return rec, true
				}
			}
		}
		for _, cc := range g.countryKeys[qk] {
			for _, rec := range n.recs {
				if g.cityRecs[rec].cc == cc {
					return rec, true
				}
			}
		}
		sp := strings.LastIndexByte(qual, ' ')
		if sp < 0 {
			break
		}
		qual = qual[:sp]
	}
	return -1, false
}

func (sc *scratch) storyCountry(cc int32) bool {
	for i := range sc.tallies {
		if sc.tallies[i].cc == cc && sc.tallies[i].score > 0 {
			return true
		}
	}
	return false
}

// cityPlaces turns the accepted city hits into places: the located city
// (relevance 100), then the mentioned ones by relevance, at most maxCities.
func (p *Parser) cityPlaces(s *proto.Story, sc *scratch, bodyStart int) []proto.Place {
	g := p.g
	scores := sc.cityScores[:0]
	firstPara := -1
	for _, h := range sc.cityHits {
		if h.rec < 0 || h.rec == sc.locCity {
			continue
		}
		w := 0.8
		if h.field == fHeadline {
			w *= 3
		} else {
			if firstPara < 0 {
				firstPara = paragraphEnd(s.BodyText, bodyStart)
			}
			if int(h.start) < firstPara {
				w *= 2
			}
		}
		found := false
		for i := range scores {
			if scores[i].rec == h.rec {
				scores[i].w += w
				found = true
			}
		}
		if !found {
			scores = append(scores, cityScore{rec: h.rec, w: w})
		}
	}
	sc.cityScores = scores
	n := len(scores)
	if sc.locCity >= 0 {
		n++
	}
	if n == 0 {
		return nil
	}
	n = min(n, maxCities)
	out := make([]proto.Place, 0, n)
	// One allocation for the points of all the story's cities, one for
	// their coordinates.
	geoms := make([]proto.Geometry, n)
	coords := make([]float64, 2*n)
	add := func(rec int32, rel string, relevance int32) {
		r := &g.cityRecs[rec]
		k := len(out)
		coords[2*k], coords[2*k+1] = r.lon, r.lat
		geoms[k] = proto.Geometry{Type: "Point", Coordinates: coords[2*k : 2*k+2 : 2*k+2]}
		out = append(out, proto.Place{Name: r.name, Scheme: proto.SchemeGeoNames, Code: r.id, Rel: rel, Relevance: relevance, Geometry: &geoms[k]})
	}
	if sc.locCity >= 0 {
		add(sc.locCity, proto.RelLocated, 100)
	}
	slices.SortStableFunc(scores, func(a, b cityScore) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		}
		return strings.Compare(g.cityRecs[a.rec].id, g.cityRecs[b.rec].id)
	})
	for _, c := range scores {
		if len(out) == maxCities {
			break
		}
		add(c.rec, proto.RelMentioned, relevance(c.w, false))
	}
	return out
}

type hitKey struct {
	f     field
	start int32
}

type cityScore struct {
	rec int32
	w   float64
}

// isCue reports whether w, in any case, is one of cues, without allocating.
func isCue(w string) bool {
	var buf [16]byte
	if len(w) > len(buf) {
		return false
	}
	for i := 0; i < len(w); i++ {
		buf[i] = lowerASCII(w[i])
	}
	return cues[string(buf[:len(w)])]
}

// leadOf returns body up to cityLeadBytes after from, cut at a space so
// that no name is cut in two.
func leadOf(body string, from int) string {
	end := from + cityLeadBytes
	if end >= len(body) {
		return body
	}
	if k := strings.LastIndexByte(body[from:end], ' '); k >= 0 {
		end = from + k
	}
	return body[:end]
}
