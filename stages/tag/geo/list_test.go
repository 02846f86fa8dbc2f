package geo_test

import (
	"slices"
	"testing"

	"github.com/wirestream/wirestream/stages/tag/geo"
)

func TestAreas(t *testing.T) {
	areas := loadGazetteer(t).Areas()
	by := map[string]geo.Area{}
	numeric := map[string]string{}
	for _, a := range areas {
		if _, dup := by[a.Code]; dup {
			t.Fatalf("%s listed twice", a.Code)
		}
		by[a.Code] = a
		if a.Kind == "country" {
			if a.Numeric == "" && a.Code != "XK" { // Kosovo has no ISO 3166-1 numeric code
				t.Errorf("%s %s has no numeric code", a.Code, a.Name)
			} else if other, dup := numeric[a.Numeric]; dup {
				t.Errorf("numeric %s on %s and %s", a.Numeric, other, a.Code)
			}
			numeric[a.Numeric] = a.Code
		}
	}
	for code, want := range map[string]geo.Area{
		"UZ":  {Code: "UZ", Name: "Uzbekistan", Kind: "country", Numeric: "860", Within: []string{"143", "142"}},
		"DE":  {Code: "DE", Name: "Germany", Kind: "country", Numeric: "276", Within: []string{"155", "150"}},
		"143": {Code: "143", Name: "Central Asia", Kind: "subregion", Within: []string{"142"}},
		"142": {Code: "142", Name: "Asia", Kind: "region"},
	} {
		got := by[code]
		if got.Code != want.Code || got.Name != want.Name || got.Kind != want.Kind || got.Numeric != want.Numeric || !slices.Equal(got.Within, want.Within) {
			t.Errorf("%s: got %+v, want %+v", code, got, want)
		}
	}
	if len(numeric) < 240 {
		t.Errorf("%d countries, want the ~250 of ISO 3166-1", len(numeric))
	}
}
