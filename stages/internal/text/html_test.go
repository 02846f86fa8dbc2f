package text_test

import (
	"strings"
	"testing"

	"github.com/wirestream/wirestream/stages/internal/text"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, given, want string }{
		{"paragraphs and entities", "<p>PARIS (AFP) - First &amp; foremost.</p><p>Second.</p>", "PARIS (AFP) - First & foremost.\n\nSecond."},
		{"white space collapses", "<p>  one\n   two\t three </p>\n\n<p>\nfour</p>", "one two three\n\nfour"},
		{"inline elements", "<p><em>a</em> <strong>b</strong>c<b> </b>d</p>", "a bc d"},
		{"br and div", "one<br>two<br/>three<div>four</div>five", "one\n\ntwo\n\nthree\n\nfour\n\nfive"},
		{"script and style are skipped", "<p>a</p><script>if (x < 1) { document.write('<p>no</p>') }</script><style>p{}</style><p>b</p>", "a\n\nb"},
		{"head is skipped", "<html><head><title>Title</title><meta charset=utf-8></head><body><p>Body</p></body></html>", "Body"},
		{"unclosed head ends at body", "<head><title>T</title><body><p>Body</p>", "Body"},
		{"nested skipped element", "<object><object>x</object>y</object>z", "z"},
		{"void skipped element", "<p>a<img src=x alt=no>b</p>", "ab"},
		{"comments", "<p>a<!-- <p>no</p> -->b</p>", "ab"},
		{"attribute with >", `<p title="a>b">text</p>`, "text"},
		{"entity without semicolon", "<p>AT&amp;T &copy 2024 &#8212; x &nbsp;y</p>", "AT&T © 2024 — x \u00a0y"},
		{"escaped markup stays text", "&lt;p&gt;A &amp;amp; B&lt;/p&gt;", "<p>A &amp; B</p>"},
		{"table cells", "<table><tr><th>Club</th><th>Pts</th></tr><tr><td>Ayr</td><td>12</td></tr></table>", "Club Pts\n\nAyr 12"},
		{"pre keeps lines", "<p>Results:</p><pre>\nAyr   2\nTroon 1\n</pre><p>end</p>", "Results:\n\nAyr   2\nTroon 1\n\nend"},
		{"lists", "<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"},
		{"stray end tags", "a</p></div>b</script>c", "a\n\nbc"},
		{"plain text", "just text", "just text"},
		{"unterminated tag", "a <p", "a"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := text.HTMLToText(tt.given); got != tt.want {
				t.Errorf("HTMLToText(%q)\n = %q\nwant %q", tt.given, got, tt.want)
			}
		})
	}
}

func TestElementLists(t *testing.T) {
	for _, name := range []string{"p", "div", "br", "h1", "li", "blockquote", "pre", "tr", "hl1", "block", "table"} {
		if !text.IsBlock(name) {
			t.Errorf("IsBlock(%q) = false", name)
		}
	}
	for _, name := range []string{"script", "style", "head", "title", "noscript", "iframe", "media", "media-reference"} {
		if !text.IsSkipped(name) {
			t.Errorf("IsSkipped(%q) = false", name)
		}
	}
	for _, name := range []string{"span", "em", "a", "td", "body.content"} {
		if text.IsBlock(name) || text.IsSkipped(name) {
			t.Errorf("%q is a block or skipped element", name)
		}
	}
	for _, name := range []string{"p", "div", "pre"} {
		if text.IsSkipped(name) {
			t.Errorf("block element %q is also skipped", name)
		}
	}
}

// A DOM walker driving a Writer gets what HTMLToText gives for the same
// document.
func TestWriterMatchesHTMLToText(t *testing.T) {
	type node struct {
		name string // "" for text
		data string
		kids []node
	}
	el := func(name string, kids ...node) node { return node{name: name, kids: kids} }
	tx := func(s string) node { return node{data: s} }
	doc := el("body",
		el("p", tx("One "), el("em", tx("two")), tx("  three")),
		el("script", tx("no")),
		el("table", el("tr", el("td", tx("a")), el("td", tx("b")))),
		el("pre", tx("x  1\ny  2")),
		el("p", tx("end")),
	)
	var w text.Writer
	var walk func(n node)
	walk = func(n node) {
		for _, k := range n.kids {
			if k.name == "" {
				w.Text(k.data)
				continue
			}
			if !w.Open(k.name) {
				continue
			}
			walk(k)
			w.Close(k.name)
		}
	}
	walk(node{kids: []node{doc}})
	var h func(n node) string
	h = func(n node) string {
		if n.name == "" {
			return n.data
		}
		var b strings.Builder
		for _, k := range n.kids {
			b.WriteString(h(k))
		}
		return "<" + n.name + ">" + b.String() + "</" + n.name + ">"
	}
	want := text.HTMLToText(h(doc))
	if got := w.String(); got != want {
		t.Errorf("Writer %q, HTMLToText %q", got, want)
	}
	if want != "One two three\n\na b\n\nx  1\ny  2\n\nend" {
		t.Errorf("HTMLToText = %q", want)
	}
}
