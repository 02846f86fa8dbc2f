package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDateline is how far into a body, after leading white space, a dateline
// may reach: its place, date, agency and dash end within this many bytes.
const MaxDateline = 160

// Limits of the place part of a dateline or located field.
const (
	maxPlaceParts = 3  // "CITY", "CITY, Qualifier", "CITY, State, Country"
	maxPartBytes  = 48 // one comma-separated part
	maxPartWords  = 6
	maxAgency     = 24 // bytes inside the parentheses
)

// Dateline is the parsed opening of a wire story, such as
// "SAMARKAND, Uzbekistan (AP) — ", "LONDON, Sept 16 (Reuters) - " or
// "WASHINGTON — ". Offsets are bytes into the parsed body.
type Dateline struct {
	Place
	// Agency is the agency in parentheses ("AP", "Reuters", "dpa/AFP"), or "".
	Agency string
	// BodyStart is where the story text begins: after the agency, the dash
	// and the spaces that follow.
	BodyStart int
}

// Place is the place part of a dateline or a located field, as written:
// "SAMARKAND, Uzbekistan", "CORNING, N.Y.", "LONDON".
type Place struct {
	// Text is the place without date or agency; Start and End are its byte
	// offsets in the parsed string.
	Text       string
	Start, End int
	// City and Qualifier are Text split at its first comma ("SYDNEY",
	// "Nova Scotia"); Qualifier is the second part only ("Kan." of
	// "TOPEKA, Kan., USA") and "" when there is none.
	City, Qualifier string
	// Date is a date written after the place ("Sept 16", "16 September",
	// "2022", "Sept. 16, 2022"), or "".
	Date string
}

// ParseDateline finds the dateline at the start of body. ok is false when
// body does not open with one. Recognised shapes (white space before them
// is skipped; the whole dateline is on the first line, within MaxDateline
// bytes):
//
//	CITY (AP) —                 CITY, Country (AP) —      City (AFP) -
//	CITY, St. (AP) —            CITY, Sept 16 (Reuters) - CITY, 16 September (AFP) -
//	CITY, Country, 2022 (AP) —  CITY (Xinhua) --          CITY (AP) text...
//	CITY —                      CITY, Mon DD -            (no agency: the city in capitals)
//
// The dash is an em dash, an en dash, "--" or a hyphen after a space; it may
// be left out after an agency. The date test is IsDate, the place test
// ParsePlace.
func ParseDateline(body string) (d Dateline, ok bool) {
	lead := 0
	for lead < len(body) && isSpaceByte(body[lead]) {
		lead++
	}
	w := body[lead:]
	if len(w) > MaxDateline {
		cut := MaxDateline
		for cut > 0 && !utf8.RuneStart(w[cut]) {
			cut-- // do not cut a rune
		}
		w = w[:cut]
	}
	if k := strings.IndexByte(w, '\n'); k >= 0 {
		w = w[:k]
	}
	headEnd, rest, agency := -1, 0, ""
	for j := 0; j < len(w) && headEnd < 0; j++ {
		switch {
		case w[j] == '(':
			k := strings.IndexByte(w[j:], ')')
			if k < 0 || !isAgency(w[j+1:j+k]) {
				return Dateline{}, false
			}
			headEnd, agency = j, w[j+1:j+k]
			rest = j + k + 1
			rest = skipSpaces(w, rest)
			if n := dashAt(w, rest); n > 0 {
				rest = skipSpaces(w, rest+n)
			}
		default:
			if n := dashAt(w, j); n > 0 {
				headEnd = j
				rest = skipSpaces(w, j+n)
			}
		}
	}
	if headEnd <= 0 {
		return Dateline{}, false
	}
	p, ok := ParsePlace(w[:headEnd])
	if !ok || agency == "" && !capitals(p.City) {
		return Dateline{}, false
	}
	p.Start += lead
	p.End += lead
	return Dateline{Place: p, Agency: agency, BodyStart: lead + rest}, true
}

// dashAt returns the length of the dateline dash at s[i:], or 0: an em or en
// dash anywhere, or "-" or "--" after a space and before a space or the end.
func dashAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch {
	case strings.HasPrefix(s[i:], "—"), strings.HasPrefix(s[i:], "–"):
		return len("—")
	case s[i] == '-' && i > 0 && s[i-1] == ' ':
		n := 1
		if i+1 < len(s) && s[i+1] == '-' {
			n = 2
		}
		if i+n == len(s) || s[i+n] == ' ' {
			return n
		}
	}
	return 0
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isAgency accepts what an agency in parentheses looks like: a letter, then
// letters, spaces, periods, hyphens, '&' and '/' ("AP", "dpa/AFP", "AP & AFP").
func isAgency(s string) bool {
	if s == "" || len(s) > maxAgency {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsLetter(r) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && r != ' ' && r != '-' && r != '&' && r != '/' && r != '.' {
			return false
		}
	}
	return true
}

// ParsePlace parses the place part of a dateline or a located field:
// "CITY[, Qualifier[, Country]][, date...]". Trailing date parts (IsDate)
// go to Date; each place part must look like a place name: an upper-case
// initial, at most six words that start upper-case or are particles ("de",
// "al", "upon"...), letters, marks, periods, hyphens and apostrophes only.
// ok is false for anything else.
func ParsePlace(s string) (p Place, ok bool) {
	t := strings.TrimRight(s, " \t,")
	place, date := SplitDate(t)
	if place == "" {
		return Place{}, false
	}
	parts := 0
	for part := range strings.SplitSeq(place, ",") {
		part = strings.TrimSpace(part)
		parts++
		if parts > maxPlaceParts || !placeLike(part) {
			return Place{}, false
		}
		switch parts {
		case 1:
			p.City = part
		case 2:
			p.Qualifier = part
		}
	}
	p.Start = strings.Index(t, place)
	p.End = p.Start + len(place)
	p.Text = place
	p.Date = date
	return p, true
}

// SplitDate splits s at the comma before its trailing date parts:
// "SAMARKAND, Uzbekistan, Nov 27" gives "SAMARKAND, Uzbekistan" and
// "Nov 27"; "Nov 27" gives "" and "Nov 27". Both are trimmed of white space;
// place is s trimmed when no part is a date.
func SplitDate(s string) (place, date string) {
	cut := len(s)
	for cut >= 0 {
		k := strings.LastIndexByte(s[:cut], ',')
		if !IsDate(s[k+1 : cut]) {
			break
		}
		cut = k
	}
	if cut < 0 {
		return "", strings.TrimSpace(s)
	}
	if cut == len(s) {
		return strings.TrimSpace(s), ""
	}
	return strings.TrimSpace(s[:cut]), strings.TrimSpace(s[cut+1:])
}

// IsDate reports whether s is a date as datelines write one: one to three
// words, each a month name or abbreviation ("Sept", "Sept.", "September"), a
// day ("16", "16th") or a year ("2022"), with at least one number and at most
// one month ("Sept 16", "16 September", "Sept. 16 2022", "2022"); or one
// numeric date ("2026-11-27", "27/11", "27.11.2026").
func IsDate(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 3 {
		return false
	}
	if len(f) == 1 && numericDate(f[0]) {
		return true
	}
	months, days, years := 0, 0, 0
	for _, w := range f {
		w = strings.TrimRight(w, ".,")
		switch {
		case isMonth(w):
			months++
		case isDay(w):
			days++
		case len(w) == 4 && allDigits(w):
			years++
		default:
			return false
		}
	}
	return months <= 1 && days <= 1 && years <= 1 && days+years > 0
}

// months are the month names and abbreviations of datelines, lower case.
var months = []string{
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
	"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december",
	// French (AFP: "PARIS, 3 mars 2024 (AFP) -"), with and without accents.
	"janvier", "février", "fevrier", "mars", "avril", "mai", "juin", "juillet", "août", "aout", "septembre", "octobre",
	"novembre", "décembre", "decembre", "janv", "févr", "fevr", "avr", "juil", "déc",
	// Spanish (EFE: "Madrid, 3 mar (EFE).-").
	"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "setiembre", "octubre",
	"noviembre", "diciembre", "ene", "abr", "ago", "dic",
	// German (dpa datelines rarely carry one: "Berlin, 3. März (dpa) -").
	"januar", "jänner", "februar", "märz", "mai", "juni", "juli", "oktober", "dezember", "okt", "dez",
}

func isMonth(w string) bool {
	if len(w) < 3 || len(w) > len("septiembre") {
		return false
	}
	for _, m := range months {
		if strings.EqualFold(w, m) {
			return true
		}
	}
	return false
}

// isDay accepts 1-31, optionally with an ordinal suffix ("16th", "1st").
func isDay(w string) bool {
	n := 0
	for n < len(w) && n < 2 && '0' <= w[n] && w[n] <= '9' {
		n++
	}
	if n == 0 {
		return false
	}
	switch strings.ToLower(w[n:]) {
	case "", "st", "nd", "rd", "th", "er": // "1er" (French)
	default:
		return false
	}
	d := int(w[0] - '0')
	if n == 2 {
		d = d*10 + int(w[1]-'0')
	}
	return d >= 1 && d <= 31
}

// numericDate accepts digits with '-', '/' or '.' between them.
func numericDate(w string) bool {
	digits := 0
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case '0' <= c && c <= '9':
			digits++
		case (c == '-' || c == '/' || c == '.') && i > 0 && i < len(w)-1:
		default:
			return false
		}
	}
	return digits > 0
}

func allDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// placeLike reports whether one comma-separated part can be a place name.
func placeLike(s string) bool {
	if s == "" || len(s) > maxPartBytes {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return false
	}
	words := 0
	for w := range strings.FieldsSeq(s) {
		words++
		if words > maxPartWords || !placeWord(w) {
			return false
		}
	}
	return true
}

// placeWord accepts a word of a place name: upper-case initial ("Nova",
// "N.Y.", "PORT-OF-SPAIN"), a particle ("de", "upon"), or a particle joined
// to a name by an apostrophe or hyphen ("d'Ivoire", "al-Arish").
func placeWord(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != '.' && r != '-' && r != '/' && r != '\'' && r != '’' {
			return false
		}
	}
	r, _ := utf8.DecodeRuneInString(w)
	if unicode.IsUpper(r) || particles[w] {
		return true
	}
	k := strings.IndexAny(w, "'’-")
	if k <= 0 || !particles[w[:k]] {
		return false
	}
	_, n := utf8.DecodeRuneInString(w[k:])
	r, _ = utf8.DecodeRuneInString(w[k+n:])
	return unicode.IsUpper(r)
}

// particles are the lower-case words allowed inside a place name.
var particles = map[string]bool{
	"de": true, "da": true, "do": true, "dos": true, "das": true, "del": true, "della": true, "la": true,
	"le": true, "les": true, "du": true, "des": true, "al": true, "el": true, "au": true, "aux": true,
	"of": true, "upon": true, "on": true, "am": true, "an": true, "der": true, "di": true, "y": true,
	"en": true, "sur": true, "and": true, "d": true, "l": true,
}

// capitals reports whether s is written in capitals ("WASHINGTON", "NEW
// YORK", "ST. LOUIS"): no lower-case letter, at least two letters.
func capitals(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}
