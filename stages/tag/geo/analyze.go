package geo

import (
	"strings"

	"github.com/wirestream/wirestream/proto"
	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// analyze fills sc.hits and sc.tallies and returns the located country (or
// -1) and the resolved located field. Its steps run in order, each on what
// the earlier ones left in sc: the located country, the mentions, the
// qualification and person rules, the evidence of strong mentions, the
// decisions on ambiguous and weak mentions, and the scores.
func (p *Parser) analyze(s *proto.Story, sc *scratch) (int32, Location) {
	sc.hits = sc.hits[:0]
	sc.tallies = sc.tallies[:0]
	sc.persons = sc.persons[:0]
	sc.lower = sc.lower[:0]
	sc.lang = primaryLanguage(s.Language)

	loc, l, bodyStart := p.locate(s, sc)
	p.collect(s.Headline, 0, fHeadline, sc)
	p.collect(s.BodyText, bodyStart, fBody, sc)
	p.qualify(s, sc, loc, l.City)
	p.strongEvidence(sc, loc)
	p.decideAmbiguous(s, sc)
	p.score(s, sc, loc, bodyStart)
	sc.bodyStart = bodyStart
	p.findCities(s, sc, loc, l, bodyStart)
	return loc, l
}

// locate resolves s.Located to the located country (-1 when it names no
// known place: there is no other source, so located and the rel:located
// place always agree) and returns where mentions start in the body: after
// the dateline ingest recorded, if it fits the body.
func (p *Parser) locate(s *proto.Story, sc *scratch) (loc int32, l Location, bodyStart int) {
	loc = -1
	if s.Located != "" {
		if pl, ok := p.g.ParseLocatedIn(s.Located, sc.lang); ok {
			l = pl
			if l.Country != "" {
				loc = p.g.byCC[l.Country]
			}
		}
	}
	sc.fromDateline = false
	if textkit.DatelineFits(s) {
		bodyStart = int(s.Dateline.BodyStart)
		sc.fromDateline = textkit.LocatedFromDateline(s)
	}
	return loc, l, bodyStart
}

// qualify applies the rules that decide a mention from its neighbourhood:
// the located city named again, "Moscow, Idaho", "Jersey City", a common
// noun at a sentence start, a demonym used as a language, a person's name.
func (p *Parser) qualify(s *proto.Story, sc *scratch, loc int32, city string) {
	g := p.g
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &g.pats[h.pat]
		text := p.fieldText(s, h.field)
		if pt.kind == kindCity || pt.kind == kindPlace || pt.kind == kindAdmin {
			if loc >= 0 && pt.cands[0] != loc && sameName(text[h.start:h.end], city) {
				// The located city again: "PARIS, Texas ... the town of Paris".
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
}

// strongEvidence counts the located country and the unambiguous, strong
// mentions the rules left undecided as evidence for their countries.
func (p *Parser) strongEvidence(sc *scratch, loc int32) {
	if loc >= 0 {
		sc.tally(loc).evidence += 2
	}
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &p.g.pats[h.pat]
		if h.rule != "" || pt.ambig || pt.weak {
			continue
		}
		h.cc = pt.cands[0]
		h.rule = pt.kind.String()
		sc.tally(h.cc).evidence++
	}
}

// decideAmbiguous gives each ambiguous or weak mention the candidate
// country with the most evidence, or rejects a weak one that has been a
// person's name in this story.
func (p *Parser) decideAmbiguous(s *proto.Story, sc *scratch) {
	for i := range sc.hits {
		h := &sc.hits[i]
		pt := &p.g.pats[h.pat]
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
}

// score weighs every accepted mention (headline three times, the first
// paragraph twice) into its country's score; the located country gets 100.
func (p *Parser) score(s *proto.Story, sc *scratch, loc int32, bodyStart int) {
	firstPara := paragraphEnd(s.BodyText, bodyStart)
	for i := range sc.hits {
		h := &sc.hits[i]
		if h.cc < 0 {
			continue
		}
		w := kindWeight[p.g.pats[h.pat].kind]
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
}

var (
	contextRule = [...]string{"name+context", "place+context", "city+context", "admin+context", "demonym+context", "block"}
	cueRule     = [...]string{"name+cue", "place+cue", "city+cue", "admin+cue", "demonym+cue", "block"}
)

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

// primaryLanguage is the lower-case primary subtag of a BCP 47 tag ("fr"
// of "fr-CA"), without allocating for tags already in that form.
func primaryLanguage(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	for i := 0; i < len(tag); i++ {
		if 'A' <= tag[i] && tag[i] <= 'Z' {
			return strings.ToLower(tag)
		}
	}
	return tag
}
