// Package outfilter turns what a user writes for a subscription (region
// codes or names, topic codes or labels, urgency, languages, statuses) into
// a pipeline.Filter, and reads stories back from the output stream's
// ws.out.all messages. The HTTP read API, its event stream and the webhooks
// share it, so each accepts the same spellings.
package outfilter

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/wirestream/wirestream/internal/wiring"
	"github.com/wirestream/wirestream/pipeline"
	"github.com/wirestream/wirestream/proto"
)

// ErrFilter is wrapped by every error of Parse.
var ErrFilter = errors.New("filter")

// Spec is a filter as written: each list may hold several values (one
// story matching any value of a list passes that list; every list given
// must pass).
type Spec struct {
	Regions   []string // "UZ", "143", "central-asia", "Uzbekistan"
	Topics    []string // "medtop:11000000", "11000000", "politics"
	Urgency   string   // at most this urgency (1-9); "" for any
	Languages []string // "en"
	Statuses  []string // new, update, kill
}

// Parse resolves a Spec with the gazetteer and taxonomy in data. Errors
// name the field and the value.
func Parse(data *wiring.Data, n proto.Names, s Spec) (pipeline.Filter, error) {
	var f pipeline.Filter
	for _, r := range s.Regions {
		subj, _, err := data.RegionSubject(n, r)
		if err != nil {
			return f, fmt.Errorf("%w: region: %v", ErrFilter, err)
		}
		f.Regions = append(f.Regions, strings.TrimPrefix(subj, n.Region("")))
	}
	for _, t := range s.Topics {
		subj, _, err := data.TopicSubject(n, t)
		if err != nil {
			return f, fmt.Errorf("%w: topic: %v", ErrFilter, err)
		}
		f.Topics = append(f.Topics, proto.SchemeMedTop+":"+strings.TrimPrefix(subj, n.Topic("")))
	}
	if s.Urgency != "" {
		u, err := strconv.Atoi(s.Urgency)
		if err != nil || u < 1 || u > 9 {
			return f, fmt.Errorf("%w: urgency %q: a number from 1 (most urgent) to 9", ErrFilter, s.Urgency)
		}
		f.MaxUrgency = u
	}
	for _, l := range s.Languages {
		l = strings.TrimSpace(l)
		if (pipeline.Filter{Languages: []string{l}}).Validate() != nil {
			return f, fmt.Errorf("%w: language %q: a BCP 47 tag such as en or pt-BR", ErrFilter, l)
		}
		f.Languages = append(f.Languages, l)
	}
	for _, st := range s.Statuses {
		st = strings.ToLower(strings.TrimSpace(st))
		switch st {
		case proto.DedupeNew, proto.DedupeUpdate, proto.DedupeKill:
		default:
			return f, fmt.Errorf("%w: status %q: new, update or kill", ErrFilter, st)
		}
		f.Statuses = append(f.Statuses, st)
	}
	if err := f.Validate(); err != nil {
		return f, fmt.Errorf("%w: %v", ErrFilter, err)
	}
	return f, nil
}

// SplitList splits comma-separated values and drops empty ones.
func SplitList(vs ...string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Event kinds of a delivered story.
const (
	EventStory = "story"
	EventKill  = "kill"
)

// Event is "kill" for a killed (canceled) story, "story" otherwise.
func Event(s *proto.Story) string {
	if pipeline.Status(s) == proto.DedupeKill {
		return EventKill
	}
	return EventStory
}

// Decode reads the story of a ws.out.all message.
func Decode(h nats.Header, data []byte) (*proto.Story, error) {
	enc, err := proto.ParseEncoding(h.Get(proto.HeaderEncoding))
	if err != nil {
		return nil, err
	}
	return proto.Unmarshal(enc, data)
}

// JSON returns the ninjs JSON of a ws.out.all message: its body when it is
// JSON already (the publish stage's default), else the story re-encoded.
func JSON(h nats.Header, data []byte, s *proto.Story) ([]byte, error) {
	return Render(h, data, s, "")
}

// Render is JSON in an output format of proto.Render ("" or ninjs1: the
// stored body as it is).
func Render(h nats.Header, data []byte, s *proto.Story, format string) ([]byte, error) {
	if format == "" || format == proto.FormatNinjs1 {
		if enc, err := proto.ParseEncoding(h.Get(proto.HeaderEncoding)); err == nil && enc == proto.EncodingJSON {
			return data, nil
		}
	}
	return proto.Render(nil, s, format)
}

// CheckFormat reports whether proto.Render knows format ("" is the default).
func CheckFormat(format string) error {
	if format == "" || slices.Contains(proto.RenderFormats, format) {
		return nil
	}
	return fmt.Errorf("%w: format %q: one of %s", ErrFilter, format, strings.Join(proto.RenderFormats, ", "))
}
