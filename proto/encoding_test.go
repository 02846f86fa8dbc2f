package proto_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wirestream/wirestream/proto"
)

func sampleStory() *proto.Story {
	return &proto.Story{
		URI:            "urn:publicid:ap.org:2022-09-16:samarkand",
		Type:           "text",
		Version:        "3",
		VersionCreated: proto.FromTime(time.Date(2022, 9, 16, 10, 4, 5, 0, time.UTC)),
		FirstCreated:   proto.FromTime(time.Date(2022, 9, 16, 8, 0, 0, 0, time.UTC)),
		PubStatus:      proto.PubStatusUsable,
		Urgency:        3,
		Language:       "en",
		Headline:       "Putin thanks Xi for “balanced” stance on Ukraine",
		Located:        "SAMARKAND, Uzbekistan",
		BodyText:       strings.Repeat("SAMARKAND, Uzbekistan (AP) — Russian President Vladimir Putin met Xi. ", 80),
		Place: []*proto.Place{
			{Name: "Uzbekistan", Scheme: proto.SchemeCountry, Code: "UZ", Rel: proto.RelLocated, Relevance: 100},
			{Name: "Central Asia", Scheme: proto.SchemeM49, Code: "143", Rel: proto.RelLocated, Relevance: 100},
			{Name: "Samarkand", Scheme: proto.SchemeGeoNames, Code: "1216265", Rel: proto.RelLocated, Relevance: 100, Geometry: proto.Point(66.95972, 39.65417)},
		},
		Subject: []*proto.Subject{
			{Name: "politics", Scheme: proto.SchemeMedTop, Code: "medtop:11000000", Relevance: 90},
		},
		Dedupe:    &proto.Dedupe{Status: proto.DedupeNearDuplicate, Of: "urn:x", Similarity: 0.93},
		Source:    "ap",
		Received:  proto.FromTime(time.Date(2022, 9, 16, 10, 4, 6, 123, time.UTC)),
		IngestSeq: 42,
		Dateline:  &proto.Dateline{Text: "SAMARKAND, Uzbekistan", End: 21, BodyStart: 32, Agency: "AP"},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, enc := range []proto.Encoding{proto.EncodingJSON, proto.EncodingProto} {
		t.Run(string(enc), func(t *testing.T) {
			in := sampleStory()
			b, err := proto.Marshal(enc, in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := proto.Unmarshal(enc, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(in, out) {
				t.Fatalf("round trip differs:\n in: %+v\nout: %+v", in, out)
			}
		})
	}
}

func TestJSONUsesNinjsNames(t *testing.T) {
	b, err := proto.MarshalJSON(sampleStory())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"uri":`, `"versioncreated":"2022-09-16T10:04:05Z"`, `"firstcreated":`, `"pubstatus":"usable"`,
		`"body_text":`, `"located":"SAMARKAND, Uzbekistan"`, `"place":[{"name":"Uzbekistan","scheme":"iso3166-1a2","code":"UZ","rel":"located","relevance":100}`,
		`"subject":[{"name":"politics","scheme":"medtop","code":"medtop:11000000","relevance":90}]`,
		`"dedupe":{"status":"near_duplicate","of":"urn:x","similarity":0.93}`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s\n%s", want, s)
		}
	}
	if strings.Contains(s, `"ednote"`) {
		t.Errorf("empty ednote not omitted: %s", s)
	}
}

func TestUnmarshalJSONErrors(t *testing.T) {
	tests := []struct {
		name, given string
	}{
		{"not json", `hello`},
		{"array", `[1,2]`},
		{"truncated", `{"uri":"x","body_text":"abc`},
		{"bad utf8", "{\"uri\":\"\xff\"}"},
		{"bad time", `{"uri":"x","versioncreated":"yesterday"}`},
		{"wrong type", `{"uri":"x","urgency":"high"}`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := proto.UnmarshalJSON([]byte(tt.given))
			if !errors.Is(err, proto.ErrDecode) {
				t.Fatalf("err = %v, want ErrDecode", err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		given string
		want  time.Time
	}{
		{"2022-09-16T10:04:05Z", time.Date(2022, 9, 16, 10, 4, 5, 0, time.UTC)},
		{"2022-09-16T12:04:05+02:00", time.Date(2022, 9, 16, 10, 4, 5, 0, time.UTC)},
		{"2022-09-16T12:04:05+0200", time.Date(2022, 9, 16, 10, 4, 5, 0, time.UTC)},
		{"2022-09-16T10:04:05", time.Date(2022, 9, 16, 10, 4, 5, 0, time.UTC)},
		{"2022-09-16", time.Date(2022, 9, 16, 0, 0, 0, 0, time.UTC)},
		{"2022-09-16T10:04:05.5Z", time.Date(2022, 9, 16, 10, 4, 5, 5e8, time.UTC)},
	}
	for _, tt := range tests {
		got, err := proto.ParseTime(tt.given)
		if err != nil || !got.Time().Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.given, got, err, tt.want)
		}
	}
	if _, err := proto.ParseTime("16/09/2022"); !errors.Is(err, proto.ErrInvalidTime) {
		t.Errorf("want ErrInvalidTime, got %v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"1", "2", -1, true}, {"10", "9", 1, true}, {"2", "2", 0, true}, {"", "1", -1, true}, {"1", "", 1, true},
		{"1.10", "1.9", 1, true}, {"1.2", "1.2.1", -1, true}, {"007", "7", 0, true},
		{"b", "a", 0, false}, {"v2", "3", 0, false}, {"2024-03-01", "2024-03-02", 0, false}, {"", "v1", 0, false},
		{"1..2", "1.2", 0, false}, {"-1", "1", 0, false}, {"+1", "1", 0, false}, {"v2", "v2", 0, true},
	}
	for _, tt := range tests {
		if got, ok := proto.CompareVersions(tt.a, tt.b); got != tt.want || ok != tt.ok {
			t.Errorf("CompareVersions(%q,%q) = %d, %v, want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	good := sampleStory()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(s *proto.Story){
		func(s *proto.Story) { s.URI = "" },
		func(s *proto.Story) { s.PubStatus = "deleted" },
		func(s *proto.Story) { s.Place[0].Relevance = 101 },
		func(s *proto.Story) { s.Subject[0] = nil },
		func(s *proto.Story) { s.Dedupe.Status = "maybe" },
	}
	for i, mutate := range bad {
		s := sampleStory()
		mutate(s)
		if err := s.Validate(); !errors.Is(err, proto.ErrInvalidStory) {
			t.Errorf("case %d: err = %v, want ErrInvalidStory", i, err)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	a := sampleStory()
	b := a.Clone()
	b.Place[0].Code = "XX"
	b.Subject[0].Code = "medtop:00000000"
	b.Dedupe.Status = proto.DedupeNew
	if a.Place[0].Code != "UZ" || a.Subject[0].Code != "medtop:11000000" || a.Dedupe.Status != proto.DedupeNearDuplicate {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestTokens(t *testing.T) {
	n := proto.Live()
	if got := n.RawAll(); got != "ws.raw.>" {
		t.Errorf("raw history subjects = %q", got)
	}
	if got := n.Work("tag"); got != "ws.work.tag" {
		t.Errorf("tag output = %q", got)
	}
	if got := n.Raw("AP wire.1"); got != "ws.raw.AP_wire_1" {
		t.Errorf("raw subject = %q", got)
	}
	for given, want := range map[string]string{"uz": "UZ", "143": "143", "2": "002", "019": "019"} {
		if got, err := proto.RegionToken(given); err != nil || got != want {
			t.Errorf("RegionToken(%q) = %q, %v", given, got, err)
		}
	}
	for _, bad := range []string{"", "USA", "1430", "central-asia", "u."} {
		if _, err := proto.RegionToken(bad); !errors.Is(err, proto.ErrBadCode) {
			t.Errorf("RegionToken(%q) should fail", bad)
		}
	}
	if got, err := proto.TopicToken("medtop:11000000"); err != nil || got != "11000000" {
		t.Errorf("TopicToken = %q, %v", got, err)
	}
	if _, err := proto.TopicToken("medtop:politics"); err == nil {
		t.Error("TopicToken accepted a label")
	}
	ns, err := proto.Namespace("backfill-2024")
	if err != nil || ns.OutAll() != "ws.ns.backfill_2024.out.all" || ns.OutStream() != "WS_NS_BACKFILL_2024_OUT" {
		t.Errorf("namespace = %+v, %v", ns, err)
	}
	if _, err := proto.Namespace("a.b"); err == nil {
		t.Error("namespace with a dot accepted")
	}
}

func BenchmarkMarshal(b *testing.B) {
	s := sampleStory()
	for _, enc := range []proto.Encoding{proto.EncodingJSON, proto.EncodingProto} {
		b.Run(string(enc), func(b *testing.B) {
			buf, _ := proto.Marshal(enc, s)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := proto.Marshal(enc, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	s := sampleStory()
	for _, enc := range []proto.Encoding{proto.EncodingJSON, proto.EncodingProto} {
		b.Run(string(enc), func(b *testing.B) {
			buf, _ := proto.Marshal(enc, s)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := proto.Unmarshal(enc, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
