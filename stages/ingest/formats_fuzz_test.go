package ingest_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/internal/text"
)

// addFixtures seeds f with the testdata/formats files matching pattern,
// whole and, for wire archives, message by message.
func addFixtures(f *testing.F, pattern string, add func([]byte)) {
	files, err := filepath.Glob(filepath.Join(formatsDir, pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
		_ = ingest.Split(bytes.NewReader(b), len(b)+1, func(r ingest.Record) error {
			add(r.Data)
			return nil
		})
	}
}

// checkOutcome is the contract of Parse for any input: a permanent
// rejection with one of the reasons, or a valid, normalised story whose
// dateline is its body's.
func checkOutcome(t *testing.T, s *proto.Story, err error, reasons ...error) {
	t.Helper()
	if err != nil {
		if !proto.IsPermanent(err) {
			t.Fatalf("rejection %v is not permanent: it would be retried", err)
		}
		for _, r := range reasons {
			if errors.Is(err, r) {
				return
			}
		}
		t.Fatalf("rejection without a known reason: %v", err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("accepted story is invalid: %v", err)
	}
	if s.URI == "" || s.Dedupe == nil || !utf8.ValidString(s.BodyText) || !utf8.ValidString(s.Headline) || !utf8.ValidString(s.Slugline) || !utf8.ValidString(s.Byline) {
		t.Fatalf("accepted story incomplete: %+v", s)
	}
	if s.BodyText == "" && !s.Canceled() {
		t.Fatal("empty body accepted")
	}
	if s.BodyText != ingest.NormalizeText(s.BodyText) {
		t.Fatal("body not normalised")
	}
	for _, l := range []string{s.Headline, s.Slugline, s.Byline, s.Located} {
		if strings.Contains(l, "\n") || l != ingest.NormalizeText(l) {
			t.Fatalf("line field %q has a line break or is not normalised", l)
		}
	}
	if s.Urgency < 0 || s.Urgency > 9 {
		t.Fatalf("urgency %d", s.Urgency)
	}
	if _, ok := text.ParseDateline(s.BodyText); ok != (s.Dateline != nil) || ok && !text.DatelineFits(s) {
		t.Fatalf("dateline %+v for body %q", s.Dateline, s.BodyText)
	}
}

var commonReasons = []error{ingest.ErrInvalidUTF8, ingest.ErrEmptyBody, ingest.ErrTooLarge, ingest.ErrInvalidStory}

// FuzzParseNITF: any input parsed as NITF, and detected (NITF or
// NewsML-G2 by its root), is a story or a permanent rejection.
func FuzzParseNITF(f *testing.F) {
	addFixtures(f, "*nitf*.xml", func(b []byte) { f.Add(b) })
	for _, s := range []string{"<nitf/>", "<nitf><body><body.content><p>x</p></body.content></body></nitf>", "<!DOCTYPE nitf [<!ENTITY a 'b'>]><nitf/>", "<!--", "<?x", "<!DOCTYPE [[>"} {
		f.Add([]byte(s))
	}
	st, err := ingest.New(ingest.Config{MaxBytes: 8192})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := st.Parse(data, ingest.FormatNITF)
		checkOutcome(t, s, err, append(commonReasons, ingest.ErrInvalidNITF)...)
		all, err := st.ParseAll(data, "")
		if err == nil {
			for _, s := range all {
				checkOutcome(t, s, nil)
			}
		} else {
			checkOutcome(t, nil, err, append(commonReasons, ingest.ErrInvalidNITF, ingest.ErrInvalidNewsML, ingest.ErrInvalidJSON, ingest.ErrInvalidNinjs, ingest.ErrInvalidWire)...)
		}
	})
}

// FuzzParseWire: any input parsed as IPTC 7901/ANPA is a story or a
// permanent rejection; an accepted message's urgency is its priority's.
func FuzzParseWire(f *testing.F) {
	addFixtures(f, "*.anpa", func(b []byte) { f.Add(b) })
	addFixtures(f, "*.7901", func(b []byte) { f.Add(b) })
	for _, s := range []string{"\x01", "ZCZC", "ZCZC\n\n", "\x01a r a\n\x02\x03", "\x01a 1 a\n\x02x\x03NNNN", "ZCZC a 1 b\nx\x03\nNNNN", "\x01a r a\x02^\n^By X=\n^Y\n\tZ\x03"} {
		f.Add([]byte(s))
	}
	st, err := ingest.New(ingest.Config{MaxBytes: 8192})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := st.Parse(data, ingest.FormatANPA)
		checkOutcome(t, s, err, append(commonReasons, ingest.ErrInvalidWire)...)
		if err != nil {
			return
		}
		_, h, err := ingest.ParseWire(data)
		if err != nil && utf8.Valid(data) {
			t.Fatalf("Parse accepted, ParseWire rejects: %v", err)
		}
		if err == nil && s.Urgency != h.Urgency() {
			t.Fatalf("urgency %d, priority %q gives %d", s.Urgency, h.Priority, h.Urgency())
		}
	})
}

// FuzzSplitWire: splitting as a wire format never panics; every record is
// a non-empty part of the input at a line of it, the records are the same
// with a small limit (each cut to limit+1 bytes) and when the input comes
// a byte at a time; the records, blank space aside, make up the input.
func FuzzSplitWire(f *testing.F) {
	addFixtures(f, "*.anpa", func(b []byte) { f.Add(b, uint8(16)) })
	addFixtures(f, "*.7901", func(b []byte) { f.Add(b, uint8(16)) })
	for _, s := range []string{"\x01\x01", "ZCZC\nZCZC", "a\nZCZC\x01b", "\x01x\nZCZCy\n\x01", " \n\x01\n\n"} {
		f.Add([]byte(s), uint8(4))
	}
	f.Fuzz(func(t *testing.T, b []byte, small uint8) {
		max := int(small)
		split := func(in []byte, max int, oneByte bool) (recs []ingest.Record) {
			var r = bytesReader(in, oneByte)
			err := ingest.SplitAs(r, max, ingest.FormatANPA, func(rec ingest.Record) error {
				recs = append(recs, rec)
				return nil
			})
			if err != nil {
				t.Fatalf("SplitAs: %v", err)
			}
			return recs
		}
		full := split(b, len(b)+1, false)
		cut := split(b, max, false)
		slow := split(b, max, true)
		if len(full) != len(cut) || len(cut) != len(slow) {
			t.Fatalf("%d records unlimited, %d with limit %d, %d a byte at a time", len(full), len(cut), max, len(slow))
		}
		var joined []byte
		for i, want := range full {
			if len(want.Data) == 0 || want.Line < 1 || !bytes.Contains(b, want.Data) || want.Format != ingest.FormatANPA {
				t.Fatalf("record %d: %q at line %d (%s) is not a part of the input", i, want.Data, want.Line, want.Format)
			}
			if want.Line != 1+bytes.Count(b[:bytes.Index(b, want.Data)], []byte{'\n'}) && i == 0 {
				t.Fatalf("record 0 at line %d", want.Line)
			}
			for _, got := range []ingest.Record{cut[i], slow[i]} {
				if !bytes.Equal(got.Data, want.Data[:min(len(want.Data), max+1)]) || got.Line != want.Line {
					t.Fatalf("record %d: %q line %d, unlimited %q line %d", i, got.Data, got.Line, want.Data, want.Line)
				}
			}
			joined = append(joined, want.Data...)
		}
		strip := func(x []byte) []byte {
			return bytes.Map(func(r rune) rune {
				if strings.ContainsRune(" \t\r\n\v", r) {
					return -1
				}
				return r
			}, x)
		}
		if !bytes.Equal(strip(joined), strip(b)) {
			t.Fatalf("records %q do not make up the input %q", joined, b)
		}
	})
}

// FuzzParseNinjs23: any JSON input read as ninjs (detected, and forced to
// 2.x) is a story or a permanent rejection with a JSON or ninjs reason.
func FuzzParseNinjs23(f *testing.F) {
	addFixtures(f, "*ninjs*.json", func(b []byte) { f.Add(b) })
	for _, s := range []string{`{"headlines":[],"bodies":[{"value":"x"}]}`, `{"standard":{"version":"3"},"bodies":[{"contentType":"text/html","value":"<p>x"}]}`, `{"subjects":[{"uri":"medtop:00000000","relevance":101}],"bodies":[{"value":"x"}]}`, `{"$standard":null,"body_text":"x"}`} {
		f.Add([]byte(s))
	}
	st, err := ingest.New(ingest.Config{MaxBytes: 8192})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reasons := append(commonReasons, ingest.ErrInvalidJSON, ingest.ErrInvalidNinjs)
		s, err := st.Parse(data, ingest.FormatNinjs)
		checkOutcome(t, s, err, reasons...)
		s, err = st.Parse(data, ingest.FormatNinjs2)
		checkOutcome(t, s, err, reasons...)
	})
}

func bytesReader(b []byte, oneByte bool) io.Reader {
	if oneByte {
		return iotest.OneByteReader(bytes.NewReader(b))
	}
	return bytes.NewReader(b)
}
