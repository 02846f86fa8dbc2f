package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dateline is the parsed opening of a wire story, such as
// "SAMARKAND, Uzbekistan (AP) —" or "LONDON, Sept 16 (Reuters) -".
type Dateline struct {
	Located string // the place as written: "SAMARKAND, Uzbekistan", "CORNING, N.Y."
	Agency  string // "AP", "Reuters", "AFP", or "" when none is given
	Date    string // a date written in the dateline ("Sept 16"), or ""
	End     int    // byte offset in the text just after the dash
}

// maxDateline bounds how far into a story a dateline may reach.
const maxDateline = 160

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
	"january", "february", "march", "april", "june", "july", "august", "september", "october", "november", "december"}

// ParseDateline finds a dateline at the start of text. ok is false when the
// text does not open with one. Recognised shapes:
//
//	CITY (AP) —            CITY, Country (AP) —        CITY, St. (AP) —
//	CITY, Mon DD -         CITY, Mon. DD (Reuters) -   City (AFP) -
//	CITY —                 (all-caps city, no agency)
//
// The dash may be an em dash, an en dash, "--" or a hyphen with spaces.
func ParseDateline(text string) (d Dateline, ok bool) {
	limit := len(text)
	if limit > maxDateline {
		limit = maxDateline
	}
	head := text[:limit]
	start, end := findDash(head)
	if start <= 0 {
		return d, false
	}
	prefix := strings.TrimSpace(head[:start])
	if prefix == "" || strings.ContainsAny(prefix, "\n\"“”:;!?") {
		return d, false
	}
	// Agency in parentheses at the end: "(AP)", "(Reuters)".
	if strings.HasSuffix(prefix, ")") {
		open := strings.LastIndexByte(prefix, '(')
		if open < 0 {
			return d, false
		}
		agency := prefix[open+1 : len(prefix)-1]
		if !isAgency(agency) {
			return d, false
		}
		d.Agency = agency
		prefix = strings.TrimSpace(prefix[:open])
	}
	prefix = strings.TrimRight(prefix, ", ")
	// A date at the end: "Sept 16", "March 2", "Sept. 16".
	parts := strings.Split(prefix, ",")
	if n := len(parts); n > 1 && isDate(strings.TrimSpace(parts[n-1])) {
		d.Date = strings.TrimSpace(parts[n-1])
		parts = parts[:n-1]
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" || !placeLike(parts[i]) {
			return Dateline{}, false
		}
	}
	if len(parts) > 3 {
		return Dateline{}, false
	}
	// Without an agency, only an upper-case city counts: "WASHINGTON —".
	if d.Agency == "" && !upperWord(parts[0]) {
		return Dateline{}, false
	}
	d.Located = strings.Join(parts, ", ")
	d.End = end
	return d, true
}

// findDash returns the byte span of the first dateline dash in s, or -1.
func findDash(s string) (start, end int) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '—' || r == '–':
			j := i + size
			for j < len(s) && s[j] == ' ' {
				j++
			}
			return i, j
		case r == '-' && i > 0 && s[i-1] == ' ':
			j := i + 1
			if j < len(s) && s[j] == '-' {
				j++
			}
			if j < len(s) && s[j] == ' ' {
				for j < len(s) && s[j] == ' ' {
					j++
				}
				return i, j
			}
		case r == '\n':
			return -1, -1
		}
		i += size
	}
	return -1, -1
}

func isAgency(s string) bool {
	if s == "" || len(s) > 24 {
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

func isDate(s string) bool {
	f := strings.Fields(s)
	if len(f) != 2 {
		return false
	}
	m := strings.ToLower(strings.TrimSuffix(f[0], "."))
	known := false
	for _, x := range months {
		if m == x {
			known = true
			break
		}
	}
	if !known {
		return false
	}
	day := f[1]
	if len(day) == 0 || len(day) > 2 {
		return false
	}
	for i := 0; i < len(day); i++ {
		if day[i] < '0' || day[i] > '9' {
			return false
		}
	}
	return true
}

// placeLike accepts what a place name in a dateline looks like: letters,
// spaces, periods (abbreviations), apostrophes and hyphens, starting with an
// upper-case letter, at most six words.
func placeLike(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return false
	}
	if len(strings.Fields(s)) > 6 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != ' ' && r != '.' && r != '\'' && r != '’' && r != '-' {
			return false
		}
	}
	return true
}

// upperWord reports whether s is written in capitals ("WASHINGTON", "NEW YORK").
func upperWord(s string) bool {
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
