package text

import (
	"strings"

	"golang.org/x/net/html"
)

// blockElements end a paragraph: text before and after one is in separate
// paragraphs. HTML, XHTML and NITF names (hl1, hl2, block, nitf-table).
var blockElements = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"li": true, "blockquote": true, "br": true, "div": true, "pre": true, "tr": true,
	"dt": true, "dd": true, "hl1": true, "hl2": true, "block": true, "ul": true, "ol": true,
	"table": true, "section": true, "article": true, "figure": true, "figcaption": true,
	"address": true, "hr": true, "caption": true, "nitf-table": true, "header": true,
	"footer": true, "aside": true, "main": true, "nav": true, "dl": true, "body": true,
}

// skippedElements hold no story text: their content, text included, never
// reaches a story.
var skippedElements = map[string]bool{
	"head": true, "script": true, "style": true, "title": true, "noscript": true,
	"template": true, "svg": true, "math": true, "iframe": true, "object": true,
	"img": true, "video": true, "audio": true, "canvas": true, "media": true,
	"media-reference": true, "media-metadata": true, "media-object": true,
}

// cellElements are table cells: a space keeps their texts apart.
var cellElements = map[string]bool{"td": true, "th": true}

// IsBlock reports whether the element named name (lower case, no prefix)
// ends a paragraph.
func IsBlock(name string) bool { return blockElements[name] }

// IsSkipped reports whether the content of the element named name (lower
// case, no prefix) is left out of the text.
func IsSkipped(name string) bool { return skippedElements[name] }

// Writer builds plain text from a stream of elements and character data,
// by the rules of HTMLToText: block elements (IsBlock) separate paragraphs
// with one blank line, table cells are kept apart by a space, white space
// inside a paragraph collapses to one space (inside <pre> it is kept), and
// skipped elements (IsSkipped) contribute nothing. The zero Writer is ready
// to use. It is how a DOM walker (NewsML-G2's XHTML and NITF bodies) and
// HTMLToText share one set of decisions.
type Writer struct {
	b     strings.Builder
	pre   int    // depth inside <pre>
	para  bool   // a paragraph break is owed before the next text
	space bool   // a space is owed before the next text of this paragraph
	ws    []byte // white space inside <pre> owed before the next text
}

// Open starts an element. ok is false when the element is skipped: then
// its content must not be written and Close not called for it.
func (w *Writer) Open(name string) (ok bool) {
	if skippedElements[name] {
		return false
	}
	w.edge(name)
	if name == "pre" {
		w.pre++
	}
	return true
}

// Close ends an element that Open accepted.
func (w *Writer) Close(name string) {
	if name == "pre" && w.pre > 0 {
		w.pre--
	}
	w.edge(name)
}

func (w *Writer) edge(name string) {
	switch {
	case blockElements[name]:
		w.para, w.space, w.ws = w.b.Len() > 0, false, w.ws[:0]
	case cellElements[name]:
		w.space = true
	}
}

// Text writes character data, entities already decoded.
func (w *Writer) Text(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isHTMLSpace(c) {
			if w.pre > 0 && w.b.Len() > 0 && !w.para {
				w.ws = append(w.ws, c) // kept inside <pre> if text follows
			} else {
				w.space = true
			}
			continue
		}
		switch {
		case w.para:
			w.b.WriteString("\n\n")
		case len(w.ws) > 0:
			w.b.Write(w.ws)
		case w.space && w.b.Len() > 0:
			w.b.WriteByte(' ')
		}
		w.para, w.space, w.ws = false, false, w.ws[:0]
		w.b.WriteByte(c)
	}
}

// String returns the text written so far.
func (w *Writer) String() string { return w.b.String() }

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// HTMLToText turns an HTML fragment or document (a ninjs body_html, a
// NewsML-G2 text/html rendition) into plain paragraphs: tags dropped,
// entities decoded, white space collapsed inside a paragraph, paragraphs
// (block elements, see IsBlock) separated by one blank line, and the
// content of skipped elements (script, style, head..., see IsSkipped) left
// out. Tokenizing is golang.org/x/net/html's, so script and style bodies,
// comments, attributes holding '>' and entities without a semicolon are
// read as a browser reads them.
func HTMLToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var (
		w         Writer
		skipping  string // the skipped element whose content is being passed over
		skipDepth int    // open elements of that name
	)
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return w.String()
		case html.TextToken:
			if skipDepth == 0 {
				w.Text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			raw, _ := z.TagName()
			name := string(raw)
			empty := tt == html.SelfClosingTagToken || voidElements[name]
			if skipDepth > 0 {
				switch {
				case name == skipping && !empty:
					skipDepth++
				case skipping == "head" && name == "body":
					skipDepth = 0 // a body start tag ends an unclosed head
					w.Open(name)
				}
				continue
			}
			if !w.Open(name) {
				if !empty {
					skipping, skipDepth = name, 1
				}
				continue
			}
			if empty {
				w.Close(name)
			}
		case html.EndTagToken:
			raw, _ := z.TagName()
			name := string(raw)
			if skipDepth > 0 {
				if name == skipping {
					skipDepth--
				}
				continue
			}
			if !skippedElements[name] {
				w.Close(name)
			}
		}
	}
}
