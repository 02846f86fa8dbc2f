package ingest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/proto"
)

// unquoteJSON must decode exactly as the JSON library does, and fail where
// it fails, on every valid UTF-8 string token.
func FuzzUnquoteJSON(f *testing.F) {
	for _, s := range []string{`""`, `"plain"`, `"a\nb\"c\\d\/e\tf\rg\bh\fi"`, `"\u00e9\u4e2d"`,
		`"\ud83d\ude00 pair"`, `"\ud83d lone high"`, `"\ude00 lone low"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`,
		`"bad \x escape"`, `"short \u12"`, `"\u12G4"`, `"trailing \"`, `"é ü 中 \n"`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) || len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
			return
		}
		var want string
		werr := json.Unmarshal(b, &want)
		got, gerr := unquoteJSON(b)
		if werr != nil {
			// The library also rejects raw control characters and
			// tokens with bytes after the closing quote; unquoteJSON is
			// only ever given a token the library has already parsed.
			return
		}
		if gerr != nil {
			t.Fatalf("%q: unquoteJSON error %v, library decoded %q", b, gerr, want)
		}
		if got != want {
			t.Fatalf("%q: unquoteJSON %q, library %q", b, got, want)
		}
	})
}

// A ninjs document decodes to the same Story through parseNinjs as through
// the JSON library alone.
func FuzzParseNinjsSame(f *testing.F) {
	f.Add([]byte(`{"uri":"u","headline":"h \"q\"","body_text":"line one\nline \u00e9 two \ud83d\ude00","version":"2"}`))
	f.Add([]byte(`{"uri":"u","body_text":null}`))
	f.Add([]byte(`{"uri":"u","body_text":12}`))
	f.Add([]byte(`{"uri":"u","body_text":"a","body_text":"b\tc"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		want := new(proto.Story)
		werr := json.Unmarshal(b, want)
		got, gerr := parseNinjs(b)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: library error %v, parseNinjs error %v", b, werr, gerr)
		}
		if werr != nil {
			return
		}
		if strings.TrimSpace(want.BodyText) == "" {
			got.BodyText = want.BodyText // parseNinjs falls back to body_html then
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Fatalf("%q:\nlibrary    %s\nparseNinjs %s", b, wj, gj)
		}
	})
}
