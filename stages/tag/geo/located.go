package geo

import (
	textkit "github.com/wirestream/wirestream/stages/internal/text"
)

// Location is a located field resolved against the gazetteer: the place as
// the dateline grammar reads it (textkit.ParsePlace) and the country it
// resolves to.
type Location struct {
	// Text is the place without a date ("SAMARKAND, Uzbekistan"); Start and
	// End are its byte offsets in the located field.
	Text       string
	Start, End int
	// City and Qualifier split Text at its first comma ("SYDNEY", "Nova Scotia").
	City, Qualifier string
	// Country is the ISO 3166-1 alpha-2 code it resolves to, or "" when the
	// place is not in the gazetteer.
	Country string
	// Rule names how the country was found: "qualified-city", "qualifier",
	// "standalone", "city", "country", "admin".
	Rule string
}

// ParseLocated resolves a located field such as "SAMARKAND, Uzbekistan" or
// "CORNING, N.Y.". ok is false when the field does not read as a place;
// Country is "" when it does but names no place the gazetteer knows.
func (g *Gazetteer) ParseLocated(located string) (l Location, ok bool) {
	return g.ParseLocatedIn(located, "")
}

// ParseLocatedIn is ParseLocated for a story in language lang (a BCP 47
// primary tag): a city name that several countries have, with no
// qualifier, is taken in a country of that language when one of them is
// (San José in Spanish copy is Costa Rica's, not California's) and that
// city is at least a fiftieth the size of the largest.
func (g *Gazetteer) ParseLocatedIn(located, lang string) (l Location, ok bool) {
	p, ok := textkit.ParsePlace(located)
	if !ok {
		return Location{}, false
	}
	l = Location{Text: p.Text, Start: p.Start, End: p.End, City: p.City, Qualifier: p.Qualifier}
	if cc, rule := g.resolvePlace(p.City, p.Qualifier, lang); cc >= 0 {
		l.Country, l.Rule = g.countries[cc].code, rule
	}
	return l, true
}

// resolvePlace resolves a city with an optional qualifier (a division,
// its abbreviation, or a country) to a country index, or -1.
func (g *Gazetteer) resolvePlace(city, qual, lang string) (int32, string) {
	ck := fold(city)
	cands := g.cities[ck]
	if qual != "" {
		qk := fold(qual)
		// Try every reading of the qualifier; the first that has the city wins.
		countries := g.countryKeys[qk]
		admins := g.admins[qk]
		for _, cc := range countries {
			for _, c := range cands {
				if c.cc == cc {
					return cc, "qualified-city"
				}
			}
		}
		for _, a := range admins {
			for _, c := range cands {
				if c.cc == a.cc && c.admin == a.code {
					return a.cc, "qualified-city"
				}
			}
		}
		for _, a := range admins {
			for _, c := range cands {
				if c.cc == a.cc {
					return a.cc, "qualified-city"
				}
			}
		}
		if len(countries) > 0 {
			return countries[0], "qualifier"
		}
		if len(admins) > 0 {
			return admins[0].cc, "qualifier"
		}
		if cs := g.cities[qk]; len(cs) > 0 { // "CITY, Province-capital" or an old name
			return cs[0].cc, "qualifier"
		}
	}
	if cc, ok := g.standalone[ck]; ok {
		return cc, "standalone"
	}
	if len(cands) > 1 && lang != "" {
		if home := languageCountries[lang]; home != nil {
			for _, c := range cands {
				if c.pop*50 < cands[0].pop {
					break
				}
				if home[g.countries[c.cc].code] {
					return c.cc, "city-language"
				}
			}
		}
	}
	if len(cands) > 0 {
		return cands[0].cc, "city"
	}
	if cs := g.countryKeys[ck]; len(cs) > 0 {
		return cs[0], "country"
	}
	if as := g.admins[ck]; len(as) == 1 {
		return as[0].cc, "admin"
	}
	return -1, ""
}

// languageCountries are the sovereign countries where a language is the
// main language of the press, for datelines that name a city of several
// countries.
var languageCountries = map[string]map[string]bool{
	"fr": set("FR", "BE", "CH", "LU", "MC", "CA", "SN", "CI", "ML", "BF", "NE", "GN", "BJ", "TG", "CM", "GA", "CG", "CD", "MG", "HT", "TN", "DZ", "MA"),
	"es": set("ES", "MX", "GT", "HN", "SV", "NI", "CR", "PA", "CU", "DO", "CO", "VE", "EC", "PE", "BO", "CL", "AR", "UY", "PY", "GQ"),
	"de": set("DE", "AT", "CH", "LI", "LU"),
}

func set(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}
