// Package tag is wirestream's tag stage: it tags each story with the places
// it is filed from and about (package geo: countries and UN M49 regions) and
// with IPTC Media Topics (package topic). Plain Go, no NATS.
package tag

import (
	"context"
	"fmt"

	"github.com/wirestream/wirestream/proto"
	textkit "github.com/wirestream/wirestream/stages/internal/text"
	"github.com/wirestream/wirestream/stages/tag/geo"
	"github.com/wirestream/wirestream/stages/tag/topic"
)

// Stage tags stories. It is safe for concurrent use.
type Stage struct {
	gaz    *geo.Gazetteer
	geo    *geo.Parser
	topics *topic.Classifier
}

// New loads the embedded gazetteer and topic lexicon.
func New() (*Stage, error) { return NewWithOverrides("") }

// NewWithOverrides is New with more gazetteer override entries
// (geo.LoadWithOverrides); "" is New.
func NewWithOverrides(geoOverrides string) (*Stage, error) {
	load := geo.Load
	if geoOverrides != "" {
		load = func() (*geo.Gazetteer, error) { return geo.LoadWithOverrides(geoOverrides) }
	}
	g, err := load()
	if err != nil {
		return nil, fmt.Errorf("tag: load gazetteer: %w", err)
	}
	c, err := topic.Load()
	if err != nil {
		return nil, fmt.Errorf("tag: load topics: %w", err)
	}
	return &Stage{gaz: g, geo: geo.New(g), topics: c}, nil
}

// Handle sets the story's places and subjects. Places and subjects a
// provider sent in other schemes, or with codes the taggers did not find,
// are kept after the tagger's own.
func (t *Stage) Handle(_ context.Context, s *proto.Story) ([]*proto.Story, error) {
	if s.Language == "" {
		// BCP 47 primary tag of the text (en, fr, es, de), or none.
		s.Language = textkit.DetectLanguage(s.Headline, s.BodyText)
	}
	s.Place = mergePlaces(t.geo.Tag(s), s.Place)
	s.Subject = mergeSubjects(t.topics.Tag(s), s.Subject)
	return []*proto.Story{s}, nil
}

// Close implements the stage contract.
func (t *Stage) Close(context.Context) error { return nil }

// Explanation is why a story got its places and topics.
type Explanation struct {
	Places []geo.Explained
	Topics []topic.Explained
	// NotCities are the city names found that were not taken as cities,
	// with the rule that rejected each.
	NotCities []geo.Evidence
}

// Explain returns the evidence behind Handle's tags.
func (t *Stage) Explain(s *proto.Story) Explanation {
	return Explanation{Places: t.geo.Explain(s), Topics: t.topics.Explain(s), NotCities: t.geo.RejectedCities(s)}
}

// ResolveCity maps a GeoNames id, a city name or "Name, Country/Division"
// to the city's subject token (its GeoNames id) and a display name.
func (t *Stage) ResolveCity(s string) (token, name string, ok bool) {
	c, ok := t.gaz.ResolveCity(s)
	if !ok {
		return "", "", false
	}
	cn, _ := t.gaz.CountryName(c.Country)
	return c.GeoNamesID, c.Name + ", " + cn, true
}

// ResolveRegion maps a code, name or slug to a region token and name.
func (t *Stage) ResolveRegion(s string) (token, name string, ok bool) { return t.gaz.ResolveRegion(s) }

// ResolveTopic maps a code or label to a topic token and label.
func (t *Stage) ResolveTopic(s string) (token, label string, ok bool) {
	return t.topics.ResolveTopic(s)
}

func mergePlaces(ours, theirs []*proto.Place) []*proto.Place {
	if len(theirs) == 0 {
		return ours
	}
	seen := make(map[[2]string]bool, len(ours))
	for _, p := range ours {
		seen[[2]string{p.Scheme, p.Code}] = true
	}
	for _, p := range theirs {
		if p != nil && !seen[[2]string{p.Scheme, p.Code}] {
			seen[[2]string{p.Scheme, p.Code}] = true
			ours = append(ours, p)
		}
	}
	return ours
}

func mergeSubjects(ours, theirs []*proto.Subject) []*proto.Subject {
	if len(theirs) == 0 {
		return ours
	}
	seen := make(map[string]bool, len(ours))
	for _, s := range ours {
		seen[s.Scheme+"\x00"+s.Code] = true
	}
	for _, s := range theirs {
		if s != nil && !seen[s.Scheme+"\x00"+s.Code] {
			seen[s.Scheme+"\x00"+s.Code] = true
			ours = append(ours, s)
		}
	}
	return ours
}

// Areas lists the countries and M49 regions the stage tags.
func (t *Stage) Areas() []geo.Area { return t.gaz.Areas() }

// Topics lists the Media Topics the stage tags.
func (t *Stage) Topics() []topic.Topic { return t.topics.Topics() }
