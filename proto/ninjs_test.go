package proto_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wirestream/wirestream/internal/corpus"
	"github.com/wirestream/wirestream/proto"
)

// ninjsSchema compiles an IPTC ninjs schema from testdata/ninjs (shipped
// with IPTC's licence there), asserting formats (date-time, uri). The
// schemas refer to GeoJSON for place geometry, which wirestream never
// writes: a permissive stand-in is registered for it so nothing is fetched.
func ninjsSchema(t *testing.T, file, id string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/ninjs/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("https://geojson.org/schema/GeoJSON.json", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(s *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

func renderStories() []*proto.Story {
	when := proto.Time(time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC).UnixNano())
	full := &proto.Story{URI: "urn:test:ninjs:1", Type: "text", Version: "2", VersionCreated: when, FirstCreated: when - proto.Time(time.Hour),
		PubStatus: proto.PubStatusUsable, Urgency: 3, Language: "en-GB", Headline: "Water talks <resume> & go on", Slugline: "CENTRAL-ASIA-WATER",
		Byline: "By A. Reporter", Located: "SAMARKAND, Uzbekistan", BodyText: "SAMARKAND, Uzbekistan (AP) — Talks resumed.", EdNote: "Corrects spelling",
		Place: []*proto.Place{{Name: "Uzbekistan", Scheme: proto.SchemeCountry, Code: "UZ", Rel: proto.RelLocated, Relevance: 90},
			{Name: "Central Asia", Scheme: proto.SchemeM49, Code: "143", Rel: proto.RelMentioned}},
		Subject: []*proto.Subject{{Name: "politics", Scheme: proto.SchemeMedTop, Code: "medtop:11000000", Relevance: 80}},
		Dedupe:  &proto.Dedupe{Status: proto.DedupeUpdate}, Source: "ap", IngestSeq: 7}
	kill := &proto.Story{URI: "urn:test:ninjs:1", Version: "3", VersionCreated: when, PubStatus: proto.PubStatusCanceled, Headline: "KILL"}
	minimal := &proto.Story{URI: "urn:wirestream:sha256:0f3a"}
	out := []*proto.Story{full, kill, minimal}
	for _, it := range corpus.Generate(corpus.Config{Stories: 30, Size: 400, Seed: 5, DupRate: 0.3}) {
		out = append(out, it.Story)
	}
	return out
}

// TestRenderNinjsSchemas: every story rendered as ninjs2 and ninjs3 is
// valid under IPTC's ninjs 2.2 and 3.1 schemas, keeps the story's content,
// and the ninjs1 rendering (with wirestream's extensions and 1.x names) is
// refused by both: the validation can fail.
func TestRenderNinjsSchemas(t *testing.T) {
	schemas := map[string]*jsonschema.Schema{
		proto.FormatNinjs2: ninjsSchema(t, "ninjs-schema_2.2.json", proto.Ninjs2Schema),
		proto.FormatNinjs3: ninjsSchema(t, "ninjs-schema_3.1.json", proto.Ninjs3Schema),
	}
	for _, s := range renderStories() {
		one, err := proto.Render(nil, s, proto.FormatNinjs1)
		if err != nil {
			t.Fatal(err)
		}
		for format, sch := range schemas {
			data, err := proto.Render(nil, s, format)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, data); err != nil {
				t.Errorf("%s as %s is not valid: %v\n%s", s.URI, format, err, data)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if got["uri"] != s.URI {
				t.Errorf("%s: uri %v", format, got["uri"])
			}
			if s.Headline != "" && !strings.Contains(string(data), `"value":`+string(mustJSON(t, s.Headline))) {
				t.Errorf("%s: headline missing: %s", format, data)
			}
			if s.BodyText != "" && !strings.Contains(string(data), string(mustJSON(t, s.BodyText))) {
				t.Errorf("%s: body missing: %s", format, data)
			}
			if len(s.Subject) > 0 && !strings.Contains(string(data), `"literal":`+string(mustJSON(t, s.Subject[0].Code))) {
				t.Errorf("%s: subject missing: %s", format, data)
			}
			if s.Dedupe != nil || s.Source != "" {
				if err := validate(sch, one); err == nil {
					t.Errorf("the ninjs1 rendering of %s passes the %s schema: the check cannot fail", s.URI, format)
				}
			}
		}
	}
	// The two newer formats differ in case: 3.x is camelCase.
	three, _ := proto.Render(nil, renderStories()[0], proto.FormatNinjs3)
	if !bytes.Contains(three, []byte(`"versionCreated"`)) || !bytes.Contains(three, []byte(`"contentType"`)) || bytes.Contains(three, []byte(`"versioncreated"`)) {
		t.Errorf("ninjs3 names: %s", three)
	}
	if _, err := proto.Render(nil, renderStories()[0], "ninjs9"); !errors.Is(err, proto.ErrFormat) {
		t.Errorf("unknown format: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
