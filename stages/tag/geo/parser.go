package geo

import (
	"sync"

	"github.com/wirestream/wirestream/proto"
)

// Fields of a story in which evidence is found.
const (
	FieldLocated  = "located"  // the located field
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

	lang         string // the story's primary language tag, lower case ("fr")
	fromDateline bool   // the located field is the body's dateline: evidence in the body
	bodyStart    int    // where mentions start in the body

	// Cities (cities.go).
	cityHits    []cityHit
	cityPersons []string // city names rejected as a person's in this story
	cityScores  []cityScore
	locCity     int32 // the located city's record, or -1
	locCityRule string
	regions     []regionScore
	rels        []int32
}

type lowerSeen struct {
	word int32
	seen bool
}

type match struct {
	start, end int32
	word       int32
}

// Tag returns the places of a story: the located country (s.Located
// resolved; ingest fills it from the dateline when the provider sent none,
// so a story has a located country exactly when its located field names a
// known place), mentioned countries, and their M49 intermediate region,
// subregion and region roll-ups. The body's dateline (s.Dateline, as ingest
// records it) is not scanned for mentions.
// Deterministic order: located first, then by relevance descending, then
// code.
func (p *Parser) Tag(s *proto.Story) []*proto.Place {
	if s == nil {
		return nil
	}
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	loc, _ := p.analyze(s, sc)
	return p.places(s, sc, loc)
}

// Explain returns the same places as Tag with their evidence: the matched
// text, its byte offsets, the field (located, headline or body) and the
// rule that fired. The located country's evidence is the dateline in the
// body (rule "dateline:...") when the located field came from it
// (textkit.LocatedFromDateline), else the located field ("located:...").
func (p *Parser) Explain(s *proto.Story) []Explained {
	if s == nil {
		return nil
	}
	sc := &scratch{}
	loc, l := p.analyze(s, sc)
	places := p.places(s, sc, loc)
	out := make([]Explained, len(places))
	idx := map[string]int{}
	for i, pl := range places {
		out[i].Place = *pl
		idx[pl.Scheme+"/"+pl.Code] = i
	}
	if loc >= 0 {
		// The located field, or the dateline it came from in the body.
		e := Evidence{Field: FieldLocated, Text: l.Text, Start: l.Start, End: l.End, Rule: "located:" + l.Rule}
		if sc.fromDateline {
			off := int(s.Dateline.Start)
			e = Evidence{Field: FieldBody, Text: l.Text, Start: off + l.Start, End: off + l.End, Rule: "dateline:" + l.Rule}
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
	if sc.locCity >= 0 {
		if i, ok := idx[proto.SchemeGeoNames+"/"+p.g.cityRecs[sc.locCity].id]; ok {
			e := Evidence{Field: FieldLocated, Text: l.City, Start: l.Start, End: l.Start + len(l.City), Rule: "located:" + sc.locCityRule}
			if sc.fromDateline {
				off := int(s.Dateline.Start)
				e = Evidence{Field: FieldBody, Text: l.City, Start: off + l.Start, End: off + l.Start + len(l.City), Rule: "dateline:" + sc.locCityRule}
			}
			out[i].Evidence = append(out[i].Evidence, e)
		}
	}
	for _, h := range sc.cityHits {
		if h.rec < 0 {
			continue
		}
		if i, ok := idx[proto.SchemeGeoNames+"/"+p.g.cityRecs[h.rec].id]; ok {
			text := p.fieldText(s, h.field)
			out[i].Evidence = append(out[i].Evidence, Evidence{
				Field: h.field.String(), Text: text[h.start:h.end], Start: int(h.start), End: int(h.end), Rule: "city:" + h.rule,
			})
		}
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

// RejectedCities returns the city names found in a story that were not
// taken as cities, with the rule that rejected them ("longer-name",
// "person", "common-word", "person-name", "country-or-division",
// "division", "no-story-country", "small", "ambiguous", "sentence-start",
// "part-of-word", or a country rule's rejection), for --explain.
func (p *Parser) RejectedCities(s *proto.Story) []Evidence {
	if s == nil {
		return nil
	}
	sc := &scratch{}
	p.analyze(s, sc)
	var out []Evidence
	for _, h := range sc.cityHits {
		if h.rec >= 0 {
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

func (p *Parser) fieldText(s *proto.Story, f field) string {
	if f == fHeadline {
		return s.Headline
	}
	return s.BodyText
}
