package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// Ws-Format values of the transmission formats of the teleprinter and
// satellite wires, still used in agency archives: IPTC 7901 and ANPA 1312
// (its North American ancestor). Both are read by one parser; Parse and
// ParseAll accept either name for either.
const (
	FormatANPA     = "anpa"
	FormatIPTC7901 = "iptc7901"
)

// ErrInvalidWire is wrapped by every error of ParseWire.
var ErrInvalidWire = errors.New("ingest: invalid IPTC 7901/ANPA message")

// Transmission control characters (ISO 646 / ASCII C0).
const (
	soh = 0x01 // start of heading
	stx = 0x02 // start of text
	etx = 0x03 // end of text
	eot = 0x04 // end of transmission
	syn = 0x16 // synchronous idle: line filler
	del = 0x7f // delete: tape filler
)

// maxWireTrailer bounds what may follow ETX (or NNNN) in a message: the
// transmission trailer (a time stamp line, EOT, fillers).
const maxWireTrailer = 128

// WireHeader is the header line of an IPTC 7901 or ANPA 1312 message:
//
//	ANPA 1312:  a0123 r i BC-Storm-Lead 11-27 0450
//	IPTC 7901:  XYZ0042 3 POL 0312 ELECTION-COUNT
//
// (selector and message number, priority, category, then in any order a
// word count, a filing date MM-DD and the keyword or slug).
type WireHeader struct {
	Selector string // service level / source and message number: "a0123", "XYZ0042"
	Priority string // one character: ANPA letter (f b u r d ...) or IPTC digit (1-8)
	Category string // ANPA one letter, IPTC up to three letters
	Keyword  string // the slug: "BC-Storm-Lead", "ELECTION-COUNT"
	Date     string // filing date as sent, "11-27"; "" when none
	Words    int    // word count as sent; 0 when none
}

// Urgency maps the priority to ninjs urgency (1 most urgent .. 9 least;
// 0: none):
//
//	ANPA 1312 letter  f flash 1, b bulletin 2, u urgent 3, r regular 5,
//	                  d deferred 6, any other letter 0
//	IPTC 7901 digit   1-9 taken as is (7901 and IPTC urgency both run
//	                  from 1, most urgent), 0 none
func (h WireHeader) Urgency() int32 {
	if len(h.Priority) != 1 {
		return 0
	}
	c := h.Priority[0]
	switch {
	case c >= '0' && c <= '9':
		return int32(c - '0')
	}
	switch c | 0x20 {
	case 'f':
		return 1
	case 'b':
		return 2
	case 'u':
		return 3
	case 'r':
		return 5
	case 'd':
		return 6
	}
	return 0
}

// Format is FormatIPTC7901 for a numeric priority, FormatANPA otherwise.
func (h WireHeader) Format() string {
	if len(h.Priority) == 1 && h.Priority[0] >= '0' && h.Priority[0] <= '9' {
		return FormatIPTC7901
	}
	return FormatANPA
}

// IsWireFramed reports whether b opens (after blank space) like an IPTC
// 7901 or ANPA message: SOH, or the teleprinter start "ZCZC".
func IsWireFramed(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == soh || bytes.HasPrefix(b, []byte("ZCZC"))
}

// ParseWire parses one IPTC 7901 or ANPA 1312 message:
//
//	SOH header CR LF STX text ETX [trailer] [EOT]
//	ZCZC header LF text NNNN          (the teleprinter variant; STX/ETX may also appear)
//
// The header gives urgency (WireHeader.Urgency) and slugline (the keyword).
// The text is read as teleprinter copy: lines are joined into paragraphs,
// a blank line or an indented line starts a new paragraph; a line opening
// with '^' (ANPA's typesetting mark) stands alone and loses a closing '<'
// or '='; " _ ", the dash of 7-bit copy, becomes " — ". Before the story text, stand-alone lines give the slug line
// (dropped: it repeats the keyword), "Eds:" notes (ednote), the headline
// and the byline ("By ...", and the '^' lines after it: "By Jane Doe,
// Example Wire Writer"); copy without '^' marks takes headline and byline by
// the plain-text rules. The message carries no uri: the story gets the
// content uri. Errors wrap ErrInvalidWire: no SOH or ZCZC, no STX, a
// truncated message (no ETX or NNNN), control characters other than tab,
// CR, LF, FF and fillers (SYN, DEL) in the header or text, an empty header.
func ParseWire(data []byte) (*proto.Story, WireHeader, error) {
	hdr, txt, err := frameWire(data)
	if err != nil {
		return nil, WireHeader{}, fmt.Errorf("%w: %v", ErrInvalidWire, err)
	}
	h, err := parseWireHeader(hdr)
	if err != nil {
		return nil, h, fmt.Errorf("%w: header %q: %v", ErrInvalidWire, brief(string(hdr)), err)
	}
	s := wireText(string(txt), h)
	s.Urgency = h.Urgency()
	s.Slugline = NormalizeLine(h.Keyword)
	if s.BodyText == "" {
		return nil, h, fmt.Errorf("%w: message %s holds no text", ErrInvalidWire, brief(h.Selector))
	}
	return s, h, nil
}

// frameWire cuts a message into its header and its text.
func frameWire(b []byte) (hdr, txt []byte, err error) {
	start := len(b) - len(bytes.TrimLeft(b, " \t\r\n"))
	b = b[start:]
	var zczc bool
	switch {
	case len(b) > 0 && b[0] == soh:
		b = b[1:]
	case bytes.HasPrefix(b, []byte("ZCZC")):
		zczc = true
		b = b[4:]
		start += 3
	default:
		return nil, nil, errors.New("does not start with SOH (0x01) or ZCZC")
	}
	off := start + 1 // offset of b[0] in the input, for reasons
	if i := bytes.IndexByte(b, stx); i >= 0 {
		hdr, b, off = b[:i], b[i+1:], off+i+1
	} else if !zczc {
		return nil, nil, errors.New("no STX (0x02) after the header")
	} else {
		// ZCZC: the header is the rest of the ZCZC line, or the next line
		// when that is empty.
		nl := bytes.IndexByte(b, '\n')
		if nl >= 0 && len(bytes.TrimSpace(b[:nl])) == 0 {
			b, off = b[nl+1:], off+nl+1
			nl = bytes.IndexByte(b, '\n')
		}
		if nl < 0 {
			return nil, nil, errors.New("no line break after the ZCZC header: the message is truncated")
		}
		hdr, b, off = b[:nl], b[nl+1:], off+nl+1
	}
	if i := bytes.IndexAny(hdr, "\x01\x03\x04"); i >= 0 {
		return nil, nil, fmt.Errorf("control character 0x%02x in the header", hdr[i])
	}
	end := -1
	for i, c := range b {
		if c == etx {
			end = i
			break
		}
		if zczc && c == 'N' && bytes.HasPrefix(b[i:], []byte("NNNN")) && (i == 0 || b[i-1] == '\n' || b[i-1] == '\r') {
			end = i
			break
		}
		switch {
		case c == soh:
			return nil, nil, fmt.Errorf("SOH at byte %d inside the text: a second message begins before ETX (truncated message?)", off+i)
		case c == stx:
			return nil, nil, fmt.Errorf("second STX at byte %d", off+i)
		case c == eot:
			return nil, nil, fmt.Errorf("EOT at byte %d before ETX: the message is truncated", off+i)
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != syn:
			return nil, nil, fmt.Errorf("control character 0x%02x at byte %d in the text", c, off+i)
		}
	}
	if end < 0 {
		if zczc {
			return nil, nil, errors.New("no ETX (0x03) or NNNN: the message is truncated")
		}
		return nil, nil, errors.New("no ETX (0x03): the message is truncated")
	}
	txt, b = b[:end], b[end+1:]
	if zczc && bytes.HasPrefix(b, []byte("NNN")) {
		b = b[3:]
	}
	if t := bytes.Trim(b, " \t\r\n\x04\x16\x7fN"); len(t) > maxWireTrailer {
		return nil, nil, fmt.Errorf("%d bytes after the end of text (a second message without SOH?)", len(t))
	} else if i := bytes.IndexAny(t, "\x01\x02\x03"); i >= 0 {
		return nil, nil, fmt.Errorf("control character 0x%02x after the end of text", t[i])
	}
	return hdr, txt, nil
}

// parseWireHeader reads the header line's fields.
func parseWireHeader(hdr []byte) (WireHeader, error) {
	var h WireHeader
	for _, c := range hdr {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != syn || c == del {
			return h, fmt.Errorf("control character 0x%02x", c)
		}
	}
	if !utf8.Valid(hdr) {
		return h, errors.New("not text")
	}
	f := strings.Fields(string(hdr))
	if len(f) == 0 {
		return h, errors.New("empty header line")
	}
	h.Selector = f[0]
	if len(f) < 2 || utf8.RuneCountInString(f[1]) != 1 || !isAlnum(f[1][0]) {
		return h, errors.New("no priority (one letter or digit after the selector)")
	}
	h.Priority = f[1]
	if len(f) < 3 || len(f[2]) > 3 || !isLetters(f[2]) {
		return h, errors.New("no category (one to three letters after the priority)")
	}
	h.Category = f[2]
	var kw []string
	for _, t := range f[3:] {
		switch {
		case h.Words == 0 && len(t) <= 5 && isDigits(t):
			h.Words, _ = strconv.Atoi(t)
		case h.Date == "" && len(t) == 5 && t[2] == '-' && isDigits(t[:2]) && isDigits(t[3:]):
			h.Date = t
		default:
			// ANPA slugs may carry the word count: "BC-Storm-Lead,0456".
			if i := strings.LastIndexByte(t, ','); i > 0 && h.Words == 0 && isDigits(t[i+1:]) && len(t)-i-1 <= 5 {
				h.Words, _ = strconv.Atoi(t[i+1:])
				t = t[:i]
			}
			kw = append(kw, t)
		}
	}
	h.Keyword = strings.Join(kw, " ")
	return h, nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// wirePara is a paragraph of teleprinter copy; marked: a '^' line.
type wirePara struct {
	text   string
	marked bool
}

// wireParagraphs joins teleprinter lines into paragraphs.
func wireParagraphs(txt string) []wirePara {
	var (
		out []wirePara
		cur strings.Builder
	)
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, wirePara{text: cur.String()})
			cur.Reset()
		}
	}
	txt = strings.ReplaceAll(strings.ReplaceAll(txt, "\r\n", "\n"), "\r", "\n")
	// 7-bit copy writes the dash of a dateline as an underscore.
	txt = strings.ReplaceAll(txt, " _ ", " — ")
	for _, line := range strings.Split(txt, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case t[0] == '^':
			flush()
			t = strings.TrimSpace(strings.TrimRight(t[1:], "<="))
			if t != "" {
				out = append(out, wirePara{text: t, marked: true})
			}
		default:
			if line[0] == ' ' || line[0] == '\t' {
				flush() // an indented line opens a paragraph
			}
			if cur.Len() > 0 {
				cur.WriteByte(' ')
			}
			cur.WriteString(t)
		}
	}
	flush()
	return out
}

// wireText maps a message's text to headline, byline, ednote and body.
func wireText(txt string, h WireHeader) *proto.Story {
	paras := wireParagraphs(txt)
	s := &proto.Story{Type: "text"}
	i := 0
	marked := false
lead:
	for ; i < len(paras) && paras[i].marked; i++ {
		marked = true
		p := paras[i].text
		switch {
		case i == 0 && h.Keyword != "" && strings.HasPrefix(strings.ToLower(p), strings.ToLower(strings.Fields(h.Keyword)[0])):
			// the slug line repeats the header's keyword
		case len(p) > 4 && strings.EqualFold(p[:4], "eds:"):
			if s.EdNote != "" {
				s.EdNote += "\n\n"
			}
			s.EdNote += strings.TrimSpace(p[4:])
		case s.Byline == "" && isBylineLike(p):
			s.Byline = p
			for i+1 < len(paras) && paras[i+1].marked {
				i++
				s.Byline += ", " + paras[i].text
			}
		case s.Headline == "" && s.Byline == "":
			s.Headline = p
		default:
			// another stand-alone line before the story: it is text
			break lead
		}
	}
	var b strings.Builder
	for j := i; j < len(paras); j++ {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(paras[j].text)
	}
	if marked {
		s.BodyText = b.String()
		return s
	}
	// Copy without marks: the plain-text rules find headline and byline.
	t := parseText(b.String())
	s.Headline, s.Byline, s.BodyText = t.Headline, t.Byline, t.BodyText
	return s
}

// latin1ToUTF8 reads 8-bit wire copy that is not UTF-8 as ISO 8859-1.
func latin1ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}
