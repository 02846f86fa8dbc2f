package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/internal/text"
)

// Raw input formats (the Ws-Format header).
const (
	FormatNinjs = "ninjs" // one ninjs JSON object
	FormatText  = "text"  // AP-style plain text
)

// URIPrefix starts the content-derived uri given to stories without one.
const URIPrefix = "urn:wirestream:sha256:"

// DetectFormat guesses the format of one raw story from its opening: a
// JSON object is ninjs (any generation: parseNinjs tells them apart), an
// XML document NITF when its root is <nitf> and NewsML-G2 otherwise, SOH
// or ZCZC an IPTC 7901 or ANPA 1312 message (by its priority: a digit is
// 7901), anything else plain text.
func DetectFormat(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(b) == 0 {
		return FormatText
	}
	switch b[0] {
	case '{':
		return FormatNinjs
	case '<':
		return xmlFormat(b)
	case soh:
		return wireFormat(b)
	case 'Z':
		if bytes.HasPrefix(b, []byte("ZCZC")) {
			return wireFormat(b)
		}
	}
	return FormatText
}

// wireFormat tells IPTC 7901 from ANPA by the first header's priority.
func wireFormat(b []byte) string { return wireHeadFormat(b) }

// isWire reports a Ws-Format of the wire transmission formats.
func isWire(format string) bool { return format == FormatANPA || format == FormatIPTC7901 }

// ParseAll turns one raw input into its stories: one for ninjs, NITF,
// IPTC 7901/ANPA and text, one per text item for a NewsML-G2 document (a
// newsMessage may carry several). Errors are *Error wrapping one of the
// Err* reasons.
func (st *Stage) ParseAll(data []byte, format string) ([]*proto.Story, error) {
	if format == "" {
		format = DetectFormat(data)
	}
	if format != FormatNewsML {
		s, err := st.Parse(data, format)
		if err != nil {
			return nil, err
		}
		return []*proto.Story{s}, nil
	}
	if len(data) > st.cfg.MaxBytes {
		return nil, &Error{Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), st.cfg.MaxBytes)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{Err: fmt.Errorf("%w at byte %d", ErrInvalidUTF8, firstInvalidUTF8(data))}
	}
	stories, err := ParseNewsML(data)
	if err != nil {
		return nil, &Error{Err: err}
	}
	for _, s := range stories {
		if err := st.finish(s); err != nil {
			return nil, &Error{Err: fmt.Errorf("item %s: %w", brief(s.URI), err)}
		}
	}
	return stories, nil
}

// Formats are the Ws-Format values Parse and ParseAll accept ("" detects).
var Formats = []string{FormatNinjs, FormatNinjs2, FormatNinjs3, FormatNewsML, FormatNITF, FormatANPA, FormatIPTC7901, FormatText}

// KnownFormat reports whether f is a format Parse accepts ("" included: detect).
func KnownFormat(f string) bool {
	switch f {
	case "", "json", "jsonl":
		return true
	}
	for _, k := range Formats {
		if f == k {
			return true
		}
	}
	return false
}

// Parse turns one raw story into a normalised Story. Errors are *Error
// wrapping one of the Err* reasons.
func (st *Stage) Parse(data []byte, format string) (*proto.Story, error) {
	if len(data) > st.cfg.MaxBytes {
		return nil, &Error{Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), st.cfg.MaxBytes)}
	}
	if format == "" {
		format = DetectFormat(data)
	}
	if !utf8.Valid(data) {
		if !isWire(format) {
			return nil, &Error{Err: fmt.Errorf("%w at byte %d", ErrInvalidUTF8, firstInvalidUTF8(data))}
		}
		// 8-bit wire copy predates UTF-8: it is ISO 8859-1.
		data = latin1ToUTF8(data)
	}
	var (
		s   *proto.Story
		err error
	)
	switch format {
	case FormatNinjs, FormatNinjs2, FormatNinjs3, "json", "jsonl":
		// Nesting first: the decoder recurses once per level.
		if err = proto.CheckJSONDepth(data, st.cfg.Limits.JSONDepth); err != nil {
			err = fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		} else {
			switch format {
			case FormatNinjs2:
				s, err = parseNinjs23(data, 2)
			case FormatNinjs3:
				s, err = parseNinjs23(data, 3)
			default:
				s, err = parseNinjs(data)
			}
		}
	case FormatText:
		s = parseText(string(data))
	case FeedCursorJSON:
		err = cursorItemError(data)
	case FormatNITF:
		s, err = ParseNITF(data)
	case FormatANPA, FormatIPTC7901:
		s, _, err = ParseWire(data)
	case FormatNewsML:
		var all []*proto.Story
		if all, err = ParseNewsML(data); err == nil {
			if len(all) != 1 {
				err = fmt.Errorf("%w: %d items; use ParseAll", ErrInvalidNewsML, len(all))
			} else {
				s = all[0]
			}
		}
	default:
		err = fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, brief(format), strings.Join(Formats, ", "))
	}
	if err != nil {
		return nil, &Error{Err: err}
	}
	if err := st.finish(s); err != nil {
		return nil, &Error{Err: err}
	}
	return s, nil
}

// ninjsExtra holds the ninjs fields wirestream reads but does not carry.
type ninjsExtra struct {
	BodyHTML string `json:"body_html"`
}

// ninjsIn decodes a ninjs document into a Story, with body_text through
// jsonText (the depth rule of JSON field names lets this field shadow the
// Story's own), and the markers of ninjs 2.x and 3.x. data must be valid
// UTF-8.
type ninjsIn struct {
	*proto.Story
	*ninjsMarkers          // allocated by the decoder only when a marker is present
	BodyText      jsonText `json:"body_text"`
}

// parseNinjs reads ninjs 1.x, or 2.x and 3.x when the document says so
// (its standard object) or has their shape (headlines, bodies).
func parseNinjs(data []byte) (*proto.Story, error) {
	s := new(proto.Story)
	in := ninjsIn{Story: s}
	if err := json.Unmarshal(data, &in); err != nil {
		// A 2.x or 3.x field of the wrong type can fail the 1.x decoder
		// first: the 2.x/3.x decoder gives the reason in its terms.
		if g := sniffNinjs23(data); g > 1 {
			return parseNinjs23(data, g)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if in.ninjsMarkers != nil {
		if g := in.generation(); g > 1 {
			return parseNinjs23(data, g)
		}
	}
	s.BodyText = string(in.BodyText)
	if strings.TrimSpace(s.BodyText) == "" {
		var x ninjsExtra
		if json.Unmarshal(data, &x) == nil && x.BodyHTML != "" {
			s.BodyText = text.HTMLToText(x.BodyHTML)
		}
	}
	return s, nil
}

// sniffNinjs23 guesses the generation of a document the 1.x decoder
// refused: 3 with a camelCase 3.x name, 2 with a 2.x/3.x-only field.
func sniffNinjs23(data []byte) int {
	for _, k := range []string{`"versionCreated"`, `"firstCreated"`, `"pubStatus"`, `"edNote"`, `"contentCreated"`} {
		if bytes.Contains(data, []byte(k)) {
			return 3
		}
	}
	for _, k := range []string{`"headlines"`, `"bodies"`, `"standard"`, `"$standard"`, `"subjects"`, `"places"`} {
		if bytes.Contains(data, []byte(k)) {
			return 2
		}
	}
	return 1
}

// parseText reads AP-style plain text: an optional "date YYYY-MM-DD" opening,
// an optional headline line, an optional "By ..." byline, then the body,
// whose first paragraph may open with a dateline.
func parseText(raw string) *proto.Story {
	body := NormalizeText(raw)
	s := &proto.Story{Type: "text"}
	if rest, t, ok := cutDateLine(body); ok {
		s.VersionCreated, s.FirstCreated = t, t
		body = rest
	}
	// A headline is a short first paragraph of one line that is not itself
	// the dateline paragraph.
	if para, rest, ok := strings.Cut(body, "\n\n"); ok && rest != "" && isHeadlineLike(para) {
		s.Headline = para
		body = rest
	}
	if para, rest, ok := strings.Cut(body, "\n\n"); ok && rest != "" && isBylineLike(para) {
		s.Byline = para
		body = rest
	}
	s.BodyText = body
	return s
}

// cutDateLine removes an opening "date YYYY-MM-DD" and returns the date.
func cutDateLine(text string) (rest string, t proto.Time, ok bool) {
	const word = "date "
	if len(text) < len(word)+10 || !strings.EqualFold(text[:len(word)], word) {
		return text, 0, false
	}
	v, err := proto.ParseTime(text[len(word) : len(word)+10])
	if err != nil {
		return text, 0, false
	}
	return strings.TrimLeft(text[len(word)+10:], " \n"), v, true
}

func isHeadlineLike(p string) bool {
	if len(p) > 200 || strings.IndexByte(p, '\n') >= 0 {
		return false
	}
	if _, ok := text.ParseDateline(p); ok {
		return false
	}
	return !strings.HasSuffix(p, ".") || strings.Count(p, ". ") == 0 && len(p) < 120
}

func isBylineLike(p string) bool {
	return len(p) < 100 && strings.IndexByte(p, '\n') < 0 && (strings.HasPrefix(p, "By ") || strings.HasPrefix(p, "BY "))
}

// finish normalises a parsed story and fills what ingest owns: the dateline
// (always recomputed from the body) and located from it when the provider
// sent none, a derived headline, a content uri, defaults, dedupe "new".
func (st *Stage) finish(s *proto.Story) error {
	s.URI = strings.TrimSpace(s.URI)
	s.Version = strings.TrimSpace(s.Version)
	if err := st.cfg.Limits.CheckURI(s.URI); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStory, err)
	}
	if err := st.cfg.Limits.CheckVersion(s.Version); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStory, err)
	}
	s.Headline = NormalizeLine(s.Headline)
	s.Slugline = NormalizeLine(s.Slugline)
	s.Byline = NormalizeLine(s.Byline)
	s.Located = NormalizeLine(s.Located)
	s.EdNote = NormalizeText(s.EdNote)
	s.BodyText = NormalizeText(s.BodyText)
	s.PubStatus = strings.ToLower(strings.TrimSpace(s.PubStatus))
	if s.PubStatus == "" {
		s.PubStatus = proto.PubStatusUsable
	}
	if s.Type == "" {
		s.Type = "text"
	}
	if s.BodyText == "" && s.PubStatus != proto.PubStatusCanceled {
		return ErrEmptyBody
	}
	text.Locate(s)
	if s.Headline == "" {
		s.Headline = deriveHeadline(s.BodyText)
	}
	if s.URI == "" {
		s.URI = ContentURI(s)
	}
	// Whatever a provider said about dedupe is not ours to trust.
	s.Dedupe = &proto.Dedupe{Status: proto.DedupeNew}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStory, err)
	}
	return nil
}

// ContentURI is the stable uri of a story that came without one: a hash of
// its normalised headline and body, so a resend of the same text gets the
// same uri.
func ContentURI(s *proto.Story) string {
	h := sha256.New()
	h.Write([]byte(s.Headline))
	h.Write([]byte{0})
	h.Write([]byte(s.BodyText))
	var sum [sha256.Size]byte
	return URIPrefix + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// deriveHeadline takes the first sentence after the dateline, cut on a word
// boundary to at most 150 bytes.
func deriveHeadline(body string) string {
	if d, ok := text.ParseDateline(body); ok {
		body = body[d.BodyStart:]
	}
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[:i]
	}
	for _, end := range []string{". ", "? ", "! "} {
		if i := strings.Index(body, end); i > 0 && i < 150 {
			body = body[:i+1]
		}
	}
	if len(body) > 150 {
		cut := strings.LastIndexByte(body[:150], ' ')
		if cut < 40 {
			cut = 150
			for !utf8.RuneStart(body[cut]) {
				cut--
			}
		}
		body = strings.TrimRight(body[:cut], " ,;:") + "…"
	}
	return strings.TrimSpace(body)
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
