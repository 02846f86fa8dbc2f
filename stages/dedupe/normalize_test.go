package dedupe_test

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/wirestream/wirestream/stages/dedupe"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"case and whitespace", "  Oil\tPRICES\n\nrise ", []string{"oil", "prices", "rise"}},
		{"punctuation splits", "U.S. crude--up 1.5%", []string{"u", "s", "crude", "up", "1", "5"}},
		{"apostrophes join", "China's world’s", []string{"chinas", "worlds"}},
		{"diacritics precomposed", "Café São Paulo Łódź", []string{"cafe", "sao", "paulo", "lodz"}},
		{"diacritics combining", "Cafe\u0301 Sa\u0303o", []string{"cafe", "sao"}},
		{"full-width and ligatures", "ＯＩＬ ｐｒｉｃｅ ﬁnal Straße", []string{"oil", "price", "final", "strasse"}},
		{"zero-width and nbsp", "oil\u200bprice\u00a0rise", []string{"oilprice", "rise"}},
		{"other scripts lower-cased", "Нефть ΔΕΛΤΑ 石油", []string{"нефть", "δελτα", "石油"}},
		{"agency tag", "BEIRUT (AP) — Talks resumed", []string{"beirut", "talks", "resumed"}},
		{"reuters dateline", "LONDON, Nov 26 (Reuters) - Oil rose", []string{"london", "nov", "26", "oil", "rose"}},
		{"parenthetical kept", "The company (Halden Oil) said", []string{"the", "company", "halden", "oil", "said"}},
		{"credit line", "Oil rose.\n\n(Reporting by A. B.; Editing by C. D.)", []string{"oil", "rose"}},
		{"copyright", "Oil rose.\n\nCopyright 2026 The Associated Press. All rights reserved.", []string{"oil", "rose"}},
		{"trailing agency", "Oil rose. — AFP", []string{"oil", "rose"}},
		{"stacked boilerplate", "Oil rose (AP). AFP\nCopyright 2025 The Associated Press. All rights reserved. dpa", []string{"oil", "rose"}},
		{"invalid utf-8", "oil\xffprice", []string{"oil", "price"}},
		{"empty", " — ", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dedupe.Normalize(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	base := dedupe.FingerprintOf("Oil rises", "LONDON — Oil rose 2%.\n\nTraders said so.")
	same := []struct{ h, b string }{
		{"OIL RISES", "london -- oil rose 2 %. traders said so"},
		{"Oil  rises", "LONDON (AP) — Oil rose 2%.\n\nTraders said so.\n\nCopyright 2026 The Associated Press. All rights reserved."},
		{"Oil rises", "LONDON (Reuters) - Oil rose 2%. Traders said so.\n(Reporting by X; Editing by Y)"},
	}
	for _, c := range same {
		if got := dedupe.FingerprintOf(c.h, c.b); got != base {
			t.Errorf("FingerprintOf(%q, %q) differs from the original", c.h, c.b)
		}
	}
	differ := []struct{ h, b string }{
		{"Oil rises", "LONDON — Oil rose 3%.\n\nTraders said so."},
		{"Oil", "rises LONDON — Oil rose 2%.\n\nTraders said so."}, // headline/body boundary
		{"Oil falls", "LONDON — Oil rose 2%.\n\nTraders said so."},
	}
	for _, c := range differ {
		if got := dedupe.FingerprintOf(c.h, c.b); got == base {
			t.Errorf("FingerprintOf(%q, %q) equals the original", c.h, c.b)
		}
	}
}

// FuzzNormalize checks the normaliser's invariants on arbitrary input:
//   - it never panics and yields non-empty, valid UTF-8 words without
//     spaces or punctuation, each letter already lower case (ToLower is a
//     no-op: some upper-case symbols such as 'ϓ' have no lower case);
//   - it is idempotent (normalising the joined words changes nothing);
//   - the fingerprint ignores ASCII case, whitespace layout and an agency
//     tag added after the first word.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"LONDON (AP) — Oil rose 2%.\n\nCopyright 2026 The Associated Press. All rights reserved.",
		"Café São Paulo Łódź ＯＩＬ ﬁnal Straße",
		"(Reporting by A; Editing by B)", "x ap ap ap", "copyright 2026 a all rights reserved dpa",
		"\xff\xfe(", "Нефть ΔΕΛΤΑ 石油 Å K", "a'b ’c‘ ((d)) [e] (f",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := dedupe.Normalize(s)
		for _, w := range words {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("bad word %q", w)
			}
			for _, r := range w {
				if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.ToLower(r) != r || r == utf8.RuneError {
					t.Fatalf("word %q has %q", w, r)
				}
			}
		}
		joined := strings.Join(words, " ")
		if again := dedupe.Normalize(joined); !reflect.DeepEqual(again, words) {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, words, again)
		}
		fp := dedupe.FingerprintOf("h", s)
		if got := dedupe.FingerprintOf("h", joined); got != fp {
			t.Fatalf("fingerprint of the normalised form differs for %q", s)
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case 'a' <= c && c <= 'z':
				b.WriteByte(c - 'a' + 'A')
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c - 'A' + 'a')
			case c == ' ':
				b.WriteString(" \n\t ")
			default:
				b.WriteByte(c)
			}
		}
		if got := dedupe.FingerprintOf("h", b.String()); got != fp {
			t.Fatalf("fingerprint not case/whitespace invariant: %q vs %q", s, b.String())
		}
		if len(words) > 0 && !strings.ContainsAny(s, "()[]") {
			tagged := words[0] + " (AP) — " + strings.Join(words[1:], " ")
			if got := dedupe.FingerprintOf("h", tagged); got != fp {
				t.Fatalf("agency tag changed the fingerprint: %q vs %q", joined, tagged)
			}
		}
	})
}
