package ingest_test

import (
	"reflect"
	"testing"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// Ingest records the dateline of every body and takes located from it when
// the provider sent none; a provider's ws_dateline is never trusted.
func TestDatelineAndLocated(t *testing.T) {
	st := newStage(t, ingest.Config{})
	n := func(s string) int32 { return int32(len(s)) }
	tests := []struct {
		name     string
		given    string
		format   string
		located  string
		dateline *proto.Dateline
	}{
		{"day-month date", "PARIS, 16 September (AFP) - President Emmanuel Macron said on Friday.", ingest.FormatText,
			"PARIS", &proto.Dateline{Text: "PARIS", End: 5, BodyStart: n("PARIS, 16 September (AFP) - "), Agency: "AFP", Date: "16 September"}},
		{"year", "KYIV, Ukraine, 2022 (AP) — Russian forces shelled the city.", ingest.FormatText,
			"KYIV, Ukraine", &proto.Dateline{Text: "KYIV, Ukraine", End: 13, BodyStart: n("KYIV, Ukraine, 2022 (AP) — "), Agency: "AP", Date: "2022"}},
		{"no agency", `{"uri":"u","body_text":"WASHINGTON — The Senate voted."}`, ingest.FormatNinjs,
			"WASHINGTON", &proto.Dateline{Text: "WASHINGTON", End: 10, BodyStart: n("WASHINGTON — ")}},
		{"provider located kept", `{"uri":"u","located":"Kyiv","body_text":"KYIV, Ukraine (AP) — Talks began."}`, ingest.FormatNinjs,
			"Kyiv", &proto.Dateline{Text: "KYIV, Ukraine", End: 13, BodyStart: n("KYIV, Ukraine (AP) — "), Agency: "AP"}},
		{"provider dateline replaced", `{"uri":"u","body_text":"LONDON (Reuters) - Oil rose.","ws_dateline":{"text":"PARIS","start":0,"end":5,"body_start":99}}`, ingest.FormatNinjs,
			"LONDON", &proto.Dateline{Text: "LONDON", End: 6, BodyStart: n("LONDON (Reuters) - "), Agency: "Reuters"}},
		{"provider dateline dropped", `{"uri":"u","body_text":"Oil rose on Monday.","ws_dateline":{"text":"Oil","end":3}}`, ingest.FormatNinjs,
			"", nil},
		{"mixed case without agency is no dateline", `{"uri":"u","body_text":"Washington — the city said."}`, ingest.FormatNinjs,
			"", nil},
		{"html body", `{"uri":"u","body_html":"<script>x()</script><p>BERLIN (dpa/AFP) - Talks.</p>"}`, ingest.FormatNinjs,
			"BERLIN", &proto.Dateline{Text: "BERLIN", End: 6, BodyStart: n("BERLIN (dpa/AFP) - "), Agency: "dpa/AFP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := st.Parse([]byte(tt.given), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if s.Located != tt.located || !reflect.DeepEqual(s.Dateline, tt.dateline) {
				t.Fatalf("located %q dateline %+v; want %q %+v (body %q)", s.Located, s.Dateline, tt.located, tt.dateline, s.BodyText)
			}
			if d := s.Dateline; d != nil && s.BodyText[d.Start:d.End] != d.Text {
				t.Errorf("span %d-%d of %q is not %q", d.Start, d.End, s.BodyText, d.Text)
			}
		})
	}
}
