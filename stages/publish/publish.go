// Package publish is the last stage of wirestream: it decides on which
// region and topic nodes each enriched story is announced. It is plain Go;
// the runtime publishes the full story once on <p>.out.all and one light
// notification per node (see pipeline.FanOut and docs/subjects.md).
package publish

import (
	"context"
	"fmt"
	"slices"

	"github.com/wirestream/wirestream/proto"
)

// Stage validates stories for subscribers and lists their node subjects.
// It is stateless and safe for concurrent use.
type Stage struct {
	names proto.Names
}

// New returns a publish stage for a namespace.
func New(names proto.Names) *Stage { return &Stage{names: names} }

// Handle passes a valid story through. A story that breaks the schema is a
// permanent error (dead-lettered): subscribers must be able to rely on it.
func (p *Stage) Handle(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
	if err := s.Validate(); err != nil {
		return nil, proto.Permanent(fmt.Errorf("publish: %w", err))
	}
	return []*proto.Story{s}, nil
}

// Close implements the stage contract.
func (p *Stage) Close(context.Context) error { return nil }

// MaxMentionedCityNodes bounds the city nodes of one story: it is announced
// on its located city's node and on the nodes of at most this many
// mentioned cities, the first in place order (the tag stage orders them by
// relevance). A story tagged with more cities lists them all in place[].
const MaxMentionedCityNodes = 3

// Nodes returns the node subjects a story is announced on: one per distinct
// region code in its places (countries and UN M49 regions, as tagged; the
// tag stage adds the roll-ups), one per city (GeoNames id) for the located
// city and the first MaxMentionedCityNodes mentioned ones, and one per
// distinct Media Topic code in its subjects (parents are present by
// contract). Each node appears once, so a subscriber of one node receives
// the story once. Order: regions, cities, then topics, each sorted.
func (p *Stage) Nodes(s *proto.Story) []string {
	regions := make([]string, 0, len(s.Place))
	var cities []string
	mentioned := 0
	for _, pl := range s.Place {
		if t := proto.PlaceToken(pl); t != "" {
			regions = append(regions, t)
		} else if t := proto.PlaceCityToken(pl); t != "" && !slices.Contains(cities, t) {
			if pl.Rel != proto.RelLocated {
				if mentioned == MaxMentionedCityNodes {
					continue
				}
				mentioned++
			}
			cities = append(cities, t)
		}
	}
	topics := make([]string, 0, len(s.Subject))
	for _, sub := range s.Subject {
		if t := proto.SubjectToken(sub); t != "" {
			topics = append(topics, t)
		}
	}
	slices.Sort(regions)
	slices.Sort(cities)
	slices.Sort(topics)
	regions = slices.Compact(regions)
	topics = slices.Compact(topics)
	out := make([]string, 0, len(regions)+len(cities)+len(topics))
	for _, r := range regions {
		out = append(out, p.names.Region(r))
	}
	for _, c := range cities {
		out = append(out, p.names.City(c))
	}
	for _, t := range topics {
		out = append(out, p.names.Topic(t))
	}
	return out
}
