package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wirestream/wirestream/proto"
)

// FormatNITF is the Ws-Format value of NITF 3.x input (News Industry Text
// Format, IPTC): one <nitf> document per story.
const FormatNITF = "nitf"

// ErrInvalidNITF is wrapped by every error of ParseNITF.
var ErrInvalidNITF = errors.New("ingest: invalid NITF")

// nsNITF is the namespace of the NITF 3.x XML Schema; documents written
// against the DTD have none. Both are read.
const nsNITF = "http://iptc.org/std/NITF/2006-10-18/"

// ParseNITF parses one NITF 3.x document (the DTD's element names, with or
// without the XML Schema namespace) into a story:
//
//	head/docdata/doc-id@id-string           uri
//	head/docdata/du-key@version             version
//	head/docdata/du-key@key                 slugline
//	head/docdata/date.issue@norm            versioncreated (ISO 8601, basic or extended)
//	head/docdata/date.release@norm          firstcreated when date.issue is missing
//	head/docdata/urgency@ed-urg             urgency (1 most urgent .. 8 least)
//	head/docdata@management-status          pubstatus (usable, withheld, canceled; embargoed is withheld)
//	head/docdata/ed-msg@info                ednote
//	head/tobject/tobject.subject            subject, when its refnum is a Media Topic (medtop:NNNNNNNN)
//	body/body.head/hedline/hl1              headline (else head/title)
//	body/body.head/byline                   byline (every byline, joined by "; ")
//	body/body.head/dateline/location        located (else the dateline less its story.date)
//	body/body.content                       body_text: <p>, <hl2>, <block>, lists and tables as paragraphs
//	nitf@xml:lang or body@xml:lang           language
//
// Errors wrap ErrInvalidNITF with a reason (malformed XML names the line).
func ParseNITF(data []byte) (*proto.Story, error) {
	root, err := parseXMLTree(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidNITF, err)
	}
	return nitfStory(root)
}

func nitfStory(root *xnode) (*proto.Story, error) {
	if root.name.Local != "nitf" {
		return nil, fmt.Errorf("%w: root element <%s> is not <nitf>", ErrInvalidNITF, root.name.Local)
	}
	if root.name.Space != "" && root.name.Space != nsNITF {
		return nil, fmt.Errorf("%w: root element <nitf> is in namespace %q, not NITF (%s)", ErrInvalidNITF, root.name.Space, nsNITF)
	}
	s := &proto.Story{Type: "text", Language: strings.TrimSpace(root.attr(nsXML, "lang"))}
	head := root.localChild("head")
	body := root.localChild("body")
	if body == nil {
		return nil, fmt.Errorf("%w: no <body>", ErrInvalidNITF)
	}
	if head != nil {
		if err := nitfHead(s, head); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidNITF, err)
		}
	}
	if l := strings.TrimSpace(body.attr(nsXML, "lang")); l != "" && s.Language == "" {
		s.Language = l
	}
	if bh := body.localChild("body.head"); bh != nil {
		if h := bh.localChild("hedline"); h != nil {
			if hl1 := h.localChild("hl1"); hl1 != nil {
				s.Headline = NormalizeLine(hl1.text())
			}
		}
		var bylines []string
		for _, k := range bh.kids {
			if k.name.Local == "byline" {
				if b := NormalizeLine(k.text()); b != "" {
					bylines = append(bylines, b)
				}
			}
		}
		s.Byline = strings.Join(bylines, "; ")
		if d := bh.localChild("dateline"); d != nil {
			if loc := d.localChild("location"); loc != nil {
				s.Located = NormalizeLine(loc.text())
			}
			if s.Located == "" {
				s.Located = datelinePlace(NormalizeLine(nitfDatelineText(d)))
			}
		}
	}
	if s.Headline == "" && head != nil {
		if t := head.localChild("title"); t != nil {
			s.Headline = NormalizeLine(t.text())
		}
	}
	if c := body.localChild("body.content"); c != nil {
		s.BodyText = NormalizeText(c.blockText())
	}
	if s.BodyText == "" && s.PubStatus != proto.PubStatusCanceled {
		return nil, fmt.Errorf("%w: <body.content> holds no text", ErrInvalidNITF)
	}
	return s, nil
}

// nitfDatelineText is a dateline's text without its story.date.
func nitfDatelineText(d *xnode) string {
	var b strings.Builder
	for _, k := range d.kids {
		if k.name.Local != "story.date" {
			b.WriteString(k.text())
		}
	}
	return strings.TrimRight(strings.TrimSpace(b.String()), ",")
}

func nitfHead(s *proto.Story, head *xnode) error {
	dd := head.localChild("docdata")
	if dd != nil {
		switch ms := strings.ToLower(strings.TrimSpace(dd.attr("", "management-status"))); ms {
		case "", "usable":
		case "withheld", "embargoed":
			s.PubStatus = proto.PubStatusWithheld
		case "canceled", "cancelled":
			s.PubStatus = proto.PubStatusCanceled
		default:
			return fmt.Errorf("docdata management-status %q is not usable, embargoed, withheld or canceled", brief(ms))
		}
		for _, k := range dd.kids {
			switch k.name.Local {
			case "doc-id":
				if s.URI == "" {
					s.URI = strings.TrimSpace(k.attr("", "id-string"))
				}
			case "du-key":
				s.Slugline = NormalizeLine(k.attr("", "key"))
				s.Version = strings.TrimSpace(k.attr("", "version"))
			case "date.issue", "date.release":
				t, err := parseNITFDate(k.attr("", "norm"))
				if err != nil {
					return fmt.Errorf("%s norm: %v", k.name.Local, err)
				}
				if k.name.Local == "date.issue" {
					s.VersionCreated = t
				} else {
					s.FirstCreated = t
				}
			case "urgency":
				v := strings.TrimSpace(k.attr("", "ed-urg"))
				u, err := strconv.Atoi(v)
				if err != nil || u < 1 || u > 9 {
					return fmt.Errorf("urgency ed-urg %q is not 1 to 9", brief(v))
				}
				s.Urgency = int32(u)
			case "ed-msg":
				if n := NormalizeText(k.attr("", "info")); n != "" {
					s.EdNote = n
				}
			}
		}
		// date.release is when the document may be published: the
		// creation time only when no issue time came.
		if s.VersionCreated == 0 {
			s.VersionCreated = s.FirstCreated
		}
		if s.FirstCreated != 0 && s.FirstCreated > s.VersionCreated {
			s.FirstCreated = 0
		}
	}
	seen := make(map[string]bool)
	for _, k := range head.kids {
		if k.name.Local != "tobject" {
			continue
		}
		for _, sub := range k.kids {
			if sub.name.Local != "tobject.subject" {
				continue
			}
			ref := strings.TrimSpace(sub.attr("", "tobject.subject.refnum"))
			code := strings.TrimPrefix(ref, "medtop:")
			if len(code) != 8 || strings.Trim(code, "0123456789") != "" || !strings.HasPrefix(ref, "medtop:") {
				continue // IPTC Subject Codes (8 digits, no prefix) are not Media Topics
			}
			if seen[ref] {
				continue
			}
			seen[ref] = true
			name := NormalizeLine(sub.attr("", "tobject.subject.matter"))
			if name == "" {
				name = NormalizeLine(sub.attr("", "tobject.subject.type"))
			}
			s.Subject = append(s.Subject, &proto.Subject{Scheme: proto.SchemeMedTop, Code: ref, Name: name})
		}
	}
	return nil
}

// nitfDateLayouts are the ISO 8601 forms of NITF norm attributes: the
// basic form the DTD's examples use (20261127T091500Z, with an offset
// +0100, or no zone: UTC), then the extended forms proto.ParseTime reads.
var nitfDateLayouts = []string{
	"20060102T150405Z0700",
	"20060102T150405Z07:00",
	"20060102T150405",
	"20060102T1504Z0700",
	"20060102",
}

func parseNITFDate(v string) (proto.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	for _, l := range nitfDateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return proto.FromTime(t), nil
		}
	}
	t, err := proto.ParseTime(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not an ISO 8601 date-time", brief(v))
	}
	return t, nil
}

// xmlRoot returns the local name of the root element of an XML document,
// skipping the prolog (declaration, comments, processing instructions, a
// DOCTYPE with its internal subset); "" when none is found in b.
func xmlRoot(b []byte) string {
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
		if i+1 >= len(b) || b[i] != '<' {
			return ""
		}
		rest := b[i:]
		switch {
		case len(rest) >= 4 && string(rest[:4]) == "<!--":
			j := bytes.Index(rest[4:], []byte("-->"))
			if j < 0 {
				return ""
			}
			i += 4 + j + 3
		case rest[1] == '?':
			j := bytes.Index(rest[2:], []byte("?>"))
			if j < 0 {
				return ""
			}
			i += 2 + j + 2
		case rest[1] == '!':
			// <!DOCTYPE ...> with an optional [internal subset].
			depth, j := 0, 2
			for ; j < len(rest); j++ {
				if rest[j] == '[' {
					depth++
				} else if rest[j] == ']' {
					depth--
				} else if rest[j] == '>' && depth <= 0 {
					break
				}
			}
			if j >= len(rest) {
				return ""
			}
			i += j + 1
		default:
			j := 1
			for j < len(rest) && rest[j] != ' ' && rest[j] != '>' && rest[j] != '/' && rest[j] != '\t' && rest[j] != '\n' && rest[j] != '\r' {
				j++
			}
			name := string(rest[1:j])
			if k := strings.IndexByte(name, ':'); k >= 0 {
				name = name[k+1:]
			}
			return name
		}
	}
	return ""
}

// xmlFormat tells NITF from NewsML-G2 by the root element: <nitf> is NITF,
// anything else NewsML-G2 (whose parser names a wrong root).
func xmlFormat(b []byte) string {
	if xmlRoot(b) == "nitf" {
		return FormatNITF
	}
	return FormatNewsML
}
