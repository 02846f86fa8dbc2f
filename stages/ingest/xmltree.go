package ingest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/wirestream/wirestream/stages/internal/text"
)

// The generic XML tree the NewsML-G2 mapping (newsml.go) reads: a whole
// document parsed at once into xnodes, namespaces resolved, with the
// accessors the mapping needs.

// Limits that keep hostile input cheap.
const (
	newsmlMaxDepth = 256 // element nesting
)

// xnode is an element (name set) or a run of character data (name empty)
// of a parsed document.
type xnode struct {
	name  xml.Name
	attrs []xml.Attr
	kids  []*xnode
	data  string // character data of a text node
}

func (n *xnode) isElem() bool { return n.name.Local != "" }

// isG2 reports an element of the NewsML-G2 namespace (or of none, as sent
// by feeds that leave the namespace out).
func (n *xnode) isG2() bool {
	return n.name.Local != "" && (n.name.Space == nsNAR || n.name.Space == "")
}

func (n *xnode) attr(space, local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local && (a.Name.Space == space || space == "" && a.Name.Space == nsNAR) {
			return a.Value
		}
	}
	return ""
}

// child returns the first NewsML-G2 child element named local.
func (n *xnode) child(local string) *xnode {
	for _, k := range n.kids {
		if k.name.Local == local && k.isG2() {
			return k
		}
	}
	return nil
}

// children returns the NewsML-G2 child elements named local.
func (n *xnode) children(local string) []*xnode {
	var out []*xnode
	for _, k := range n.kids {
		if k.name.Local == local && k.isG2() {
			out = append(out, k)
		}
	}
	return out
}

// localChild returns the first child element named local in any namespace.
func (n *xnode) localChild(local string) *xnode {
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
	}
	return nil
}

// childText is the text of the first child named local, or "".
func (n *xnode) childText(local string) string {
	if c := n.child(local); c != nil {
		return c.text()
	}
	return ""
}

// walk visits n and its descendants in document order; fn returns false to
// skip an element's children. Depth is bounded by the parser.
func (n *xnode) walk(fn func(*xnode) bool) {
	if !fn(n) {
		return
	}
	for _, k := range n.kids {
		k.walk(fn)
	}
}

// text is all character data under n, markup dropped.
func (n *xnode) text() string {
	if !n.isElem() {
		return n.data
	}
	if len(n.kids) == 1 && !n.kids[0].isElem() {
		return n.kids[0].data
	}
	var b strings.Builder
	n.walk(func(k *xnode) bool {
		b.WriteString(k.data)
		return true
	})
	return b.String()
}

// g2Structure are the NewsML-G2 and document-structure elements between
// which white space carries no meaning.
var g2Structure = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range []string{"newsMessage", "header", "itemSet", "newsItem", "packageItem", "conceptItem",
		"knowledgeItem", "planningItem", "catalogRef", "itemMeta", "itemClass", "provider", "versionCreated",
		"firstCreated", "pubStatus", "signal", "contentMeta", "subject", "located", "creator",
		"contributor", "language", "urgency", "genre", "contentSet", "inlineXML", "inlineData", "remoteContent",
		"groupSet", "group", "itemRef", "groupRef", "nitf", "body", "body.head", "body.content", "body.end", "html"} {
		m[name] = true
	}
	return m
}()

// structural reports whether white space after an element named name, or
// first inside it, carries no meaning: the NewsML-G2 structure, block
// elements and elements whose content is skipped (the toolkit's lists).
func structural(name string) bool {
	return g2Structure[name] || text.IsBlock(name) || text.IsSkipped(name)
}

// isXMLSpace reports whether b is only XML white space.
func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// parseXMLTree reads a whole document into a tree, namespaces resolved.
// Syntax errors name the line. Nodes, child lists and text come from a few
// large allocations (see treeBuilder), not one each.
func parseXMLTree(data []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity // &nbsp; and kin in XHTML bodies
	d.CharsetReader = charsetReader
	b := newTreeBuilder(len(data))
	var (
		root   *xnode
		open   []*xnode // elements not yet closed
		marks  []int    // where each open element's children start in kids
		kids   []*xnode // children of the open elements, innermost last
		inText bool     // character data is being gathered for a text node
	)
	textStart := 0 // offset in b.text of the text being gathered
	closeText := func() {
		if !inText {
			return
		}
		inText = false
		// White space between structural or block elements means nothing:
		// it is not kept, which saves a node for every line break.
		if isXMLSpace(b.text[textStart:]) {
			prev := open[len(open)-1]
			if m := marks[len(marks)-1]; len(kids) > m {
				prev = kids[len(kids)-1]
			}
			if structural(prev.name.Local) {
				b.text = b.text[:textStart]
				return
			}
		}
		kids = append(kids, b.textNode(textStart))
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("malformed XML at line %d: %s", se.Line, se.Msg)
			}
			line, _ := d.InputPos()
			return nil, fmt.Errorf("malformed XML at line %d: %v", line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(open) == 0 {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("malformed XML at line %d: second root element <%s>", line, t.Name.Local)
			}
			if len(open) >= newsmlMaxDepth {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("malformed XML at line %d: elements nested deeper than %d", line, newsmlMaxDepth)
			}
			closeText()
			n := b.node()
			n.name = t.Name
			if n.name.Local == "" {
				n.name.Local = "_" // never a text node
			}
			// Token gives a fresh Attr slice: drop the namespace
			// declarations in place.
			attrs := t.Attr[:0]
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && (a.Name.Space != "" || a.Name.Local != "xmlns") {
					attrs = append(attrs, a)
				}
			}
			if len(attrs) > 0 {
				n.attrs = attrs
			}
			if root == nil {
				root = n
			} else {
				kids = append(kids, n)
			}
			open = append(open, n)
			marks = append(marks, len(kids))
		case xml.EndElement:
			closeText()
			n, m := open[len(open)-1], marks[len(marks)-1]
			open, marks = open[:len(open)-1], marks[:len(marks)-1]
			n.kids = b.ptrs(kids[m:])
			kids = kids[:m]
		case xml.CharData:
			if len(open) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					line, _ := d.InputPos()
					return nil, fmt.Errorf("malformed XML at line %d: text outside the root element", line)
				}
				continue
			}
			// Text split by comments or processing instructions is one node.
			if !inText {
				textStart = len(b.text)
				inText = true
			}
			b.text = append(b.text, t...)
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	if len(open) > 0 {
		return nil, fmt.Errorf("malformed XML: <%s> not closed", open[len(open)-1].name.Local)
	}
	b.finish()
	return root, nil
}

// treeBuilder allocates the nodes of one document in chunks, the child
// lists from one growing array of pointers, and all character data in one
// buffer that becomes a single string when the tree is complete.
type treeBuilder struct {
	chunks    [][]xnode
	chunkSize int
	ptrSlab   []*xnode
	text      []byte // every text node's bytes, in document order
	textNodes []textSpan
}

// textSpan is a text node and where its bytes are in treeBuilder.text.
type textSpan struct {
	n        *xnode
	off, end int
}

func newTreeBuilder(size int) *treeBuilder {
	// About one node per 24 bytes of a text-heavy document.
	n := min(max(size/24, 16), 4096)
	return &treeBuilder{
		chunkSize: n,
		text:      make([]byte, 0, size/2),
		textNodes: make([]textSpan, 0, n/2),
	}
}

// node returns a new zero node.
func (b *treeBuilder) node() *xnode {
	last := len(b.chunks) - 1
	if last < 0 || len(b.chunks[last]) == cap(b.chunks[last]) {
		b.chunks = append(b.chunks, make([]xnode, 0, b.chunkSize))
		last++
	}
	b.chunks[last] = append(b.chunks[last], xnode{})
	return &b.chunks[last][len(b.chunks[last])-1]
}

// textNode makes a text node of b.text[off:].
func (b *treeBuilder) textNode(off int) *xnode {
	n := b.node()
	b.textNodes = append(b.textNodes, textSpan{n: n, off: off, end: len(b.text)})
	return n
}

// ptrs copies a child list into the pointer slab.
func (b *treeBuilder) ptrs(kids []*xnode) []*xnode {
	if len(kids) == 0 {
		return nil
	}
	if cap(b.ptrSlab)-len(b.ptrSlab) < len(kids) {
		b.ptrSlab = make([]*xnode, 0, max(len(kids), b.chunkSize))
	}
	i := len(b.ptrSlab)
	b.ptrSlab = append(b.ptrSlab, kids...)
	return b.ptrSlab[i:len(b.ptrSlab):len(b.ptrSlab)]
}

// finish gives every text node its string.
func (b *treeBuilder) finish() {
	all := string(b.text)
	for _, t := range b.textNodes {
		t.n.data = all[t.off:t.end]
	}
}

// charsetReader accepts the encodings a wire may declare besides UTF-8:
// US-ASCII (a subset) and ISO-8859-1.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "us-ascii", "ascii", "utf8":
		return input, nil
	case "iso-8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/8)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (use UTF-8)", charset)
}
