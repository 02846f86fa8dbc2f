package text_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/stages/internal/text"
)

// The cases of the two grammars this one replaces (ingest's and the geo
// tagger's), the inputs on which they disagreed, and finds of FuzzDateline.
func TestParseDateline(t *testing.T) {
	tests := []struct {
		name              string
		given             string
		place, city, qual string
		agency, date      string
		rest              string // what body[BodyStart:] starts with
		ok                bool
	}{
		// Shapes both accepted.
		{"ap city country", "SAMARKAND, Uzbekistan (AP) — Russian President", "SAMARKAND, Uzbekistan", "SAMARKAND", "Uzbekistan", "AP", "", "Russian", true},
		{"ap city", "ATLANTA (AP) — A jury", "ATLANTA", "ATLANTA", "", "AP", "", "A jury", true},
		{"bare dash with date", "CORNING, N.Y., March 2 - Snow fell", "CORNING, N.Y.", "CORNING", "N.Y.", "", "March 2", "Snow", true},
		{"reuters date", "LONDON, Sept 16 (Reuters) - Oil prices", "LONDON", "LONDON", "", "Reuters", "Sept 16", "Oil", true},
		{"double hyphen", "LONDON, Sept. 16 (Reuters) -- Oil prices", "LONDON", "LONDON", "", "Reuters", "Sept. 16", "Oil", true},
		{"afp mixed case", "Paris (AFP) - Le président", "Paris", "Paris", "", "AFP", "", "Le président", true},
		{"em dash no agency", "WASHINGTON — The Senate", "WASHINGTON", "WASHINGTON", "", "", "", "The Senate", true},
		{"en dash", "SYDNEY, Nova Scotia (AP) – Fishermen", "SYDNEY, Nova Scotia", "SYDNEY", "Nova Scotia", "AP", "", "Fishermen", true},
		{"three words", "RIO DE JANEIRO (AP) — Carnival", "RIO DE JANEIRO", "RIO DE JANEIRO", "", "AP", "", "Carnival", true},
		{"territory", "SAN JUAN, Puerto Rico (AP) — Power", "SAN JUAN, Puerto Rico", "SAN JUAN", "Puerto Rico", "AP", "", "Power", true},
		{"nothing after", "GAZA CITY (AP) —", "GAZA CITY", "GAZA CITY", "", "AP", "", "", true},
		{"state abbreviation", "CORNING, N.Y. (AP) — Corning Inc.", "CORNING, N.Y.", "CORNING", "N.Y.", "AP", "", "Corning Inc.", true},
		{"qualifier and date", "BOISE, Idaho, Dec 30 (Reuters) - Police", "BOISE, Idaho", "BOISE", "Idaho", "Reuters", "Dec 30", "Police", true},
		{"afp date", "CAIRO, July 18 (AFP) - President", "CAIRO", "CAIRO", "", "AFP", "July 18", "President", true},
		{"bare dash", "LONDON, Sept 16 - Shares fell", "LONDON", "LONDON", "", "", "Sept 16", "Shares", true},
		{"em dash city country", "SAMARKAND, Uzbekistan — Leaders met", "SAMARKAND, Uzbekistan", "SAMARKAND", "Uzbekistan", "", "", "Leaders", true},
		{"accented", "BRASÍLIA, Jan 30 (Reuters) - x", "BRASÍLIA", "BRASÍLIA", "", "Reuters", "Jan 30", "x", true},
		{"apostrophe", "N'Djamena (AFP) - x", "N'Djamena", "N'Djamena", "", "AFP", "", "x", true},
		{"curly apostrophe", "N’Djamena (AFP) - x", "N’Djamena", "N’Djamena", "", "AFP", "", "x", true},
		{"saint", "ST. LOUIS (AP) — x", "ST. LOUIS", "ST. LOUIS", "", "AP", "", "x", true},
		{"leading space", "  \n TOKYO, Feb 22 (Reuters) - x", "TOKYO", "TOKYO", "", "Reuters", "Feb 22", "x", true},
		{"hyphenated city", "PORT-OF-SPAIN, Trinidad (AP) — x", "PORT-OF-SPAIN, Trinidad", "PORT-OF-SPAIN", "Trinidad", "AP", "", "x", true},
		{"xinhua", "BEIJING, Sept. 16 (Xinhua) -- China said", "BEIJING", "BEIJING", "", "Xinhua", "Sept. 16", "China", true},
		{"exonym", "Cologne (AFP) - Police said", "Cologne", "Cologne", "", "AFP", "", "Police", true},
		{"unknown place still parses", "XYZZYVILLE (AP) — x", "XYZZYVILLE", "XYZZYVILLE", "", "AP", "", "x", true},
		{"no place words", "ABOARD AIR FORCE ONE (AP) — x", "ABOARD AIR FORCE ONE", "ABOARD AIR FORCE ONE", "", "AP", "", "x", true},
		{"two agencies", "BERLIN (dpa/AFP) - x", "BERLIN", "BERLIN", "", "dpa/AFP", "", "x", true},
		// Shapes only the tagger's grammar accepted.
		{"day month", "PARIS, 16 September (AFP) - President", "PARIS", "PARIS", "", "AFP", "16 September", "President", true},
		{"year", "KYIV, Ukraine, 2022 (AP) — Russian", "KYIV, Ukraine", "KYIV", "Ukraine", "AP", "2022", "Russian", true},
		{"date and year", "KYIV, Ukraine, Sept. 16, 2022 (AP) — x", "KYIV, Ukraine", "KYIV", "Ukraine", "AP", "Sept. 16, 2022", "x", true},
		{"agency at the end", "LONDON (Reuters)", "LONDON", "LONDON", "", "Reuters", "", "", true}, // FuzzDateline found "(A)" panicking here
		{"agency without dash", "WASHINGTON (AP) The Senate", "WASHINGTON", "WASHINGTON", "", "AP", "", "The Senate", true},
		{"hyphen at the end", "LONDON -", "LONDON", "LONDON", "", "", "", "", true},
		{"particle", "Rio de Janeiro (AFP) - x", "Rio de Janeiro", "Rio de Janeiro", "", "AFP", "", "x", true},
		{"particle and apostrophe", "ABIDJAN, Côte d'Ivoire (AFP) - x", "ABIDJAN, Côte d'Ivoire", "ABIDJAN", "Côte d'Ivoire", "AFP", "", "x", true},
		{"three parts", "TOPEKA, Kan., USA (AP) — x", "TOPEKA, Kan., USA", "TOPEKA", "Kan.", "AP", "", "x", true},
		// Not datelines.
		{"mixed case without agency", "Washington — the city", "", "", "", "", "", "", false},
		{"sentence", "The president said - and then", "", "", "", "", "", "", false},
		{"digits", "Oil rose 2% - traders said", "", "", "", "", "", "", false},
		{"quote", "\"We will win,\" he said — loudly", "", "", "", "", "", "", false},
		{"no dash", "no dash at all in this opening sentence", "", "", "", "", "", "", false},
		{"sentence with dash", "Russia said on Monday - in a statement", "", "", "", "", "", "", false},
		{"hyphenated word", "A well-known - x", "", "", "", "", "", "", false},
		{"lower-case word with agency", "The president said (AP) — x", "", "", "", "", "", "", false},
		{"only a date", "Sept 16 (Reuters) - x", "", "", "", "", "", "", false},
		{"not an agency", "LONDON (2022) - x", "", "", "", "", "", "", false},
		{"agency not closed", "LONDON (Reuters - x", "", "", "", "", "", "", false},
		{"four parts", "A, B, C, D (AP) — x", "", "", "", "", "", "", false},
		{"dash on the next line", "LONDON\n— x", "", "", "", "", "", "", false},
		{"too far in", "LONDON" + strings.Repeat(", Xx", 60) + " (AP) — x", "", "", "", "", "", "", false},
		{"invalid UTF-8", "\xff\xfe (AP) — x", "", "", "", "", "", "", false},
		{"empty", "", "", "", "", "", "", "", false},
		{"only an agency", "(AP) —", "", "", "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := text.ParseDateline(tt.given)
			if ok != tt.ok {
				t.Fatalf("ParseDateline(%q) ok = %v, want %v (%+v)", tt.given, ok, tt.ok, d)
			}
			if !ok {
				if d != (text.Dateline{}) {
					t.Errorf("not ok but %+v", d)
				}
				return
			}
			if d.Text != tt.place || d.City != tt.city || d.Qualifier != tt.qual || d.Agency != tt.agency || d.Date != tt.date {
				t.Errorf("got place %q city %q qualifier %q agency %q date %q; want %q %q %q %q %q",
					d.Text, d.City, d.Qualifier, d.Agency, d.Date, tt.place, tt.city, tt.qual, tt.agency, tt.date)
			}
			if got := tt.given[d.Start:d.End]; got != d.Text {
				t.Errorf("span %d-%d is %q, Text %q", d.Start, d.End, got, d.Text)
			}
			if rest := tt.given[d.BodyStart:]; !strings.HasPrefix(rest, tt.rest) || tt.rest == "" && rest != "" {
				t.Errorf("body after the dateline %q, want it to start with %q", rest, tt.rest)
			}
		})
	}
}

func TestParsePlace(t *testing.T) {
	tests := []struct {
		given             string
		place, city, qual string
		date              string
		ok                bool
	}{
		{"SAMARKAND, Uzbekistan", "SAMARKAND, Uzbekistan", "SAMARKAND", "Uzbekistan", "", true},
		{" CORNING, N.Y.", "CORNING, N.Y.", "CORNING", "N.Y.", "", true},
		{"Washington", "Washington", "Washington", "", "", true},
		{"SAMARKAND, Uzbekistan, Nov 27", "SAMARKAND, Uzbekistan", "SAMARKAND", "Uzbekistan", "Nov 27", true},
		{"KIEV, Ukraine,", "KIEV, Ukraine", "KIEV", "Ukraine", "", true},
		{"Nov 27", "", "", "", "", false},
		{"kyiv", "", "", "", "", false},
		{"Geneva (Switzerland)", "", "", "", "", false},
		{"", "", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.given, func(t *testing.T) {
			p, ok := text.ParsePlace(tt.given)
			if ok != tt.ok || p.Text != tt.place || p.City != tt.city || p.Qualifier != tt.qual || p.Date != tt.date {
				t.Fatalf("ParsePlace(%q) = %+v, %v; want %q %q %q %q %v", tt.given, p, ok, tt.place, tt.city, tt.qual, tt.date, tt.ok)
			}
			if ok && tt.given[p.Start:p.End] != p.Text {
				t.Errorf("span %d-%d is %q", p.Start, p.End, tt.given[p.Start:p.End])
			}
		})
	}
}

func TestIsDate(t *testing.T) {
	for s, want := range map[string]bool{
		"Sept 16": true, "Sept. 16": true, "16 September": true, "2022": true, "Dec 30": true,
		"March 2": true, "16th September": true, "Sept. 16 2022": true, "2026-11-27": true,
		"27/11": true, "27.11.2026": true, "16": true, " Nov 27 ": true,
		"September": false, "Sept 32": false, "Marchers 2": false, "Nov 27 Dec 3": false,
		"16 17": false, "Uzbekistan": false, "2022 2023": false, "": false, "-": false,
		"2026-": false, "Idaho 2": false, "1 2 3 4": false,
	} {
		if got := text.IsDate(s); got != want {
			t.Errorf("IsDate(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSplitDate(t *testing.T) {
	tests := []struct{ given, place, date string }{
		{"SAMARKAND, Uzbekistan, Nov 27", "SAMARKAND, Uzbekistan", "Nov 27"},
		{"KYIV, Ukraine, Sept. 16, 2022", "KYIV, Ukraine", "Sept. 16, 2022"},
		{"Nov 27", "", "Nov 27"},
		{"LONDON", "LONDON", ""},
		{"2022, LONDON", "2022, LONDON", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if place, date := text.SplitDate(tt.given); place != tt.place || date != tt.date {
			t.Errorf("SplitDate(%q) = %q, %q; want %q, %q", tt.given, place, date, tt.place, tt.date)
		}
	}
}
