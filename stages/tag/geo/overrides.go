package geo

import (
	"fmt"
	"strings"
)

// overrides is the parsed data/overrides.txt.
type overrides struct {
	aliases, demonyms, places, cities, standalone [][2]string // {CC, name}
	admins                                        [][3]string // {CC, code, name}
	adjectives                                    [][3]string // {lang, CC, word}: lower case, that language only
	ambiguous                                     map[string][]string
	weak, person, block, drop, noun               map[string]bool
	m49                                           map[string]string
	gnAdmin                                       map[string]string // "CA/07" → "NS"
	mentionAdmin                                  map[string]bool
}

func parseOverrides(text string) (*overrides, error) {
	ov := &overrides{
		ambiguous:    map[string][]string{},
		weak:         map[string]bool{},
		person:       map[string]bool{},
		block:        map[string]bool{},
		drop:         map[string]bool{},
		noun:         map[string]bool{},
		m49:          map[string]string{},
		gnAdmin:      map[string]string{},
		mentionAdmin: map[string]bool{},
	}
	for ln, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		entry, comment, ok := strings.Cut(t, "#")
		if !ok || strings.TrimSpace(comment) == "" {
			return nil, fmt.Errorf("%w: line %d has no review comment: %q", ErrOverrides, ln+1, line)
		}
		f := strings.Split(entry, "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		bad := func() error { return fmt.Errorf("%w: line %d: %q", ErrOverrides, ln+1, line) }
		want := map[string]int{
			"alias": 3, "demonym": 3, "place": 3, "city": 3, "standalone": 3,
			"admin": 4, "gnadmin": 4, "m49": 3, "ambiguous": 3,
			"adjective": 4,
			"weak":      2, "person": 2, "noun": 2, "block": 2, "drop": 2, "mentionadmin": 2,
		}
		n, known := want[f[0]]
		if !known || len(f) != n {
			return nil, bad()
		}
		for _, x := range f[1:] {
			if x == "" {
				return nil, bad()
			}
		}
		switch f[0] {
		case "alias":
			ov.aliases = append(ov.aliases, [2]string{f[1], f[2]})
		case "demonym":
			ov.demonyms = append(ov.demonyms, [2]string{f[1], f[2]})
		case "place":
			ov.places = append(ov.places, [2]string{f[1], f[2]})
		case "city":
			ov.cities = append(ov.cities, [2]string{f[1], f[2]})
		case "standalone":
			ov.standalone = append(ov.standalone, [2]string{f[1], f[2]})
		case "admin":
			ov.admins = append(ov.admins, [3]string{f[1], f[2], f[3]})
		case "adjective":
			ov.adjectives = append(ov.adjectives, [3]string{f[1], f[2], f[3]})
		case "gnadmin":
			ov.gnAdmin[f[1]+"/"+f[2]] = f[3]
		case "m49":
			ov.m49[f[1]] = f[2]
		case "ambiguous":
			ov.ambiguous[f[1]] = strings.Split(f[2], ",")
		case "weak":
			ov.weak[f[1]] = true
		case "person":
			ov.person[f[1]] = true
		case "block":
			ov.block[f[1]] = true
		case "drop":
			ov.drop[f[1]] = true
		case "noun":
			ov.noun[f[1]] = true
		case "mentionadmin":
			ov.mentionAdmin[f[1]] = true
		}
	}
	return ov, nil
}

func errUnknownCountry(code string) error {
	return fmt.Errorf("%w: unknown country %q", ErrOverrides, code)
}
