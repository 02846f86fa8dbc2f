package geo

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dateline is a parsed dateline: the place text at the start of a story
// ("SAMARKAND, Uzbekistan", "LONDON", "CORNING, N.Y.") and the country it
// resolves to.
type Dateline struct {
	// Text is the place part of the dateline, without agency or date.
	Text string
	// Start and End are the byte offsets of Text in the parsed string.
	Start, End int
	// City and Qualifier split Text at its first comma ("SYDNEY", "Nova Scotia").
	City, Qualifier string
	// Country is the ISO 3166-1 alpha-2 code it resolves to, or "" when the
	// place is not in the gazetteer.
	Country string
	// Rule names how the country was found: "qualified-city", "qualifier",
	// "standalone", "city", "country".
	Rule string
	// BodyStart is the offset where the story text begins after the dateline
	// (after the agency and dash), or 0 for a located field.
	BodyStart int
}

// maxDateline is how far into a body a dateline may reach.
const maxDateline = 160

// ParseDateline finds and resolves the dateline at the start of a story
// body. ok is false when the body does not open with a dateline.
func (g *Gazetteer) ParseDateline(body string) (d Dateline, ok bool) {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	w := body[i:]
	if len(w) > maxDateline {
		w = w[:maxDateline]
		for len(w) > 0 && !utf8.ValidString(w) { // do not cut a rune
			w = w[:len(w)-1]
		}
	}
	if k := strings.IndexByte(w, '\n'); k >= 0 {
		w = w[:k]
	}
	end, bodyStart := datelineEnd(w)
	if end <= 0 {
		return Dateline{}, false
	}
	d, ok = g.resolveDateline(w[:end], i)
	if !ok || d.Country == "" {
		return Dateline{}, false
	}
	d.BodyStart = i + bodyStart
	return d, true
}

// ParseLocated resolves a located field such as "SAMARKAND, Uzbekistan".
func (g *Gazetteer) ParseLocated(located string) (d Dateline, ok bool) {
	return g.resolveDateline(located, 0)
}

// datelineEnd finds where the place-and-date part of a dateline ends (the
// agency in parentheses or the dash) and where the story text starts.
func datelineEnd(w string) (end, bodyStart int) {
	end = -1
	for j := 0; j < len(w); j++ {
		c := w[j]
		if c == '(' {
			k := strings.IndexByte(w[j:], ')')
			if k < 2 || k > 24 {
				return -1, 0
			}
			end = j
			bodyStart = j + k + 1
			break
		}
		if c == '-' && j > 0 && w[j-1] == ' ' && (j+1 == len(w) || w[j+1] == ' ' || w[j+1] == '-') {
			end = j
			bodyStart = j + 1
			break
		}
		if c == 0xE2 && j+2 < len(w) && w[j+1] == 0x80 && (w[j+2] == 0x94 || w[j+2] == 0x93) { // — or –
			end = j
			bodyStart = j
			break
		}
	}
	if end <= 0 {
		return -1, 0
	}
	// Skip the dash and spaces after an agency.
	for bodyStart < len(w) {
		switch {
		case w[bodyStart] == ' ' || w[bodyStart] == '-':
			bodyStart++
		case strings.HasPrefix(w[bodyStart:], "—") || strings.HasPrefix(w[bodyStart:], "–"):
			bodyStart += 3
		default:
			return end, bodyStart
		}
	}
	return end, bodyStart
}

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// isDate reports whether a dateline part is a date ("Sept 16", "Dec. 30",
// "16 September", "2022").
func isDate(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	digits, letters := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			letters++
		}
	}
	if digits == 0 {
		return false
	}
	if letters == 0 {
		return true
	}
	low := strings.ToLower(s)
	for _, m := range months {
		if strings.HasPrefix(low, m) || strings.Contains(low, " "+m) {
			return true
		}
	}
	return false
}

// placeLike reports whether s can be a place in a dateline.
func placeLike(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return false
	}
	words := 0
	for _, w := range strings.Fields(s) {
		words++
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !particles[w] {
			return false
		}
		for _, r := range w {
			if !(unicode.IsLetter(r) || r == '.' || r == '-' || r == '\'' || r == '\u2019') {
				return false
			}
		}
	}
	return words <= 5
}

// particles are the lower-case words allowed inside a place name.
var particles = map[string]bool{
	"de": true, "da": true, "do": true, "dos": true, "das": true, "del": true, "la": true, "le": true,
	"les": true, "du": true, "al": true, "el": true, "au": true, "of": true, "upon": true, "on": true,
	"am": true, "an": true, "der": true, "di": true, "y": true, "en": true, "sur": true, "and": true,
}

// resolveDateline resolves "CITY[, Qualifier][, Date]" at offset base.
func (g *Gazetteer) resolveDateline(s string, base int) (Dateline, bool) {
	// Trim trailing space.
	t := strings.TrimRight(s, " \t,")
	parts := strings.Split(t, ",")
	for len(parts) > 1 && isDate(parts[len(parts)-1]) {
		parts = parts[:len(parts)-1]
	}
	lead := len(t) - len(strings.TrimLeftFunc(t, unicode.IsSpace))
	city := strings.TrimSpace(parts[0])
	if !placeLike(city) {
		return Dateline{}, false
	}
	qual := ""
	if len(parts) > 1 {
		qual = strings.TrimSpace(parts[1])
		if !placeLike(qual) {
			return Dateline{}, false
		}
	}
	text := strings.Join(parts, ",")
	text = strings.TrimSpace(text)
	d := Dateline{Text: text, City: city, Qualifier: qual, Start: base + lead, End: base + lead + len(text)}
	cc, rule := g.resolvePlace(city, qual)
	if cc >= 0 {
		d.Country = g.countries[cc].code
		d.Rule = rule
	}
	return d, true
}

// resolvePlace resolves a city with an optional qualifier (a division,
// its abbreviation, or a country) to a country index, or -1.
func (g *Gazetteer) resolvePlace(city, qual string) (int32, string) {
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
