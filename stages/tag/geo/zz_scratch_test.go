package geo_test

import (
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

func TestScratchLang(t *testing.T) {
	g, err := geo.LoadWithOverrides("alias | DE | Allemagne # x\ndemonym | DE | allemand # x\ndemonym | DE | allemande # x\nalias | US | États-Unis # x\ncity | FR | PARIS # x\nalias | ES | España # x\ndemonym | DE | deutsche # x\n")
	if err != nil {
		t.Fatal(err)
	}
	p := geo.New(g)
	for _, b := range []string{
		"PARIS, 3 mars 2024 (AFP) - Le président allemand a reçu l'Allemagne et les États-Unis. La chancelière allemande aussi.",
		"Madrid, 3 mar (EFE).- El presidente de España.",
		"Berlin (dpa) - Die deutsche Regierung.",
		"Washington (dpa/AFP) - Die deutsche Regierung.",
		"Buenos Aires, 14 mar (EFE).- La inflación.",
	} {
		s := ingested(&proto.Story{URI: "x", BodyText: b})
		var got []string
		for _, pl := range p.Explain(s) {
			if pl.Place.Scheme == proto.SchemeCountry {
				got = append(got, pl.Place.Code+"/"+pl.Place.Rel)
				for _, e := range pl.Evidence {
					got = append(got, "  "+e.Text+" "+e.Rule)
				}
			}
		}
		t.Logf("%q located=%q dateline=%+v -> %v", b[:30], s.Located, s.Dateline, got)
	}
}
