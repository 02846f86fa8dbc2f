package geo

import (
	"math"
	"slices"
	"strings"

	"github.com/wirestream/wirestream/proto"
)

type regionScore struct {
	code    string
	rel     float64
	located bool
}

// places turns the tallies into sorted places with roll-ups.
func (p *Parser) places(s *proto.Story, sc *scratch, loc int32) []*proto.Place {
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
	cities := p.cityPlaces(s, sc, sc.bodyStart)
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
	slab := make([]proto.Place, 0, n+len(rs)+len(cities))
	out := make([]*proto.Place, 0, n+len(rs)+len(cities))
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
	// The located city ends the located places; the mentioned cities
	// follow the mentioned countries and regions (cityPlaces orders them).
	nLoc := 0
	for nLoc < len(out) && out[nLoc].Rel == proto.RelLocated {
		nLoc++
	}
	for i := range cities {
		slab = append(slab, cities[i])
		c := &slab[len(slab)-1]
		if c.Rel == proto.RelLocated {
			out = slices.Insert(out, nLoc, c)
			nLoc++
		} else {
			out = append(out, c)
		}
	}
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
