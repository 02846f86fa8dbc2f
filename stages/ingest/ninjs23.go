package ingest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/internal/text"
)

// Ws-Format values that force a ninjs generation; FormatNinjs reads all
// three, telling them apart by the standard object or by shape.
const (
	FormatNinjs2 = "ninjs2" // ninjs 2.x: headlines, bodies, subjects, places, by
	FormatNinjs3 = "ninjs3" // ninjs 3.x: the 2.x structure with camelCase names
)

// ErrInvalidNinjs is wrapped when a ninjs 2.x or 3.x document is valid JSON
// but not valid ninjs (a field of the wrong type, an unknown standard).
var ErrInvalidNinjs = errors.New("ingest: invalid ninjs")

// ninjsStandard is the standard object of ninjs 2.x and 3.x
// ({"name": "ninjs", "version": "2.1", "schema": "..."}).
type ninjsStandard struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ninjsMarkers are the fields of a ninjs document that tell its
// generation, decoded along with the 1.x fields at no cost when absent.
type ninjsMarkers struct {
	Standard       *ninjsStandard  `json:"standard"`
	DollarStandard *ninjsStandard  `json:"$standard"`
	Headlines      json.RawMessage `json:"headlines"`
	Bodies         json.RawMessage `json:"bodies"`
}

// generation is 2 or 3 when the markers say so, else 1.
func (m *ninjsMarkers) generation() int {
	for _, st := range []*ninjsStandard{m.Standard, m.DollarStandard} {
		if st != nil {
			switch v := strings.TrimSpace(st.Version); {
			case strings.HasPrefix(v, "2"):
				return 2
			case strings.HasPrefix(v, "3"):
				return 3
			}
		}
	}
	if len(m.Headlines) > 0 || len(m.Bodies) > 0 {
		return 2 // 2.x or 3.x: one decoder reads both
	}
	return 1
}

// ninjs23 is a ninjs 2.x or 3.x document. JSON field names match without
// regard to case, so the 2.x names (versioncreated, pubstatus, ednote)
// also read 3.x's camelCase (versionCreated, pubStatus, edNote).
type ninjs23 struct {
	Standard       *ninjsStandard `json:"standard"`
	DollarStandard *ninjsStandard `json:"$standard"`
	URI            string         `json:"uri"`
	Type           string         `json:"type"`
	Version        string         `json:"version"`
	VersionCreated proto.Time     `json:"versioncreated"`
	FirstCreated   proto.Time     `json:"firstcreated"`
	PubStatus      string         `json:"pubstatus"`
	Urgency        int32          `json:"urgency"`
	Language       string         `json:"language"`
	Slugline       string         `json:"slugline"`
	By             string         `json:"by"`
	Located        string         `json:"located"`
	EdNote         string         `json:"ednote"`
	Headlines      []ninjsText    `json:"headlines"`
	Bodies         []ninjsText    `json:"bodies"`
	Subjects       []ninjsConcept `json:"subjects"`
	Places         []ninjsConcept `json:"places"`
}

// ninjsText is an element of headlines or bodies.
type ninjsText struct {
	Role        string `json:"role"`
	ContentType string `json:"contenttype"`
	Value       string `json:"value"`
}

// ninjsConcept is a subject or a place: 2.x and 3.x name it by uri (or
// literal); the 1.x scheme and code are read too.
type ninjsConcept struct {
	Name      string `json:"name"`
	Rel       string `json:"rel"`
	URI       string `json:"uri"`
	Literal   string `json:"literal"`
	Scheme    string `json:"scheme"`
	Code      string `json:"code"`
	Relevance int32  `json:"relevance"`
}

// parseNinjs23 decodes a ninjs 2.x or 3.x document (gen: 2 or 3, for the
// reason of a rejection). data must be valid UTF-8 within the depth limit.
func parseNinjs23(data []byte, gen int) (*proto.Story, error) {
	var in ninjs23
	if err := json.Unmarshal(data, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w %d.x: %v", ErrInvalidNinjs, gen, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	for _, st := range []*ninjsStandard{in.Standard, in.DollarStandard} {
		if st != nil && st.Name != "" && !strings.EqualFold(strings.TrimSpace(st.Name), "ninjs") {
			return nil, fmt.Errorf("%w: standard name %q is not ninjs", ErrInvalidNinjs, brief(st.Name))
		}
	}
	if in.Urgency < 0 || in.Urgency > 9 {
		return nil, fmt.Errorf("%w %d.x: urgency %d is not 0 to 9", ErrInvalidNinjs, gen, in.Urgency)
	}
	s := &proto.Story{
		URI: in.URI, Type: in.Type, Version: in.Version, VersionCreated: in.VersionCreated,
		FirstCreated: in.FirstCreated, PubStatus: in.PubStatus, Urgency: in.Urgency, Language: in.Language,
		Slugline: in.Slugline, Byline: in.By, Located: in.Located, EdNote: in.EdNote,
	}
	if h := pickText(in.Headlines, false); h != nil {
		s.Headline = h.Value
	}
	if b := pickText(in.Bodies, true); b != nil {
		if isHTML(b.ContentType) {
			s.BodyText = text.HTMLToText(b.Value)
		} else {
			s.BodyText = b.Value
		}
	}
	seen := make(map[string]bool)
	for _, c := range in.Subjects {
		code := c.medtop()
		if code == "" || seen[code] {
			continue
		}
		seen[code] = true
		if c.Relevance < 0 || c.Relevance > 100 {
			return nil, fmt.Errorf("%w %d.x: subject %s relevance %d outside 0-100", ErrInvalidNinjs, gen, code, c.Relevance)
		}
		s.Subject = append(s.Subject, &proto.Subject{Scheme: proto.SchemeMedTop, Code: code, Name: NormalizeLine(c.Name), Relevance: c.Relevance})
	}
	for _, c := range in.Places {
		if c.Relevance < 0 || c.Relevance > 100 {
			return nil, fmt.Errorf("%w %d.x: place %q relevance %d outside 0-100", ErrInvalidNinjs, gen, brief(c.Name), c.Relevance)
		}
		p := &proto.Place{Name: NormalizeLine(c.Name), Rel: c.Rel, Relevance: c.Relevance}
		if c.Scheme == proto.SchemeCountry || c.Scheme == proto.SchemeM49 {
			p.Scheme, p.Code = c.Scheme, c.Code
		}
		if p.Name == "" && p.Code == "" {
			continue
		}
		s.Place = append(s.Place, p)
	}
	return s, nil
}

// pickText chooses the main element of headlines or bodies: role "main"
// (or none) first; for bodies, plain text before HTML, and nothing else.
func pickText(ts []ninjsText, body bool) *ninjsText {
	var best *ninjsText
	score := -1
	for i := range ts {
		t := &ts[i]
		if strings.TrimSpace(t.Value) == "" {
			continue
		}
		sc := 0
		if t.Role == "" || strings.EqualFold(t.Role, "main") {
			sc += 2
		}
		if body {
			ct := mediaType(t.ContentType)
			switch {
			case ct == "" || ct == "text/plain":
				sc++
			case isHTML(ct):
			default:
				continue
			}
		}
		if sc > score {
			best, score = t, sc
		}
	}
	return best
}

func isHTML(ct string) bool {
	ct = mediaType(ct)
	return ct == "text/html" || ct == "application/xhtml+xml"
}

// medtop gives "medtop:NNNNNNNN" for a Media Topic subject in any of the
// forms ninjs uses, or "".
func (c *ninjsConcept) medtop() string {
	var id string
	switch {
	case strings.HasPrefix(c.Code, "medtop:"):
		id = c.Code[len("medtop:"):]
	case c.Scheme == proto.SchemeMedTop || strings.Contains(c.Scheme, "newscodes/mediatopic"):
		id = c.Code
	case strings.HasPrefix(c.URI, "medtop:"):
		id = c.URI[len("medtop:"):]
	case strings.Contains(c.URI, "cv.iptc.org/newscodes/mediatopic/"):
		_, id, _ = strings.Cut(c.URI, "cv.iptc.org/newscodes/mediatopic/")
		id = strings.TrimSuffix(id, "/")
	}
	if len(id) != 8 || !isDigits(id) {
		return ""
	}
	return "medtop:" + id
}
