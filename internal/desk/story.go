package desk

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/wirestream/wirestream/internal/outfilter"
	"github.com/wirestream/wirestream/proto"
	"github.com/wirestream/wirestream/stages/tag"
)

// StoryView is the answer of GET /v1/desk/story.
type StoryView struct {
	URI string `json:"uri"`
	// Versions are the versions in the output stream, oldest first (at most
	// 16); the last is the current one.
	Versions []Version `json:"versions"`
	// Explanation is why the current version got its places and topics,
	// computed again by this process's tag stage from the stored text.
	Explanation *Explanation `json:"explanation,omitempty"`
	// Copies are the stories the dedupe stage linked to this one and kept
	// off the output (resends, near copies), oldest first (at most 32).
	Copies []Copy `json:"copies"`
}

// Version is one version of a story in the output stream.
type Version struct {
	Seq     uint64          `json:"seq"`
	Stored  time.Time       `json:"stored"`
	Event   string          `json:"event"` // story or kill
	Dedupe  string          `json:"dedupe,omitempty"`
	Story   json.RawMessage `json:"story"`
	Changes []Change        `json:"changes,omitempty"` // the body against the version before
	// HeadlineBefore is the previous version's headline when it differs.
	HeadlineBefore string `json:"headline_before,omitempty"`

	created proto.Time
}

// sortVersions orders versions by versioncreated, then by output sequence;
// a kill goes last whatever its time.
func sortVersions(vs []Version) {
	sort.SliceStable(vs, func(i, j int) bool {
		ki, kj := vs[i].Event == outfilter.EventKill, vs[j].Event == outfilter.EventKill
		if ki != kj {
			return kj
		}
		if vs[i].created != vs[j].created {
			return vs[i].created < vs[j].created
		}
		return vs[i].Seq < vs[j].Seq
	})
}

// Copy is a dedupe decision that linked another story to this one.
type Copy struct {
	Seq        uint64    `json:"seq"`
	Stored     time.Time `json:"stored"`
	URI        string    `json:"uri"`
	Version    string    `json:"version,omitempty"`
	Status     string    `json:"status"`
	Similarity float64   `json:"similarity,omitempty"`
	Headline   string    `json:"headline,omitempty"`
	Source     string    `json:"source,omitempty"`
}

// Explanation is the evidence of a story's tags.
type Explanation struct {
	Places    []PlaceWhy `json:"places"`
	Topics    []TopicWhy `json:"topics"`
	NotCities []Evidence `json:"not_cities,omitempty"`
}

// PlaceWhy is a place and the text that gave it.
type PlaceWhy struct {
	Code      string     `json:"code"`
	Name      string     `json:"name"`
	Scheme    string     `json:"scheme"`
	Rel       string     `json:"rel,omitempty"`
	Relevance int32      `json:"relevance"`
	Evidence  []Evidence `json:"evidence"`
}

// Evidence is one match: the words, the field and offsets, the rule.
type Evidence struct {
	Text  string `json:"text"`
	Field string `json:"field"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Rule  string `json:"rule"`
}

// TopicWhy is a topic and the lexicon terms that gave it.
type TopicWhy struct {
	Code      string    `json:"code"`
	Name      string    `json:"name"`
	Relevance int32     `json:"relevance"`
	Score     float64   `json:"score"`
	Terms     []TermWhy `json:"terms"`
}

// TermWhy is one lexicon term found.
type TermWhy struct {
	Term   string  `json:"term"`
	Field  string  `json:"field"`
	Count  int     `json:"count"`
	Weight float64 `json:"weight"`
}

func (h *Handler) story(w http.ResponseWriter, r *http.Request) {
	uri := r.URL.Query().Get("uri")
	if uri == "" || len(uri) > proto.DefaultLimits.URIBytes {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "uri: required, a story uri of at most 1024 bytes", "param": "uri"})
		return
	}
	seqs, ready := h.cfg.Read.Versions(uri)
	if !ready {
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the story index is still loading; retry shortly"})
		return
	}
	if len(seqs) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no story with this uri in the output stream", "uri": uri})
		return
	}
	ctx, cancel := h.ctx(r)
	defer cancel()
	out, err := h.js.Stream(ctx, h.cfg.Names.OutStream())
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "output stream: " + err.Error()})
		return
	}
	view := StoryView{URI: uri, Versions: []Version{}, Copies: []Copy{}}
	var cur *proto.Story
	for _, seq := range seqs {
		m, err := out.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // aged out
		}
		if err != nil {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "reading the output stream: " + err.Error()})
			return
		}
		s, err := outfilter.Decode(m.Header, m.Data)
		if err != nil {
			continue
		}
		b, err := outfilter.Render(m.Header, m.Data, s, "")
		if err != nil {
			continue
		}
		v := Version{Seq: seq, Stored: m.Time, Event: outfilter.Event(s), Story: b}
		if s.Dedupe != nil {
			v.Dedupe = s.Dedupe.Status
		}
		v.created = s.VersionCreated
		view.Versions = append(view.Versions, v)
		cur = s
	}
	// Versions can reach the output out of order (the stages run several
	// workers): show them in the order of versioncreated, and diff each
	// against the one before in that order.
	sortVersions(view.Versions)
	cur = nil
	var before *proto.Story
	for i := range view.Versions {
		v := &view.Versions[i]
		s, _ := proto.UnmarshalJSON(v.Story)
		v.Changes, v.HeadlineBefore = nil, ""
		if s != nil && before != nil {
			if before.BodyText != s.BodyText {
				v.Changes = WordDiff(before.BodyText, s.BodyText)
			}
			if before.Headline != s.Headline {
				v.HeadlineBefore = before.Headline
			}
		}
		if s != nil {
			before, cur = s, s
		}
	}
	if cur == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "the story has aged out of the output stream", "uri": uri})
		return
	}
	if t, err := h.cfg.Data.Tagger(); err == nil {
		view.Explanation = explain(t, cur)
	}
	if cs := h.cfg.Read.Copies(uri); len(cs) > 0 {
		if audit, err := h.js.Stream(ctx, h.cfg.Names.AuditStream()); err == nil {
			for _, seq := range cs {
				m, err := audit.GetMsg(ctx, seq)
				if err != nil {
					continue
				}
				s, err := outfilter.Decode(m.Header, m.Data)
				if err != nil {
					continue
				}
				c := Copy{Seq: seq, Stored: m.Time, URI: s.URI, Version: s.Version, Headline: s.Headline, Source: m.Header.Get(proto.HeaderSource)}
				if s.Dedupe != nil {
					c.Status, c.Similarity = s.Dedupe.Status, s.Dedupe.Similarity
				}
				view.Copies = append(view.Copies, c)
			}
		}
	}
	w.Header().Set("X-Wirestream-Seq", strconv.FormatUint(view.Versions[len(view.Versions)-1].Seq, 10))
	writeJSON(w, http.StatusOK, view)
}

func explain(t *tag.Stage, s *proto.Story) *Explanation {
	e := t.Explain(s)
	out := &Explanation{Places: []PlaceWhy{}, Topics: []TopicWhy{}}
	for _, p := range e.Places {
		pw := PlaceWhy{Code: p.Place.Code, Name: p.Place.Name, Scheme: p.Place.Scheme, Rel: p.Place.Rel, Relevance: p.Place.Relevance, Evidence: []Evidence{}}
		for _, ev := range p.Evidence {
			pw.Evidence = append(pw.Evidence, Evidence{Text: ev.Text, Field: ev.Field, Start: ev.Start, End: ev.End, Rule: ev.Rule})
		}
		out.Places = append(out.Places, pw)
	}
	for _, ev := range e.NotCities {
		out.NotCities = append(out.NotCities, Evidence{Text: ev.Text, Field: ev.Field, Start: ev.Start, End: ev.End, Rule: ev.Rule})
	}
	for _, tp := range e.Topics {
		tw := TopicWhy{Code: tp.Subject.Code, Name: tp.Subject.Name, Relevance: tp.Subject.Relevance, Score: tp.Score, Terms: []TermWhy{}}
		for _, th := range tp.Terms {
			tw.Terms = append(tw.Terms, TermWhy{Term: th.Term, Field: th.Field, Count: th.Count, Weight: th.Weight})
		}
		out.Topics = append(out.Topics, tw)
	}
	return out
}
