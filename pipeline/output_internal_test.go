package pipeline

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHeadlineHeader(t *testing.T) {
	long := strings.Repeat("a", 199) + "é and more" // é straddles byte 200
	for _, c := range []struct{ in, want string }{
		{"Putin thanks Xi", "Putin thanks Xi"},
		{long, strings.Repeat("a", 199)},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)},
		{"two\r\nlines\n", "two  lines "},
		{"bell\a and \x1b[31mred\x1b[0m", "bell and [31mred[0m"},
		{"gnp\u202eevil\u202c", "gnpevil"},
		{"nul\x00 c1\u0085 del\x7f", "nul c1 del"},
		{"", ""},
	} {
		got := headlineHeader(c.in)
		if got != c.want {
			t.Errorf("headlineHeader(%.20q…) = %.40q, want %.40q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) || len(got) > 200 || strings.IndexFunc(got, unprintable) >= 0 {
			t.Errorf("headlineHeader(%.20q…) = %q: not a valid one-line header value of at most 200 bytes", c.in, got)
		}
	}
}
