package ingest_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
)

func sixKB() (ninjs []byte, text []byte) {
	para := "The ministers agreed to meet again in June, officials said, after talks on the spring flow of the Syr Darya ran late into the night."
	body := "TASHKENT, Uzbekistan (AP) — " + strings.Repeat(para+"\n\n", 45)
	body = strings.TrimSpace(body[:6000])
	s := &proto.Story{URI: "urn:bench:1", Version: "1", Headline: "Ministers meet over river flows", BodyText: body, PubStatus: "usable"}
	b, _ := proto.MarshalJSON(s)
	return b, []byte("date 2024-04-02 " + body)
}

// quotedSixKB is sixKB in the typography of real wire copy: curly quotes
// around quotations, apostrophes and dashes (AP copy has about ten
// non-ASCII characters per KB, mostly “ ” ’ —).
func quotedSixKB() (ninjs []byte, text []byte) {
	para := "“We agreed to meet again in June,” the minister’s spokesman said — after talks on the Syr Darya’s spring flow ran late."
	body := "TASHKENT, Uzbekistan (AP) — " + strings.Repeat(para+"\n\n", 50)
	body = strings.TrimSpace(body[:6000])
	for !utf8.ValidString(body) {
		body = body[:len(body)-1]
	}
	s := &proto.Story{URI: "urn:bench:2", Version: "1", Headline: "Ministers meet over river flows", BodyText: body, PubStatus: "usable"}
	b, _ := proto.MarshalJSON(s)
	return b, []byte("date 2024-04-02 " + body)
}

// BenchmarkParse: one 6 KB story through the ingest stage's parser.
//
//	go test ./stages/ingest -run XXX -bench Parse -benchmem
func BenchmarkParse(b *testing.B) {
	st, _ := ingest.New(ingest.Config{})
	ninjs, text := sixKB()
	qninjs, qtext := quotedSixKB()
	for _, c := range []struct {
		name string
		data []byte
	}{{"ninjs", ninjs}, {"text", text}, {"ninjs-quoted", qninjs}, {"text-quoted", qtext}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Parse(c.data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNormalizeText on 6 KB of clean text (the common case: returned
// as is) and of text with trailing spaces and tabs (the full pass).
func BenchmarkNormalizeText(b *testing.B) {
	_, text := sixKB()
	_, qtext := quotedSixKB()
	clean := string(text)
	dirty := strings.ReplaceAll(clean, ".\n", ". \t\n")
	for _, c := range []struct{ name, s string }{{"clean", clean}, {"dirty", dirty}, {"clean-quoted", string(qtext)}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = ingest.NormalizeText(c.s)
			}
		})
	}
}

// TestBenchInputs checks that the benchmark inputs take the paths their
// names say: every Parse input parses, the quoted ninjs carries its
// typography as UTF-8 (not \u escapes), and NormalizeText returns the clean
// texts as they are, without allocating (the fast path), and rewrites the
// dirty one (the full pass).
func TestBenchInputs(t *testing.T) {
	st, err := ingest.New(ingest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ninjs, text := sixKB()
	qninjs, qtext := quotedSixKB()
	if bytes.Contains(qninjs, []byte(`\u`)) || bytes.Count(qninjs, []byte("’")) < 50 {
		t.Errorf("ninjs-quoted does not carry its typography as UTF-8")
	}
	for name, data := range map[string][]byte{"ninjs": ninjs, "text": text, "ninjs-quoted": qninjs, "text-quoted": qtext} {
		s, err := st.Parse(data, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Located != "TASHKENT, Uzbekistan" || len(s.BodyText) < 5900 {
			t.Errorf("%s: located %q, body %d bytes", name, s.Located, len(s.BodyText))
		}
	}
	clean := string(text)
	dirty := strings.ReplaceAll(clean, ".\n", ". \t\n")
	for name, s := range map[string]string{"clean": clean, "clean-quoted": string(qtext)} {
		if got := ingest.NormalizeText(s); got != s {
			t.Errorf("%s: NormalizeText changed it", name)
		}
		if n := testing.AllocsPerRun(10, func() { _ = ingest.NormalizeText(s) }); n != 0 {
			t.Errorf("%s: NormalizeText allocated %v times: not the fast path", name, n)
		}
	}
	if ingest.NormalizeText(dirty) != clean {
		t.Errorf("dirty: NormalizeText does not give the clean text")
	}
}

// BenchmarkParseFormats: the fixtures of the newer formats through
// ParseAll with detection (one NITF document, one ANPA message, one ninjs
// 2.x and one 3.x object).
func BenchmarkParseFormats(b *testing.B) {
	st, _ := ingest.New(ingest.Config{})
	anpa := readFormat(b, "archive.anpa")
	anpa = anpa[:bytes.IndexByte(anpa[1:], 1)+1] // the first message
	for _, c := range []struct {
		name string
		data []byte
	}{{"nitf", readFormat(b, "nitf-story.xml")}, {"anpa", anpa}, {"ninjs2", readFormat(b, "ninjs2-story.json")}, {"ninjs3", readFormat(b, "ninjs3-story.json")}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.ParseAll(c.data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
