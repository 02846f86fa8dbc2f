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

// DetectFormat guesses the format of one raw story from its first byte.
func DetectFormat(b []byte) string {
	b = bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(b) > 0 && b[0] == '{' {
		return FormatNinjs
	}
	if len(b) > 0 && b[0] == '<' {
		return FormatNewsML
	}
	return FormatText
}

// ParseAll turns one raw input into its stories: one for ninjs and text,
// one per text item for a NewsML-G2 document (a newsMessage may carry
// several). Errors are *Error wrapping one of the Err* reasons.
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

// Parse turns one raw story into a normalised Story. Errors are *Error
// wrapping one of the Err* reasons.
func (st *Stage) Parse(data []byte, format string) (*proto.Story, error) {
	if len(data) > st.cfg.MaxBytes {
		return nil, &Error{Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), st.cfg.MaxBytes)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{Err: fmt.Errorf("%w at byte %d", ErrInvalidUTF8, firstInvalidUTF8(data))}
	}
	if format == "" {
		format = DetectFormat(data)
	}
	var (
		s   *proto.Story
		err error
	)
	switch format {
	case FormatNinjs, "json", "jsonl":
		// Nesting first: the decoder recurses once per level.
		if err = proto.CheckJSONDepth(data, st.cfg.Limits.JSONDepth); err != nil {
			err = fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		} else {
			s, err = parseNinjs(data)
		}
	case FormatText:
		s = parseText(string(data))
	case FeedCursorJSON:
		err = cursorItemError(data)
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
		err = fmt.Errorf("%w %q", ErrUnknownFormat, format)
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
// Story's own). data must be valid UTF-8.
type ninjsIn struct {
	*proto.Story
	BodyText jsonText `json:"body_text"`
}

func parseNinjs(data []byte) (*proto.Story, error) {
	s := new(proto.Story)
	in := ninjsIn{Story: s}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
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
