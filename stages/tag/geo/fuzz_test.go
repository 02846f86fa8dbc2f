package geo_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

// FuzzTag tags any story the way it reaches the tagger (after ingest's
// dateline step) and checks: no panic; located and the rel:located place
// agree (a located country exactly when the located field resolves to one,
// and that one); the places pass the schema check with every code known to
// the gazetteer; evidence points at its text.
func FuzzTag(f *testing.F) {
	for _, l := range readLabelled(f) {
		f.Add(l.Located, l.Body)
	}
	for _, s := range []string{
		"PARIS, 16 September (AFP) - President",
		"KYIV, Ukraine, 2022 (AP) — Russian",
		"N’Djamena (AFP) - x",
		"(AP) —",
		"X (",
		"A, B, C, D (AP) — —",
		"\xff\xfe (AP) — x",
		"",
	} {
		f.Add("", s)
	}
	f.Add("UNITED NATIONS", "NAIROBI, Kenya (AP) — Talks began.")
	f.Add("", "PARIS, 3 mars 2024 (AFP) - Le président allemand et la chancelière allemande.")
	f.Add("", "Madrid, 3 mar (EFE).- Los estadounidenses y el Gobierno español.")
	f.Add("", "Frankfurt/Main (dpa) - Die französischen Exporte.")
	f.Add(" CORNING, N.Y.", "CORNING, N.Y. (AP) — x")
	g := loadGazetteer(f)
	p := geo.New(g)
	f.Fuzz(func(t *testing.T, located, body string) {
		if l, ok := g.ParseLocated(located); ok && l.Country != "" {
			if _, known := g.CountryName(l.Country); !known {
				t.Fatalf("located country %q is not in the gazetteer", l.Country)
			}
			if located[l.Start:l.End] != l.Text {
				t.Fatalf("located offsets %d-%d give %q, Text is %q", l.Start, l.End, located[l.Start:l.End], l.Text)
			}
		}
		// Every fourth input is tagged as English (no language), French,
		// Spanish or German, so the per-language matchers run too.
		lang := []string{"", "fr", "es", "de"}[len(body)%4]
		s := ingested(&proto.Story{URI: "fuzz", Language: lang, Located: located, Headline: body, BodyText: body})
		places := p.Tag(s)
		want := ""
		if l, ok := g.ParseLocatedIn(s.Located, lang); ok {
			want = l.Country
		}
		got, _ := countries(places)
		if got != want {
			t.Fatalf("located %q resolves to %q, but the located place is %q", s.Located, want, got)
		}
		s.Place = places
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, pl := range places {
			switch pl.Scheme {
			case proto.SchemeCountry:
				if _, ok := g.CountryName(pl.Code); !ok {
					t.Fatalf("country %q not in the gazetteer", pl.Code)
				}
			case proto.SchemeM49:
				if _, ok := g.RegionName(pl.Code); !ok || len(pl.Code) != 3 {
					t.Fatalf("region %q not in the gazetteer", pl.Code)
				}
			case proto.SchemeGeoNames:
				c, ok := g.CityByID(pl.Code)
				if !ok || c.Name != pl.Name {
					t.Fatalf("city %q %q not in the gazetteer", pl.Code, pl.Name)
				}
				if pl.Geometry == nil || pl.Geometry.Type != "Point" || len(pl.Geometry.Coordinates) != 2 {
					t.Fatalf("city %s without its point: %+v", pl.Code, pl.Geometry)
				}
				if !hasCountry(places, c.Country) {
					t.Fatalf("city %s in %s, a country the story does not have", pl.Code, c.Country)
				}
			default:
				t.Fatalf("unexpected scheme %q", pl.Scheme)
			}
		}
		for _, e := range p.Explain(s) {
			for _, ev := range e.Evidence {
				if ev.Field == "" {
					continue
				}
				field := body
				if ev.Field == geo.FieldLocated {
					field = s.Located
				}
				if ev.Start < 0 || ev.End > len(field) || ev.Start > ev.End {
					t.Fatalf("evidence offsets %d-%d outside %d bytes", ev.Start, ev.End, len(field))
				}
				if field[ev.Start:ev.End] != ev.Text {
					t.Fatalf("evidence %+v does not point at its text", ev)
				}
			}
		}
		if utf8.ValidString(body) && strings.TrimSpace(body) == "" && strings.TrimSpace(located) == "" && len(places) != 0 {
			t.Fatalf("places from blank text: %v", places)
		}
	})
}

func hasCountry(places []*proto.Place, cc string) bool {
	for _, p := range places {
		if p.Scheme == proto.SchemeCountry && p.Code == cc {
			return true
		}
	}
	return false
}
