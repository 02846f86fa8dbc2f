package text_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wirestream/wirestream/stages/internal/text"
)

// testdataBodies returns the story texts of the repository's testdata:
// the body, body_text and body_html fields of every JSON line, the text of
// the plain-text and NewsML-G2 files.
func testdataBodies(tb testing.TB) []string {
	tb.Helper()
	root := filepath.Join("..", "..", "..", "testdata")
	var out []string
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".jsonl":
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<22)
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) != nil {
					continue
				}
				if st, ok := m["story"].(map[string]any); ok {
					m = st
				}
				for _, k := range []string{"body", "body_text", "body_html"} {
					if s, ok := m[k].(string); ok && s != "" {
						out = append(out, s)
					}
				}
			}
			return sc.Err()
		case ".txt", ".xml":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, p := range strings.Split(string(b), "\n\n") {
				out = append(out, strings.TrimPrefix(p, "date "))
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(out) < 100 {
		tb.Fatalf("only %d texts in %s", len(out), root)
	}
	return out
}

// FuzzDateline checks the grammar's invariants on any input: no panic;
// spans inside the body and pointing at the reported text; the place parses
// back to itself; a dateline without an agency has its city in capitals;
// and the result does not depend on what follows the dateline.
func FuzzDateline(f *testing.F) {
	for _, s := range testdataBodies(f) {
		if len(s) > 300 {
			s = s[:300]
		}
		f.Add(s)
	}
	for _, s := range []string{"PARIS, 16 September (AFP) - x", "KYIV, Ukraine, 2022 (AP) — x", "(AP) —", "X (", "A, B, C (AP) — —", "\xff (AP) — x", "LONDON -", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d, ok := text.ParseDateline(body)
		if !ok {
			return
		}
		if d.Start < 0 || d.Start > d.End || d.End > d.BodyStart || d.BodyStart > len(body) {
			t.Fatalf("offsets %d-%d, body start %d, in %d bytes", d.Start, d.End, d.BodyStart, len(body))
		}
		if body[d.Start:d.End] != d.Text || d.Text == "" {
			t.Fatalf("span %d-%d is %q, Text %q", d.Start, d.End, body[d.Start:d.End], d.Text)
		}
		if d.BodyStart > len(body)-len(strings.TrimLeft(body, " \t\r\n"))+text.MaxDateline {
			t.Fatalf("dateline reaches %d, past the limit", d.BodyStart)
		}
		if !strings.HasPrefix(d.Text, d.City) || !strings.Contains(d.Text, d.Qualifier) {
			t.Fatalf("city %q qualifier %q not in %q", d.City, d.Qualifier, d.Text)
		}
		if d.Agency == "" && strings.ToUpper(d.City) != d.City {
			t.Fatalf("no agency and city %q not in capitals", d.City)
		}
		p, ok := text.ParsePlace(d.Text)
		if !ok || p.Text != d.Text || p.City != d.City || p.Qualifier != d.Qualifier || p.Date != "" {
			t.Fatalf("place %q parses to %+v, %v", d.Text, p, ok)
		}
		again, ok := text.ParseDateline(body[:d.BodyStart] + " and more")
		if !ok || again.Place != d.Place || again.Agency != d.Agency {
			t.Fatalf("with other text after it: %+v, %v; was %+v", again, ok, d)
		}
	})
}

// FuzzHTMLToText checks the conversion on any input: no panic; valid UTF-8
// in, valid UTF-8 out; no white space at either end and paragraphs
// separated by exactly one blank line; without <pre>, no other line breaks,
// tabs or double spaces; and skipped content before the input changes
// nothing.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range testdataBodies(f) {
		f.Add(s)
		f.Add("<p>" + strings.ReplaceAll(s, "\n\n", "</p><p>") + "</p>")
	}
	for _, s := range []string{"<script>a<b</script>c", "<pre>\n x\n</pre>", "<head><body>x", "<object><object>", "&amp", "<p title='>'>x", "<"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out := text.HTMLToText(src)
		if utf8.ValidString(src) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", out)
		}
		if strings.TrimLeft(out, " \t\r\n\f") != out || strings.TrimRight(out, " \t\r\n\f") != out {
			t.Fatalf("white space at an end: %q", out)
		}
		if strings.Contains(out, "\n\n\n") {
			t.Fatalf("more than one blank line: %q", out)
		}
		if !strings.Contains(strings.ToLower(src), "pre") {
			for _, para := range strings.Split(out, "\n\n") {
				if out != "" && para == "" || strings.ContainsAny(para, "\n\t\r\f") || strings.Contains(para, "  ") || strings.Trim(para, " \t\n\r\f") != para { // HTML white space: U+00A0, U+2008... are text
					t.Fatalf("white space not collapsed in paragraph %q of %q", para, out)
				}
			}
		}
		for _, skipped := range []string{"<script>if (a<b) x()</script>", "<style>p { }</style>", "<head><title>t</title></head>"} {
			if got := text.HTMLToText(skipped + src); got != out {
				t.Fatalf("after %s: %q, alone %q", skipped, got, out)
			}
		}
	})
}
