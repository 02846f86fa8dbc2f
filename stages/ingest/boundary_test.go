package ingest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

// newsmlItem is a minimal valid NewsML-G2 text item with the given guid and
// version attributes.
func newsmlItem(guid, version string) string {
	return `<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="` + guid + `" version="` + version + `">` +
		`<contentSet><inlineData contenttype="text/plain">LIMA, Peru (AP) — Rain flooded roads.</inlineData></contentSet></newsItem>`
}

func ninjsWith(uri, version string) string {
	return fmt.Sprintf(`{"uri":%s,"version":%s,"body_text":"LIMA, Peru (AP) — Rain flooded roads."}`, jsonString(uri), jsonString(version))
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// A story's uri and version travel in headers and in Nats-Msg-Id: they are
// bounded (proto.Limits.URIBytes, VersionBytes) and free of control
// characters at the boundary, in every input format, and a story that
// breaks either rule is a permanent rejection naming the rule.
func TestURIAndVersionBounded(t *testing.T) {
	long := "urn:x:" + strings.Repeat("a", 70000-6)
	tests := []struct {
		name, given, format string
		want                string // "" means accepted
	}{
		{"uri at the limit", ninjsWith("urn:x:"+strings.Repeat("a", 1024-6), ""), "", ""},
		{"uri of 70000 bytes", ninjsWith(long, ""), "", "uri too long: 70000 bytes, limit 1024"},
		{"uri one over", ninjsWith("urn:x:"+strings.Repeat("a", 1025-6), ""), "", "uri too long: 1025 bytes, limit 1024"},
		{"version at the limit", ninjsWith("urn:x:1", strings.Repeat("9", 128)), "", ""},
		{"version over", ninjsWith("urn:x:1", strings.Repeat("9", 200)), "", "version too long: 200 bytes, limit 128"},
		{"newsml guid of 70000 bytes", newsmlItem(long, "1"), ingest.FormatNewsML, "uri too long: 70000 bytes, limit 1024"},
		{"newsml version over", newsmlItem("urn:x:n", strings.Repeat("1", 129)), ingest.FormatNewsML, "version too long: 129 bytes, limit 128"},
		{"newsml guid with RLO", newsmlItem("urn:x:\u202e1", "1"), ingest.FormatNewsML, "uri has a control character at byte 6"},
		{"newsml guid with C1", newsmlItem("urn:x:&#x9b;1", "1"), ingest.FormatNewsML, "uri has a control character at byte 6"},
		{"uri with NUL", ninjsWith("urn:x:\x00", ""), "", "uri has a control character at byte 6"},
		{"uri with ESC", ninjsWith("urn:\x1b[31mx", ""), "", "uri has a control character at byte 4"},
		{"uri with DEL", ninjsWith("urn:x\x7f", ""), "", "uri has a control character at byte 5"},
		{"uri with C1 CSI", ninjsWith("urn:x:\u009b31m", ""), "", "uri has a control character at byte 6"},
		{"uri with a newline inside", ninjsWith("urn:x\n:1", ""), "", "uri has a control character at byte 5"},
		{"uri with RLO", ninjsWith("urn:x:\u202egpj.exe", ""), "", "uri has a control character at byte 6"},
		{"uri with LRE", ninjsWith("urn:\u202ax", ""), "", "uri has a control character at byte 4"},
		{"uri with FSI", ninjsWith("urn:x:\u2068", ""), "", "uri has a control character at byte 6"},
		{"uri with PDI", ninjsWith("urn:x:\u2069", ""), "", "uri has a control character at byte 6"},
		{"version with a control", ninjsWith("urn:x:1", "2\x1b"), "", "version has a control character at byte 1"},
		{"uri with other Unicode", ninjsWith("urn:x:Zürich–Genève", ""), "", ""},
	}
	st := newStage(t, ingest.Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stories, err := st.ParseAll([]byte(tt.given), tt.format)
			if tt.want == "" {
				if err != nil || len(stories) != 1 {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted uri of %d bytes, version of %d", len(stories[0].URI), len(stories[0].Version))
			}
			if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ingest.ErrInvalidStory) || !proto.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent invalid story with %q", err, tt.want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("the reason repeats the input: %d bytes", len(err.Error()))
			}
		})
	}
	// The limits come from proto.Limits and can be set.
	small := newStage(t, ingest.Config{Limits: proto.Limits{URIBytes: 16, VersionBytes: 2}})
	if _, err := small.Parse([]byte(ninjsWith("urn:x:0123456789a", "")), ""); err == nil || !strings.Contains(err.Error(), "uri too long: 17 bytes, limit 16") {
		t.Errorf("URIBytes 16: %v", err)
	}
	if _, err := small.Parse([]byte(ninjsWith("urn:x:1", "123")), ""); err == nil || !strings.Contains(err.Error(), "version too long: 3 bytes, limit 2") {
		t.Errorf("VersionBytes 2: %v", err)
	}
}

// Control characters in text fields are dropped by normalisation: C0
// (NUL, ESC, ...), DEL, C1 (U+0080-U+009F) and the bidi embeddings,
// overrides and isolates (U+202A-U+202E, U+2066-U+2069), which can make a
// terminal or a reader show other text than the story holds.
func TestTextFieldsDropControls(t *testing.T) {
	dirty := "Sto\x00rm\x1b[2J \u009b31mhits \u202eKYIV\u202c \u2066port\u2069\x7f"
	const clean = "Storm[2J 31mhits KYIV port"
	d := jsonString(dirty)
	in := fmt.Sprintf(`{"uri":"urn:x:c","headline":%s,"byline":%s,"slugline":%s,"located":%s,"ednote":%s,"body_text":%s}`,
		d, d, d, d, d, jsonString("LIMA, Peru (AP) — "+dirty))
	st := newStage(t, ingest.Config{})
	s, err := st.Parse([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"headline": s.Headline, "byline": s.Byline, "slugline": s.Slugline,
		"located": s.Located, "ednote": s.EdNote, "body_text": strings.TrimPrefix(s.BodyText, "LIMA, Peru (AP) — ")} {
		if got != clean {
			t.Errorf("%s = %q, want %q", name, got, clean)
		}
	}
	// The same through the text and NewsML-G2 parsers.
	s, err = st.Parse([]byte("LIMA, Peru (AP) — "+dirty), ingest.FormatText)
	if err != nil || s.BodyText != "LIMA, Peru (AP) — "+clean {
		t.Errorf("text body = %q (%v)", s.BodyText, err)
	}
	for _, text := range []string{dirty, "a\u0085b\u009fc"} {
		if got := ingest.NormalizeText(text); strings.ContainsFunc(got, proto.IsControl) {
			t.Errorf("NormalizeText(%q) = %q keeps a control", text, got)
		}
	}
}

// A rejection's reason is safe to print on a terminal and to put in a
// header: the JSON library quotes up to 32 raw bytes of the input in its
// syntax errors, and a whole value in its type errors; ingest escapes
// control characters and bounds the reason.
func TestRejectionReasonIsPrintable(t *testing.T) {
	st := newStage(t, ingest.Config{})
	for _, in := range []string{
		"{\"uri\":\"x\",\"body_text\":\"b\"\x1b[2J\u202e}",
		`{"uri":["` + strings.Repeat("\u009b31m\u202e", 20000) + `"],"body_text":"b"}`,
		newsmlItem("urn:x:"+strings.Repeat("\u202e", 5000), "1"),
	} {
		_, err := st.ParseAll([]byte(in), "")
		if err == nil {
			t.Fatalf("accepted %.40q", in)
		}
		msg := (&ingest.Error{Origin: "f\x1b.jsonl:1", Err: err}).Error()
		if strings.ContainsFunc(msg, proto.IsControl) || len(msg) > 600 {
			t.Errorf("reason %d bytes: %.200q", len(msg), msg)
		}
	}
}
