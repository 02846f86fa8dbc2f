package geo_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

// FuzzDateline checks the dateline parser's invariants on any input: no
// panic, offsets within bounds and pointing at the reported text, a country
// that exists in the gazetteer, and a Tag result that passes the schema
// check with every code known to the gazetteer.
func FuzzDateline(f *testing.F) {
	for _, s := range []string{
		"SAMARKAND, Uzbekistan (AP) — Russian President",
		"LONDON, Sept 16 (Reuters) - British retail sales",
		"Paris (AFP) - France will ban",
		"CORNING, N.Y. (AP) — Corning Inc.",
		"BOISE, Idaho, Dec 30 (Reuters) - Police",
		"GOMA, Congo, Feb 7 (Reuters) - Fighting",
		"SYDNEY, Nova Scotia (AP) — x",
		"N’Djamena (AFP) - x",
		"BRASÍLIA, Jan 30 (Reuters) - x",
		"ATLANTA (AP) — Georgia's Legislature",
		"(AP) —",
		"X (",
		"A, B, C, D (AP) — —",
		"\xff\xfe (AP) — x",
		"",
	} {
		f.Add(s)
	}
	g := loadGazetteer(f)
	p := geo.New(g)
	f.Fuzz(func(t *testing.T, body string) {
		d, ok := g.ParseDateline(body)
		if ok {
			if d.Start < 0 || d.End > len(body) || d.Start > d.End {
				t.Fatalf("offsets %d-%d outside %d bytes", d.Start, d.End, len(body))
			}
			if body[d.Start:d.End] != d.Text {
				t.Fatalf("offsets %d-%d give %q, Text is %q", d.Start, d.End, body[d.Start:d.End], d.Text)
			}
			if d.BodyStart < d.End || d.BodyStart > len(body) {
				t.Fatalf("BodyStart %d outside %d-%d", d.BodyStart, d.End, len(body))
			}
			if _, known := g.CountryName(d.Country); !known {
				t.Fatalf("dateline country %q is not in the gazetteer", d.Country)
			}
		}
		if l, ok := g.ParseLocated(body); ok && l.Country != "" {
			if _, known := g.CountryName(l.Country); !known {
				t.Fatalf("located country %q is not in the gazetteer", l.Country)
			}
		}
		s := &proto.Story{URI: "fuzz", Headline: body, BodyText: body}
		places := p.Tag(s)
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
			default:
				t.Fatalf("unexpected scheme %q", pl.Scheme)
			}
		}
		for _, e := range p.Explain(s) {
			for _, ev := range e.Evidence {
				if ev.Field == "" {
					continue
				}
				if ev.Start < 0 || ev.End > len(body) || ev.Start > ev.End {
					t.Fatalf("evidence offsets %d-%d outside %d bytes", ev.Start, ev.End, len(body))
				}
				if body[ev.Start:ev.End] != ev.Text {
					t.Fatalf("evidence %+v does not point at its text", ev)
				}
			}
		}
		if utf8.ValidString(body) && strings.TrimSpace(body) == "" && len(places) != 0 {
			t.Fatalf("places from blank text: %v", places)
		}
	})
}
