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

// Nodes returns the node subjects a story is announced on: one per distinct
// region code in its places (countries and UN M49 regions, as tagged; the
// tag stage adds the roll-ups) and one per distinct Media Topic code in its
// subjects (parents are present by contract). Each node appears once, so a
// subscriber of one node receives the story once. Order: regions, then
// topics, each sorted.
func (p *Stage) Nodes(s *proto.Story) []string {
	regions := make([]string, 0, len(s.Place))
	for _, pl := range s.Place {
		if t := proto.PlaceToken(pl); t != "" {
			regions = append(regions, t)
		}
	}
	topics := make([]string, 0, len(s.Subject))
	for _, sub := range s.Subject {
		if t := proto.SubjectToken(sub); t != "" {
			topics = append(topics, t)
		}
	}
	slices.Sort(regions)
	slices.Sort(topics)
	regions = slices.Compact(regions)
	topics = slices.Compact(topics)
	out := make([]string, 0, len(regions)+len(topics))
	for _, r := range regions {
		out = append(out, p.names.Region(r))
	}
	for _, t := range topics {
		out = append(out, p.names.Topic(t))
	}
	return out
}
