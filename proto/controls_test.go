package proto_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

func TestIsControl(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', 0x1b, 0x7f, 0x80, 0x85, 0x9b, 0x9f, 0x202a, 0x202e, 0x2066, 0x2069} {
		if !proto.IsControl(r) {
			t.Errorf("%U is not a control", r)
		}
	}
	for _, r := range []rune{' ', 'a', 0xa0, 0xe9, 0x2014, 0x2029, 0x2070, 0x202f, 0x200f, 0xfffd} {
		if proto.IsControl(r) {
			t.Errorf("%U is a control", r)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain – text", "plain – text"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"nul\x00 del\x7f", `nul\x00 del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bidi \u202egpj.exe\u2066", `bidi \u202egpj.exe\u2066`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"line\nbreak", `line\x0abreak`},
	} {
		if got := proto.Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// ninjs JSON output carries no raw control a terminal acts on: JSON itself
// escapes C0; DEL, C1 and the bidi controls are escaped too, and the text
// reads back the same.
func TestAppendJSONEscapesControls(t *testing.T) {
	dirty := "ESC\x1b[2J DEL\x7f CSI\u009b31m RLO\u202e LRI\u2066 dash— quote” nbsp\u00a0"
	s := &proto.Story{URI: "urn:x:1", Headline: dirty, BodyText: dirty, Byline: "é"}
	b, err := proto.AppendJSON([]byte("prefix\u202e"), s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "prefix\u202e") {
		t.Fatalf("the bytes before were changed: %q", b[:12])
	}
	out := b[len("prefix\u202e"):]
	if strings.ContainsFunc(string(out), proto.IsControl) || !utf8.Valid(out) {
		t.Fatalf("raw control in %q", out)
	}
	if !strings.Contains(string(out), `dash— quote” nbsp`) {
		t.Errorf("typographic text escaped: %s", out)
	}
	back, err := proto.UnmarshalJSON(out)
	if err != nil || back.Headline != dirty || back.BodyText != dirty {
		t.Fatalf("round trip: %v %q", err, back.Headline)
	}
	m, err := proto.MarshalJSON(s)
	if err != nil || string(m) != string(out) {
		t.Errorf("MarshalJSON differs from AppendJSON:\n%s\n%s", m, out)
	}
}
