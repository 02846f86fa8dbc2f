package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func newStage(t testing.TB, cfg ingest.Config) *ingest.Stage {
	t.Helper()
	st, err := ingest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

const apText = ` date 2022-09-16 TASHKENT, Uzbekistan (AP) — Leaders of six nations met on Friday to discuss   water rights along the Syr Darya, officials said.

The talks, held behind closed doors, ended without a statement.
`

func TestParseText(t *testing.T) {
	st := newStage(t, ingest.Config{})
	s, err := st.Parse([]byte(apText), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Located != "TASHKENT, Uzbekistan" {
		t.Errorf("located = %q", s.Located)
	}
	if want := time.Date(2022, 9, 16, 0, 0, 0, 0, time.UTC); !s.VersionCreated.Time().Equal(want) {
		t.Errorf("versioncreated = %v", s.VersionCreated)
	}
	if !strings.HasPrefix(s.BodyText, "TASHKENT, Uzbekistan (AP) — Leaders of six nations met on Friday to discuss water rights") {
		t.Errorf("body = %q", s.BodyText)
	}
	if s.Headline != "Leaders of six nations met on Friday to discuss water rights along the Syr Darya, officials said." {
		t.Errorf("headline = %q", s.Headline)
	}
	if !strings.HasPrefix(s.URI, ingest.URIPrefix) || s.PubStatus != "usable" || s.Dedupe.Status != proto.DedupeNew {
		t.Errorf("uri/pubstatus/dedupe = %q %q %+v", s.URI, s.PubStatus, s.Dedupe)
	}
	// The uri is derived from content: the same text with other spacing gets the same uri.
	s2, err := st.Parse([]byte(strings.ReplaceAll(apText, "  ", " ")), ingest.FormatText)
	if err != nil {
		t.Fatal(err)
	}
	if s2.URI != s.URI {
		t.Errorf("uri not stable across whitespace: %q vs %q", s.URI, s2.URI)
	}
}

func TestParseTextHeadlineAndByline(t *testing.T) {
	st := newStage(t, ingest.Config{})
	s, err := st.Parse([]byte("Storm closes ports on Black Sea coast\n\nBy ANNA PETROVA\n\nODESA, Ukraine (AP) — A storm closed ports.\n\nMore follows."), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Headline != "Storm closes ports on Black Sea coast" || s.Byline != "By ANNA PETROVA" || s.Located != "ODESA, Ukraine" {
		t.Errorf("got headline %q byline %q located %q", s.Headline, s.Byline, s.Located)
	}
	if !strings.HasPrefix(s.BodyText, "ODESA, Ukraine (AP)") {
		t.Errorf("body = %q", s.BodyText)
	}
}

func TestParseNinjs(t *testing.T) {
	st := newStage(t, ingest.Config{})
	in := `{"uri":"urn:x:1","version":"2","versioncreated":"2024-03-02T10:00:00-05:00","headline":"  Snow\u00a0closes  schools ",
	"body_text":"CORNING, N.Y., March 2 - Heavy snow closed schools.","place":[{"name":"United States","scheme":"iso3166-1a2","code":"US","rel":"located","relevance":90}],
	"dedupe":{"status":"duplicate"},"associations":{"x":{}}}`
	s, err := st.Parse([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.URI != "urn:x:1" || s.Version != "2" || s.Headline != "Snow closes schools" || s.Located != "CORNING, N.Y." {
		t.Errorf("got %+v", s)
	}
	if s.VersionCreated.Time() != time.Date(2024, 3, 2, 15, 0, 0, 0, time.UTC) {
		t.Errorf("versioncreated = %v", s.VersionCreated)
	}
	if len(s.Place) != 1 || s.Place[0].Code != "US" {
		t.Errorf("place = %+v", s.Place)
	}
	if s.Dedupe.Status != proto.DedupeNew {
		t.Errorf("provider dedupe kept: %+v", s.Dedupe)
	}
}

func TestParseNinjsBodyHTML(t *testing.T) {
	st := newStage(t, ingest.Config{})
	s, err := st.Parse([]byte(`{"uri":"u","body_html":"<p>PARIS (AFP) - First &amp; foremost.</p><p>Second.</p>"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.BodyText != "PARIS (AFP) - First & foremost.\n\nSecond." || s.Located != "PARIS" {
		t.Errorf("body %q located %q", s.BodyText, s.Located)
	}
}

func TestParseRejects(t *testing.T) {
	st := newStage(t, ingest.Config{MaxBytes: 200})
	tests := []struct {
		name   string
		given  string
		format string
		want   error
	}{
		{"invalid json", `{"uri": "x", "body_text": }`, "", ingest.ErrInvalidJSON},
		{"json wrong type", `{"uri": 5, "body_text":"x"}`, "", ingest.ErrInvalidJSON},
		{"invalid utf8", "PARIS (AFP) - caf\xe9", "", ingest.ErrInvalidUTF8},
		{"empty body json", `{"uri":"x","headline":"h"}`, "", ingest.ErrEmptyBody},
		{"empty body text", "   \n\n\t ", ingest.FormatText, ingest.ErrEmptyBody},
		{"too large", strings.Repeat("a", 201), "", ingest.ErrTooLarge},
		{"bad pubstatus", `{"uri":"x","body_text":"b","pubstatus":"deleted"}`, "", ingest.ErrInvalidStory},
		{"bad time", `{"uri":"x","body_text":"b","versioncreated":"noon"}`, "", ingest.ErrInvalidJSON},
		{"unknown format", `x`, "xml", ingest.ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Parse([]byte(tt.given), tt.format)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !proto.IsPermanent(err) {
				t.Errorf("rejection %v is not permanent", err)
			}
		})
	}
}

func TestKillWithoutBodyAccepted(t *testing.T) {
	st := newStage(t, ingest.Config{})
	s, err := st.Parse([]byte(`{"uri":"urn:x:1","pubstatus":"canceled","version":"3"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Canceled() {
		t.Errorf("pubstatus = %q", s.PubStatus)
	}
}

func TestHandleRawSetsProvenance(t *testing.T) {
	st := newStage(t, ingest.Config{})
	m := proto.RawMeta{Source: "ap", Origin: "feed.jsonl:7", Received: 12345, Seq: 99}
	out, err := st.HandleRaw(context.Background(), []byte(apText), m)
	if err != nil || len(out) != 1 {
		t.Fatalf("out=%v err=%v", out, err)
	}
	if out[0].Source != "ap" || out[0].IngestSeq != 99 || out[0].Received != 12345 {
		t.Errorf("provenance = %q %d %d", out[0].Source, out[0].IngestSeq, out[0].Received)
	}
	_, err = st.HandleRaw(context.Background(), []byte(`{bad`), m)
	var e *ingest.Error
	if !errors.As(err, &e) || e.Origin != "feed.jsonl:7" || !strings.Contains(err.Error(), "feed.jsonl:7") {
		t.Errorf("error %v does not name its origin", err)
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ given, want string }{
		{"a  b\t\tc", "a b c"},
		{"  lead and trail  ", "lead and trail"},
		{"p1\r\n\r\n\r\n\r\np2", "p1\n\np2"},
		{"line one\nline two", "line one\nline two"},
		{"non\u00a0breaking\u2009thin", "non breaking thin"},
		{"zero\u200bwidth\ufeff", "zerowidth"},
		{"Cafe\u0301", "Café"}, // NFD to NFC
		{"trailing   \n  next", "trailing\nnext"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ingest.NormalizeText(tt.given); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.given, got, tt.want)
		}
	}
}

// Every rune isNFC treats as a segment boundary is stable for NFC: class 0,
// unchanged by NFC, and it composes with nothing on either side, checked
// against every code point of the Basic Multilingual Plane.
func TestStablePunct(t *testing.T) {
	var stable []rune
	for r := rune(0x80); r < 0x3000; r++ {
		if ingest.IsStablePunct(r) {
			stable = append(stable, r)
		}
	}
	if len(stable) < 20 {
		t.Fatalf("only %d stable runes", len(stable))
	}
	for _, r := range stable {
		p := norm.NFC.PropertiesString(string(r))
		if p.CCC() != 0 || !p.BoundaryBefore() || !p.BoundaryAfter() || !norm.NFC.IsNormalString(string(r)) {
			t.Fatalf("%U: ccc %d, boundaries %v/%v", r, p.CCC(), p.BoundaryBefore(), p.BoundaryAfter())
		}
		for x := rune(0); x < 0x10000; x++ {
			if x >= 0xd800 && x < 0xe000 {
				continue
			}
			xs := norm.NFC.String(string(x))
			if got := norm.NFC.String(string(r) + string(x)); got != string(r)+xs {
				t.Fatalf("%U composes with the %U after it: %q", r, x, got)
			}
			if got := norm.NFC.String(string(x) + string(r)); got != xs+string(r) {
				t.Fatalf("%U composes with the %U before it: %q", r, x, got)
			}
		}
	}
}
