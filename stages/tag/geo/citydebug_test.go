package geo_test

import (
	"os"
	"strings"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag/geo"
)

func TestCityDebug(t *testing.T) {
	ids := os.Getenv("CITYDEBUG")
	if ids == "" {
		t.Skip()
	}
	p := geo.New(loadGazetteer(t))
	for _, l := range readCityLabelled(t, "cities.jsonl") {
		if !strings.Contains(ids, l.ID) {
			continue
		}
		s := ingested(&proto.Story{URI: "test:" + l.ID, Headline: l.Headline, BodyText: l.Body})
		for _, e := range p.Explain(s) {
			if e.Place.Scheme != proto.SchemeM49 {
				t.Logf("%s: %s %s %v", l.ID, e.Place.Name, e.Place.Code, e.Evidence)
			}
		}
		t.Logf("%s: rejected %v", l.ID, append(p.Rejected(s), p.RejectedCities(s)...))
	}
}
