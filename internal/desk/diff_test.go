package desk_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/internal/desk"
)

func TestWordDiff(t *testing.T) {
	cases := []struct {
		name, a, b, want string
	}{
		{"same", "a b c", "a b c", "=[a b c]"},
		{"word changed", "The toll rose to 12 on Monday.", "The toll rose to 15 on Monday.", "=[The toll rose to ]-[12 ]+[15 ]=[on Monday.]"},
		{"added sentence", "First. Second.", "First. New one. Second.", "=[First. ]+[New one. ]=[Second.]"},
		{"removed", "a b c d", "a d", "=[a ]-[b c ]=[d]"},
		{"from nothing", "", "a b", "+[a b]"},
		{"to nothing", "a b", "", "-[a b]"},
		{"spacing only", "a  b", "a b", "=[a b]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			var olds, news strings.Builder
			for _, ch := range desk.WordDiff(c.a, c.b) {
				b.WriteString(ch.Op + "[" + ch.Text + "]")
				if ch.Op != "+" {
					olds.WriteString(ch.Text)
				}
				if ch.Op != "-" {
					news.WriteString(ch.Text)
				}
			}
			if b.String() != c.want {
				t.Errorf("got %s, want %s", b.String(), c.want)
			}
			// The "=" and "+" runs spell the newer text (spacing from it).
			if strings.Join(strings.Fields(news.String()), " ") != strings.Join(strings.Fields(c.b), " ") {
				t.Errorf("= and + runs give %q, not the newer text %q", news.String(), c.b)
			}
			if strings.Join(strings.Fields(olds.String()), " ") != strings.Join(strings.Fields(c.a), " ") {
				t.Errorf("= and - runs give %q, not the older text %q", olds.String(), c.a)
			}
		})
	}
}

func FuzzWordDiff(f *testing.F) {
	f.Add("The toll rose to 12.", "The toll rose to 15 on Monday.")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, a, b string) {
		var olds, news strings.Builder
		for _, ch := range desk.WordDiff(a, b) {
			if ch.Op != "+" {
				olds.WriteString(ch.Text)
			}
			if ch.Op != "-" {
				news.WriteString(ch.Text)
			}
		}
		if strings.Join(strings.Fields(news.String()), " ") != strings.Join(strings.Fields(b), " ") ||
			strings.Join(strings.Fields(olds.String()), " ") != strings.Join(strings.Fields(a), " ") {
			t.Fatalf("runs do not spell the texts: %q %q -> %q %q", a, b, olds.String(), news.String())
		}
	})
}
