package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// FormatNewsML is the Ws-Format value of NewsML-G2 input.
const FormatNewsML = "newsml"

// ErrInvalidNewsML is wrapped by every error of ParseNewsML.
var ErrInvalidNewsML = errors.New("ingest: invalid NewsML-G2")

// Namespaces the parser knows.
const (
	nsNAR = "http://iptc.org/std/nar/2006-10-01/"
	nsXML = "http://www.w3.org/XML/1998/namespace"
)

// Limits that keep hostile input cheap.
const (
	newsmlMaxDepth = 256 // element nesting
)

// ParseNewsML parses a NewsML-G2 document: a newsItem, a newsMessage with
// several items in its itemSet, or a packageItem (whose referenced items, if
// included in the same newsMessage, are parsed; a lone packageItem with no
// text items is an error). It returns one story per text newsItem, in
// document order. Errors wrap ErrInvalidNewsML with a reason.
//
// Items that are not text (ninat:picture, ninat:video, ...) are skipped;
// conceptItems, planningItems and knowledgeItems of a newsMessage too. A
// story's PubStatus is empty when the item has no pubStatus (the ingest
// stage applies the default, usable). Dedupe, Source, Received and IngestSeq
// are left for the stage.
func ParseNewsML(data []byte) ([]*proto.Story, error) {
	root, err := parseXMLTree(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidNewsML, err)
	}
	if root.name.Space != nsNAR && root.name.Space != "" {
		return nil, fmt.Errorf("%w: root element <%s> is in namespace %q, not NewsML-G2 (%s)", ErrInvalidNewsML, root.name.Local, root.name.Space, nsNAR)
	}
	var (
		items    []*xnode // newsItems in document order
		packages []*xnode
	)
	switch root.name.Local {
	case "newsItem":
		items = append(items, root)
	case "packageItem":
		packages = append(packages, root)
	case "newsMessage":
		for _, set := range root.children("itemSet") {
			for _, n := range set.kids {
				if !n.isG2() {
					continue
				}
				switch n.name.Local {
				case "newsItem":
					items = append(items, n)
				case "packageItem":
					packages = append(packages, n)
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: root element <%s> is not newsItem, packageItem or newsMessage", ErrInvalidNewsML, root.name.Local)
	}
	if len(items) == 0 {
		if len(packages) > 0 {
			return nil, fmt.Errorf("%w: no newsItem: packageItem %q references %s, none included", ErrInvalidNewsML,
				packages[0].attr("", "guid"), describeRefs(packages[0]))
		}
		return nil, fmt.Errorf("%w: no newsItem in <%s>", ErrInvalidNewsML, root.name.Local)
	}
	var stories []*proto.Story
	for i, it := range items {
		s, err := newsItemStory(it)
		if err != nil {
			return nil, fmt.Errorf("%w: newsItem %d: %v", ErrInvalidNewsML, i+1, err)
		}
		if s != nil {
			stories = append(stories, s)
		}
	}
	if len(stories) == 0 {
		return nil, fmt.Errorf("%w: no text newsItem among %d items", ErrInvalidNewsML, len(items))
	}
	return stories, nil
}

// describeRefs names the items a packageItem references, for an error.
func describeRefs(pkg *xnode) string {
	var refs []string
	pkg.walk(func(n *xnode) bool {
		if n.isG2() && n.name.Local == "itemRef" {
			if r := n.attr("", "residref"); r != "" {
				refs = append(refs, strconv.Quote(r))
			}
		}
		return true
	})
	switch len(refs) {
	case 0:
		return "no items"
	case 1, 2, 3:
		return strings.Join(refs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(refs[:3], ", "), len(refs)-3)
}

// newsItemStory maps one newsItem. It returns nil, nil for a non-text item.
func newsItemStory(it *xnode) (*proto.Story, error) {
	meta := it.child("itemMeta")
	if meta != nil {
		if c := meta.child("itemClass"); c != nil && !isTextClass(c) {
			return nil, nil
		}
	}
	guid := strings.TrimSpace(it.attr("", "guid"))
	if guid == "" {
		return nil, errors.New("no guid")
	}
	s := &proto.Story{
		URI:     guid,
		Type:    "text",
		Version: strings.TrimSpace(it.attr("", "version")),
	}
	if meta != nil {
		var err error
		if s.VersionCreated, err = proto.ParseTime(meta.childText("versionCreated")); err != nil {
			return nil, fmt.Errorf("%q: versionCreated: %v", guid, err)
		}
		if s.FirstCreated, err = proto.ParseTime(meta.childText("firstCreated")); err != nil {
			return nil, fmt.Errorf("%q: firstCreated: %v", guid, err)
		}
		if ps := meta.child("pubStatus"); ps != nil {
			if s.PubStatus, err = pubStatus(ps); err != nil {
				return nil, fmt.Errorf("%q: %v", guid, err)
			}
		}
		var notes []string
		for _, n := range meta.children("edNote") {
			if t := NormalizeText(n.blockText()); t != "" {
				notes = append(notes, t)
			}
		}
		s.EdNote = strings.Join(notes, "\n\n")
	}
	s.Language = strings.TrimSpace(it.attr(nsXML, "lang"))
	if cm := it.child("contentMeta"); cm != nil {
		contentMeta(s, cm)
	}
	body, err := contentSetText(it.child("contentSet"))
	switch {
	case err != nil && s.PubStatus == proto.PubStatusCanceled:
		// A kill needs no body; whatever came is not worth rejecting it for.
	case err != nil:
		return nil, fmt.Errorf("%q: %v", guid, err)
	default:
		s.BodyText = body
	}
	return s, nil
}

// isTextClass reports whether an itemClass names text: the qcode ninat:text
// or its URI form. An itemClass without either counts as text.
func isTextClass(c *xnode) bool {
	code := strings.TrimSpace(c.attr("", "qcode"))
	if code == "" {
		code = strings.TrimSpace(c.attr("", "uri"))
		if code == "" {
			return true
		}
		code = strings.TrimSuffix(code, "/")
		code = code[strings.LastIndexByte(code, '/')+1:]
	} else if _, v, ok := strings.Cut(code, ":"); ok {
		code = v
	}
	return strings.EqualFold(code, "text")
}

// pubStatus maps stat:usable, stat:withheld and stat:canceled (or their URI
// forms) to the ninjs pubstatus.
func pubStatus(n *xnode) (string, error) {
	code := strings.TrimSpace(n.attr("", "qcode"))
	raw := code
	if code != "" {
		if _, v, ok := strings.Cut(code, ":"); ok {
			code = v
		}
	} else if raw = strings.TrimSpace(n.attr("", "uri")); raw != "" {
		code = strings.TrimSuffix(raw, "/")
		code = code[strings.LastIndexByte(code, '/')+1:]
	} else {
		return "", nil
	}
	switch strings.ToLower(code) {
	case "usable":
		return proto.PubStatusUsable, nil
	case "withheld":
		return proto.PubStatusWithheld, nil
	case "canceled", "cancelled":
		return proto.PubStatusCanceled, nil
	}
	return "", fmt.Errorf("pubStatus %q is not stat:usable, stat:withheld or stat:canceled", raw)
}

// contentMeta maps the descriptive metadata of an item.
func contentMeta(s *proto.Story, cm *xnode) {
	s.Headline = NormalizeLine(cm.childText("headline"))
	s.Slugline = NormalizeLine(cm.childText("slugline"))
	s.Byline = NormalizeLine(cm.childText("by"))
	if s.Byline == "" {
		var names []string
		for _, c := range cm.children("creator") {
			if n := NormalizeLine(c.childText("name")); n != "" {
				names = append(names, n)
			}
		}
		s.Byline = strings.Join(names, ", ")
	}
	if s.Byline == "" {
		s.Byline = NormalizeLine(cm.childText("creditline"))
	}
	for _, l := range cm.children("located") {
		if s.Located = NormalizeLine(l.childText("name")); s.Located != "" {
			break
		}
	}
	if s.Located == "" {
		s.Located = datelinePlace(NormalizeLine(cm.childText("dateline")))
	}
	for _, l := range cm.children("language") {
		if tag := strings.TrimSpace(l.attr("", "tag")); tag != "" {
			s.Language = tag
			break
		}
	}
	if u, err := strconv.Atoi(strings.TrimSpace(cm.childText("urgency"))); err == nil && u >= 0 && u <= 9 {
		s.Urgency = int32(u)
	}
	seen := make(map[string]bool)
	for _, sub := range cm.children("subject") {
		code := medtopCode(sub)
		if code == "" || seen[code] {
			continue
		}
		seen[code] = true
		subj := &proto.Subject{Scheme: proto.SchemeMedTop, Code: code, Name: NormalizeLine(sub.childText("name"))}
		if r, err := strconv.Atoi(strings.TrimSpace(sub.attr("", "relevance"))); err == nil && r >= 0 && r <= 100 {
			subj.Relevance = int32(r)
		}
		s.Subject = append(s.Subject, subj)
	}
}

// medtopCode returns "medtop:NNNNNNNN" for a subject with a Media Topic
// qcode (or the URI form http://cv.iptc.org/newscodes/mediatopic/NNNNNNNN),
// or "" for any other scheme.
func medtopCode(sub *xnode) string {
	var id string
	if q := strings.TrimSpace(sub.attr("", "qcode")); q != "" {
		v, ok := strings.CutPrefix(q, "medtop:")
		if !ok {
			return ""
		}
		id = v
	} else if u := strings.TrimSpace(sub.attr("", "uri")); u != "" {
		_, v, ok := strings.Cut(u, "cv.iptc.org/newscodes/mediatopic/")
		if !ok {
			return ""
		}
		id = strings.TrimSuffix(v, "/")
	}
	if len(id) != 8 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return ""
		}
	}
	return "medtop:" + id
}

// datelinePlace takes the place from a dateline element such as
// "SAMARKAND, Uzbekistan, Nov 27": trailing date parts are dropped.
func datelinePlace(d string) string {
	parts := strings.Split(d, ",")
	for len(parts) > 0 {
		p := strings.TrimSpace(parts[len(parts)-1])
		if p != "" && !isDate(p) && !isNumericDate(p) {
			break
		}
		parts = parts[:len(parts)-1]
	}
	return strings.TrimSpace(strings.Join(parts, ","))
}

// isNumericDate reports a date or year written in digits: "2026", "2026-11-27", "27/11".
func isNumericDate(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' || c == '/' || c == '.':
		default:
			return false
		}
	}
	return digits > 0
}

// contentSetText returns the story text of a contentSet: the first NITF or
// XHTML inlineXML, else the first text/plain (or text/html) inlineData.
func contentSetText(cs *xnode) (string, error) {
	if cs == nil {
		return "", errors.New("no contentSet")
	}
	var types []string
	for _, pass := range []string{"inlineXML", "inlineData"} {
		for _, c := range cs.children(pass) {
			ct := mediaType(c.attr("", "contenttype"))
			var (
				text string
				ok   bool
				err  error
			)
			if pass == "inlineXML" {
				text, ok = inlineXMLText(c, ct)
			} else {
				text, ok, err = inlineDataText(c, ct)
				if err != nil {
					return "", err
				}
			}
			if ok {
				if text == "" {
					return "", fmt.Errorf("%s (%s) holds no text", pass, ct)
				}
				return text, nil
			}
			types = append(types, pass+" "+strconv.Quote(ct))
		}
	}
	for _, c := range cs.kids {
		if c.isG2() && c.name.Local == "remoteContent" {
			types = append(types, "remoteContent")
		}
	}
	if len(types) == 0 {
		return "", errors.New("empty contentSet")
	}
	return "", fmt.Errorf("unsupported contentSet: %s (want inlineXML application/nitf+xml or application/xhtml+xml, or inlineData text/plain)",
		strings.Join(types, ", "))
}

// mediaType lower-cases a contenttype and drops its parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// inlineXMLText converts an inlineXML holding NITF or XHTML. ok is false
// for any other content. Without a contenttype the root element decides.
func inlineXMLText(c *xnode, ct string) (text string, ok bool) {
	var doc *xnode
	for _, k := range c.kids {
		if k.isElem() {
			doc = k
			break
		}
	}
	if doc == nil {
		return "", false
	}
	switch ct {
	case "application/nitf+xml", "text/vnd.iptc.nitf+xml", "text/vnd.iptc.nitf", "application/xhtml+xml", "text/html", "":
	default:
		return "", false
	}
	var body *xnode
	switch doc.name.Local {
	case "nitf":
		if b := doc.localChild("body"); b != nil {
			body = b.localChild("body.content")
			if body == nil {
				body = b
			}
		}
	case "html":
		body = doc.localChild("body")
	case "body.content", "body":
		body = doc
	default:
		return "", false
	}
	if body == nil {
		return "", true
	}
	return NormalizeText(body.blockText()), true
}

// inlineDataText converts an inlineData holding text/plain (taken as it is)
// or text/html. ok is false for any other content.
func inlineDataText(c *xnode, ct string) (text string, ok bool, err error) {
	raw := c.text()
	if enc := strings.ToLower(strings.TrimSpace(c.attr("", "encoding"))); enc != "" {
		if enc != "base64" {
			return "", false, fmt.Errorf("inlineData encoding %q is not base64", enc)
		}
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(raw), ""))
		if err != nil {
			return "", false, fmt.Errorf("inlineData: %v", err)
		}
		if !utf8.Valid(b) {
			return "", false, fmt.Errorf("inlineData: %w at byte %d", ErrInvalidUTF8, firstInvalidUTF8(b))
		}
		raw = string(b)
	}
	switch ct {
	case "text/plain", "":
		return NormalizeText(raw), true, nil
	case "text/html", "application/xhtml+xml":
		return NormalizeText(htmlToText(raw)), true, nil
	}
	return "", false, nil
}

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

// blockElements end a paragraph of body text.
var blockElements = map[string]bool{
	"p": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"li": true, "blockquote": true, "br": true, "div": true, "pre": true, "tr": true,
	"dt": true, "dd": true, "hl1": true, "hl2": true, "block": true, "ul": true, "ol": true,
	"table": true, "section": true, "article": true, "figure": true, "figcaption": true,
	"address": true, "hr": true, "caption": true, "nitf-table": true,
}

// structuralElements are elements after which, or first inside which, white
// space carries no meaning: the NewsML-G2 structure, block elements and
// elements whose content is skipped.
var structuralElements = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range []string{"newsMessage", "header", "itemSet", "newsItem", "packageItem", "conceptItem",
		"knowledgeItem", "planningItem", "catalogRef", "itemMeta", "itemClass", "provider", "versionCreated",
		"firstCreated", "pubStatus", "signal", "contentMeta", "subject", "located", "creator",
		"contributor", "language", "urgency", "genre", "contentSet", "inlineXML", "inlineData", "remoteContent",
		"groupSet", "group", "itemRef", "groupRef", "nitf", "body", "body.head", "body.content", "body.end", "html"} {
		m[name] = true
	}
	for name := range blockElements {
		m[name] = true
	}
	for name := range skippedElements {
		m[name] = true
	}
	return m
}()

// isXMLSpace reports whether b is only XML white space.
func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// skippedElements hold no story text.
var skippedElements = map[string]bool{
	"head": true, "script": true, "style": true, "title": true, "media": true,
	"media-reference": true, "media-metadata": true, "media-object": true,
	"img": true, "object": true, "iframe": true,
}

// blockText is the text under n with block elements as paragraphs
// (separated by a blank line), inline markup dropped and whitespace inside a
// paragraph collapsed; inside <pre> line breaks are kept.
func (n *xnode) blockText() string {
	var b strings.Builder
	n.blockTextTo(&b, false)
	return b.String()
}

func (n *xnode) blockTextTo(b *strings.Builder, pre bool) {
	for _, k := range n.kids {
		if !k.isElem() {
			if pre {
				b.WriteString(k.data)
			} else {
				writeCollapsed(b, k.data)
			}
			continue
		}
		name := k.name.Local
		if skippedElements[name] {
			continue
		}
		block := blockElements[name]
		switch {
		case block:
			b.WriteString("\n\n")
		case name == "td" || name == "th":
			b.WriteByte(' ')
		}
		k.blockTextTo(b, pre || name == "pre")
		switch {
		case block:
			b.WriteString("\n\n")
		case name == "td" || name == "th":
			b.WriteByte(' ')
		}
	}
}

// writeCollapsed writes s with every run of XML white space (and line
// breaks) as one space.
func writeCollapsed(b *strings.Builder, s string) {
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteByte(c)
		}
	}
	if space {
		b.WriteByte(' ')
	}
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
			if structuralElements[prev.name.Local] {
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
