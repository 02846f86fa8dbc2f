package ingest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/internal/text"
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
				brief(packages[0].attr("", "guid")), describeRefs(packages[0]))
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
				refs = append(refs, strconv.Quote(brief(r)))
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
			return nil, fmt.Errorf("%q: versionCreated: %v", brief(guid), err)
		}
		if s.FirstCreated, err = proto.ParseTime(meta.childText("firstCreated")); err != nil {
			return nil, fmt.Errorf("%q: firstCreated: %v", brief(guid), err)
		}
		if ps := meta.child("pubStatus"); ps != nil {
			if s.PubStatus, err = pubStatus(ps); err != nil {
				return nil, fmt.Errorf("%q: %v", brief(guid), err)
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
		return nil, fmt.Errorf("%q: %v", brief(guid), err)
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
	place, _ := text.SplitDate(d)
	return place
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
func inlineXMLText(c *xnode, ct string) (plain string, ok bool) {
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
func inlineDataText(c *xnode, ct string) (body string, ok bool, err error) {
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
		return NormalizeText(text.HTMLToText(raw)), true, nil
	}
	return "", false, nil
}

// blockText is the text under n by the toolkit's HTML-to-text rules (see
// text.Writer): block elements as paragraphs separated by a blank line,
// table cells kept apart, inline markup dropped, whitespace inside a
// paragraph collapsed (kept inside <pre>), skipped elements left out.
func (n *xnode) blockText() string {
	var w text.Writer
	n.writeText(&w)
	return w.String()
}

func (n *xnode) writeText(w *text.Writer) {
	for _, k := range n.kids {
		if !k.isElem() {
			w.Text(k.data)
			continue
		}
		if !w.Open(k.name.Local) {
			continue // skipped: script, style, media...
		}
		k.writeText(w)
		w.Close(k.name.Local)
	}
}
