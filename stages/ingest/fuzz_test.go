package ingest_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/ingest"
	"github.com/wirestream/wirestream/stages/internal/text"
)

// FuzzParse checks that any input is either a valid story or a permanent
// rejection with a known reason, and never panics.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{apText, `{"uri":"u","body_text":"PARIS (AFP) - x"}`, `{"uri":"u","pubstatus":"canceled"}`,
		"date 2022-01-01 X", `{"body_html":"<p>a</p"}`, `{"uri":"u","body_text":"KYIV, Ukraine, 2022 (AP) — x","ws_dateline":{"text":"x","start":90}}`, "LONDON, Sept 16 (Reuters) - y", "\xff", "{", `{"versioncreated":"2022"}`,
		"<nitf><body><body.content><p>x</p></body.content></body></nitf>", "\x01a1 r a BC-X\n\x02\tx\n\x03", "ZCZC A1 3 POL X\nx\nNNNN", `{"standard":{"version":"2.0"},"bodies":[{"value":"x"}]}`} {
		f.Add([]byte(seed), "")
		f.Add([]byte(seed), ingest.FormatText)
	}
	st, err := ingest.New(ingest.Config{MaxBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	reasons := []error{ingest.ErrInvalidJSON, ingest.ErrInvalidUTF8, ingest.ErrEmptyBody, ingest.ErrTooLarge, ingest.ErrInvalidStory, ingest.ErrUnknownFormat,
		ingest.ErrInvalidNewsML,                                              // "<" alone is detected as NewsML-G2 (found by this target)
		ingest.ErrInvalidNITF, ingest.ErrInvalidWire, ingest.ErrInvalidNinjs} // detected from <nitf, SOH/ZCZC, ninjs 2.x/3.x
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		s, err := st.Parse(data, format)
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
		if s.URI == "" || s.Dedupe == nil || !utf8.ValidString(s.BodyText) || !utf8.ValidString(s.Headline) {
			t.Fatalf("accepted story incomplete: %+v", s)
		}
		if s.BodyText == "" && !s.Canceled() {
			t.Fatal("empty body accepted")
		}
		if s.BodyText != ingest.NormalizeText(s.BodyText) {
			t.Fatal("body not normalised (normalisation not idempotent)")
		}
		if strings.Contains(s.Headline, "\n") {
			t.Fatal("headline has a line break")
		}
		// The dateline is the body's own, and a dateline gives a located.
		if _, ok := text.ParseDateline(s.BodyText); ok != (s.Dateline != nil) || ok && !text.DatelineFits(s) {
			t.Fatalf("dateline %+v for body %q", s.Dateline, s.BodyText)
		}
		if s.Dateline != nil && s.Located == "" {
			t.Fatalf("dateline %q but no located", s.Dateline.Text)
		}
	})
}

// FuzzNormalizeText: the text is normalised once (idempotent), and the
// fast path that returns clean text unchanged agrees with the full pass.
func FuzzNormalizeText(f *testing.F) {
	for _, seed := range []string{apText, "a  b", "x\n\n\ny", "caf\u0065\u0301", "\u00a0lead", "tab\there", "ok text.", "line \nnext", "z\u200b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		n := ingest.NormalizeText(s)
		if slow := ingest.NormalizeTextSlow(s); n != slow {
			t.Fatalf("fast path disagrees: %q -> %q, full pass %q", s, n, slow)
		}
		if again := ingest.NormalizeText(n); again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, again)
		}
	})
}

// FuzzIsNFC: the segment-wise NFC check of the fast path agrees with
// checking the whole text, including combining marks after ASCII letters,
// Hangul jamo and reordering of marks.
func FuzzIsNFC(f *testing.F) {
	for _, seed := range []string{"caf\u0065\u0301 ok", "“quoted” text", "e\u0301\u0323", "\u1100\u1161\u11a8 x", "a\u0323\u0301b", "x\u0308\u0301", "Ω", "\u212b", "A\u030a"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, want := ingest.IsNFC(s), norm.NFC.IsNormalString(s); got != want {
			t.Fatalf("%q: segment-wise %v, whole text %v", s, got, want)
		}
	})
}
