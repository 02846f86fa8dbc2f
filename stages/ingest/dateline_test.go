package ingest_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/stages/ingest"
)

func TestParseDateline(t *testing.T) {
	tests := []struct {
		given                 string
		located, agency, date string
		ok                    bool
	}{
		{"SAMARKAND, Uzbekistan (AP) — Russian President", "SAMARKAND, Uzbekistan", "AP", "", true},
		{"ATLANTA (AP) — A jury", "ATLANTA", "AP", "", true},
		{"CORNING, N.Y., March 2 - Snow fell", "CORNING, N.Y.", "", "March 2", true},
		{"LONDON, Sept 16 (Reuters) - Oil prices", "LONDON", "Reuters", "Sept 16", true},
		{"LONDON, Sept. 16 (Reuters) -- Oil prices", "LONDON", "Reuters", "Sept. 16", true},
		{"Paris (AFP) - Le président", "Paris", "AFP", "", true},
		{"WASHINGTON — The Senate", "WASHINGTON", "", "", true},
		{"SYDNEY, Nova Scotia (AP) – Fishermen", "SYDNEY, Nova Scotia", "AP", "", true},
		{"RIO DE JANEIRO (AP) — Carnival", "RIO DE JANEIRO", "AP", "", true},
		{"SAN JUAN, Puerto Rico (AP) — Power", "SAN JUAN, Puerto Rico", "AP", "", true},
		{"Washington — the city", "", "", "", false},             // not capitals, no agency
		{"The president said - and then", "", "", "", false},     // a sentence
		{"Oil rose 2% - traders said", "", "", "", false},        // digits
		{"\"We will win,\" he said — loudly", "", "", "", false}, // quote
		{"no dash at all in this opening sentence", "", "", "", false},
		{"GAZA CITY (AP) —", "GAZA CITY", "AP", "", true},
		{"", "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.given, func(t *testing.T) {
			d, ok := ingest.ParseDateline(tt.given)
			if ok != tt.ok || d.Located != tt.located || d.Agency != tt.agency || d.Date != tt.date {
				t.Fatalf("got %+v ok=%v; want located %q agency %q date %q ok=%v", d, ok, tt.located, tt.agency, tt.date, tt.ok)
			}
			if ok && (d.End > len(tt.given) || strings.TrimSpace(tt.given[d.End:]) != strings.TrimSpace(tt.given[d.End:])) {
				t.Errorf("bad End %d", d.End)
			}
		})
	}
}
