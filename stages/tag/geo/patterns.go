package geo

import (
	"sort"
	"strings"
)

// kind is what a mention pattern names.
type kind uint8

const (
	kindName    kind = iota // a country's name or alias
	kindPlace               // a sub-national place, old name or metonym
	kindCity                // a capital or major city
	kindAdmin               // a first-level division (US state...)
	kindDemonym             // an adjective or demonym
	kindBlock               // a phrase that means no place
)

var kindNames = [...]string{"name", "place", "city", "admin", "demonym", "block"}

func (k kind) String() string { return kindNames[k] }

// weight is how much a mention of this kind says about a country.
var kindWeight = [...]float64{1.0, 0.9, 0.8, 0.8, 0.6, 0}

// pattern is one mention pattern: its canonical text (case matters) and the
// countries it can mean, the default first.
type pattern struct {
	canon  string
	kind   kind
	cands  []int32
	weak   bool // needs a cue or other evidence
	person bool // rejected next to another capitalised name
	ambig  bool // several candidates: context decides
	noun   bool // also a common noun in lower case (turkey, china)
}

type candidate struct {
	cc     int32
	weight float64
}

type patEntry struct {
	kind  kind
	cands []candidate
}

type patternBuilder struct {
	ov      *overrides
	entries map[string]*patEntry
	order   []string
}

func newPatternBuilder(ov *overrides) *patternBuilder {
	return &patternBuilder{ov: ov, entries: map[string]*patEntry{}}
}

// kindRank orders kinds when one text is added with several: a country's
// name wins over a city of the same name.
func (b *patternBuilder) add(text string, k kind, cc int32) {
	b.addWeighted(text, k, cc, 0)
}

func (b *patternBuilder) addWeighted(text string, k kind, cc int32, w float64) {
	text = strings.TrimSpace(text)
	if len(text) < 2 {
		return
	}
	if w == 0 {
		w = [...]float64{1e12, 1e11, 1e6, 1e9, 1e10, 0}[k]
	}
	e, ok := b.entries[text]
	if !ok {
		e = &patEntry{kind: k}
		b.entries[text] = e
		b.order = append(b.order, text)
	}
	if k < e.kind {
		e.kind = k
	}
	for i := range e.cands {
		if e.cands[i].cc == cc {
			if w > e.cands[i].weight {
				e.cands[i].weight = w
			}
			return
		}
	}
	e.cands = append(e.cands, candidate{cc, w})
}

func (b *patternBuilder) addDemonym(d string, cc int32) {
	b.add(d, kindDemonym, cc)
	if !(strings.HasSuffix(d, "s") || strings.HasSuffix(d, "sh") || strings.HasSuffix(d, "ch") ||
		strings.HasSuffix(d, "z") || strings.HasSuffix(d, "x") || strings.HasSuffix(d, "ese") || strings.HasSuffix(d, "-based")) {
		b.add(d+"s", kindDemonym, cc)
	}
}

// build resolves the entries into patterns: drops, blocks, ambiguity
// orders, weak and person flags, and accent and apostrophe variants.
func (b *patternBuilder) build(g *Gazetteer) ([]pattern, error) {
	for t := range b.ov.block {
		if _, ok := b.entries[t]; !ok {
			b.entries[t] = &patEntry{kind: kindBlock}
			b.order = append(b.order, t)
		} else {
			b.entries[t].kind = kindBlock
		}
	}
	sort.Strings(b.order)
	var out []pattern
	seen := map[string]bool{}
	for _, text := range b.order {
		if b.ov.drop[text] || seen[text] || ('a' <= text[0] && text[0] <= 'z') {
			// Names written in lower case ("guinea pig", "al-Mamlakah...")
			// can never match a capitalised place; the matcher only starts
			// at capitals.
			continue
		}
		seen[text] = true
		e := b.entries[text]
		p := pattern{canon: text, kind: e.kind}
		if e.kind != kindBlock {
			cs := append([]candidate(nil), e.cands...)
			sort.SliceStable(cs, func(i, j int) bool {
				if cs[i].weight != cs[j].weight {
					return cs[i].weight > cs[j].weight
				}
				// A sovereign state before a dependent territory ("Norwegian").
				return g.countries[cs[i].cc].independent && !g.countries[cs[j].cc].independent
			})
			if order, ok := b.ov.ambiguous[text]; ok {
				p.cands = nil
				for _, code := range order {
					i, ok := g.byCC[code]
					if !ok {
						return nil, errUnknownCountry(code)
					}
					p.cands = append(p.cands, i)
				}
				p.ambig = len(p.cands) > 1
			} else {
				for _, c := range cs {
					p.cands = append(p.cands, c.cc)
				}
				if len(cs) > 1 {
					p.ambig = true
					// Several countries and no review: a city of the same name
					// elsewhere that is a sixth as big makes it weak.
					if e.kind == kindCity && cs[1].weight*6 >= cs[0].weight {
						p.weak = true
					}
					if e.kind < kindCity && cs[1].weight >= 1e12 {
						p.weak = true
					}
				}
			}
			if _, reviewed := b.ov.ambiguous[text]; !reviewed && e.kind == kindCity {
				// A city of a sixth the size or more elsewhere makes the
				// name ambiguous even if that one is too small to be a pattern.
				if cs := g.cities[fold(text)]; len(cs) > 0 {
					for _, c := range cs[1:] {
						if c.pop*6 >= cs[0].pop && !containsIdx(p.cands, c.cc) {
							p.cands = append(p.cands, c.cc)
							p.ambig, p.weak = true, true
						}
					}
				}
			}
			p.noun = b.ov.noun[text]
			p.weak = p.weak || b.ov.weak[text]
			p.person = p.person || b.ov.person[text] || p.weak
		}
		out = append(out, p)
		for _, v := range variants(text) {
			if v != text && !seen[v] && !b.ov.drop[v] {
				if _, own := b.entries[v]; own {
					continue
				}
				seen[v] = true
				q := p
				q.canon = v
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// variants are the accent-free and apostrophe spellings of a pattern.
func variants(s string) []string {
	vs := []string{deaccented(s)}
	for _, v := range []string{s, vs[0]} {
		if strings.Contains(v, "'") {
			vs = append(vs, strings.ReplaceAll(v, "'", "\u2019"))
		}
	}
	return vs
}
