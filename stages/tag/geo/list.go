package geo

import "sort"

// Area is a country or an M49 region as a user picks it from a list.
type Area struct {
	Code string // ISO 3166-1 alpha-2 for a country, the M49 code for a region
	Name string
	// Kind is "country", "region", "subregion" or "intermediate".
	Kind string
	// Numeric is a country's ISO 3166-1 numeric code (the id maps of Natural
	// Earth and world-atlas use); empty for a region.
	Numeric string
	// Within is the M49 regions above, nearest first (World excluded).
	Within []string
}

// Areas lists every country and M49 region of the gazetteer: countries
// by name, then regions by code.
func (g *Gazetteer) Areas() []Area {
	out := make([]Area, 0, len(g.countries)+len(g.regions))
	for _, c := range g.countries {
		out = append(out, Area{Code: c.code, Name: c.name, Kind: "country", Numeric: c.m49, Within: append([]string(nil), c.chain...)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	n := len(out)
	kinds := map[int]string{1: "region", 2: "subregion", 3: "intermediate"}
	for _, r := range g.regions {
		a := Area{Code: r.code, Name: r.name, Kind: kinds[r.typ]}
		if a.Kind == "" {
			a.Kind = "region"
		}
		for p := g.regions[r.parent]; p != nil && p.code != "001"; p = g.regions[p.parent] {
			a.Within = append(a.Within, p.code)
		}
		out = append(out, a)
	}
	sort.Slice(out[n:], func(i, j int) bool { return out[n+i].Code < out[n+j].Code })
	return out
}
