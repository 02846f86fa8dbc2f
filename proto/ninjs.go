package proto

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrFormat is returned by Render for a format it does not know.
var ErrFormat = errors.New("proto: unknown output format")

// Output formats of Render.
const (
	FormatNinjs1 = "ninjs1" // the pipeline's own JSON: ninjs 1.x names plus wirestream's ws_ and dedupe fields
	FormatNinjs2 = "ninjs2" // IPTC ninjs 2.2 (headlines, bodies, subjects, places, by)
	FormatNinjs3 = "ninjs3" // IPTC ninjs 3.1 (the 2.x structure with camelCase names)
)

// RenderFormats lists the formats Render knows, the default first.
var RenderFormats = []string{FormatNinjs1, FormatNinjs2, FormatNinjs3}

// Schema URIs the ninjs 2.x and 3.x renderings name in "standard".
const (
	Ninjs2Schema = "https://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"
	Ninjs3Schema = "https://www.iptc.org/std/ninjs/ninjs-schema_3.1.json"
)

// Render appends s to dst as JSON in format. ninjs1 is AppendJSON. ninjs2
// and ninjs3 follow the IPTC schemas, which allow no other properties: the
// wirestream fields (dedupe decision, provenance, dateline offsets) are
// left out; the dedupe status is in the output's Ws-Status header.
// Countries and M49 regions become places with literal "iso3166-1a2:UZ" or
// "un-m49:143"; Media Topics subjects with the topic's cv.iptc.org URI.
func Render(dst []byte, s *Story, format string) ([]byte, error) {
	switch format {
	case FormatNinjs1, "":
		return AppendJSON(dst, s)
	case FormatNinjs2, FormatNinjs3:
		v3 := format == FormatNinjs3
		data, err := json.Marshal(newerNinjs(s, v3))
		if err != nil {
			return dst, fmt.Errorf("render %s as %s: %w", s.URI, format, err)
		}
		return append(dst, data...), nil
	}
	return dst, fmt.Errorf("%w %q: one of %s", ErrFormat, format, strings.Join(RenderFormats, ", "))
}

// newerNinjs builds the ninjs 2.x or 3.x object of s as an ordered list of
// properties (names differ between the two only in case).
func newerNinjs(s *Story, v3 bool) orderedObject {
	name := func(v2, camel string) string {
		if v3 {
			return camel
		}
		return v2
	}
	std := orderedObject{{"name", "ninjs"}, {"version", "2.2"}, {"schema", Ninjs2Schema}}
	if v3 {
		std = orderedObject{{"name", "ninjs"}, {"version", "3.1"}, {"schema", Ninjs3Schema}}
	}
	o := orderedObject{{"standard", std}, {"uri", s.URI}}
	add := func(k string, v any) { o = append(o, kv{k, v}) }
	if s.Type != "" {
		add("type", s.Type)
	}
	if s.Version != "" {
		add("version", s.Version)
	}
	if !s.VersionCreated.IsZero() {
		add(name("versioncreated", "versionCreated"), s.VersionCreated.String())
	}
	if !s.FirstCreated.IsZero() {
		add(name("firstcreated", "firstCreated"), s.FirstCreated.String())
	}
	if s.PubStatus != "" {
		add(name("pubstatus", "pubStatus"), s.PubStatus)
	}
	if s.Urgency >= 1 && s.Urgency <= 9 {
		add("urgency", s.Urgency)
	}
	if s.Language != "" {
		add("language", s.Language)
	}
	if s.Headline != "" {
		add("headlines", []orderedObject{{{"role", "main"}, {"value", s.Headline}}})
	}
	if s.Slugline != "" {
		add("slugline", s.Slugline)
	}
	if s.Byline != "" {
		add("by", s.Byline)
	}
	if s.Located != "" {
		add("located", s.Located)
	}
	if s.BodyText != "" {
		add("bodies", []orderedObject{{{"role", "main"}, {name("contenttype", "contentType"), "text/plain"}, {"value", s.BodyText}}})
	}
	if s.EdNote != "" {
		add(name("ednote", "edNote"), s.EdNote)
	}
	if len(s.Subject) > 0 {
		subs := make([]orderedObject, 0, len(s.Subject))
		for _, sub := range s.Subject {
			x := orderedObject{}
			if sub.Name != "" {
				x = append(x, kv{"name", sub.Name})
			}
			if t := SubjectToken(sub); t != "" {
				x = append(x, kv{"uri", "http://cv.iptc.org/newscodes/mediatopic/" + t})
			}
			if sub.Code != "" {
				x = append(x, kv{"literal", sub.Code})
			}
			if sub.Relevance > 0 {
				x = append(x, kv{"relevance", sub.Relevance})
			}
			subs = append(subs, x)
		}
		add("subjects", subs)
	}
	if len(s.Place) > 0 {
		places := make([]orderedObject, 0, len(s.Place))
		for _, p := range s.Place {
			x := orderedObject{}
			if p.Name != "" {
				x = append(x, kv{"name", p.Name})
			}
			if p.Rel != "" {
				x = append(x, kv{"rel", p.Rel})
			}
			if p.Code != "" {
				lit := p.Code
				if p.Scheme != "" {
					lit = p.Scheme + ":" + p.Code
				}
				x = append(x, kv{"literal", lit})
			}
			places = append(places, x)
		}
		add("places", places)
	}
	return o
}

type kv struct {
	k string
	v any
}

// orderedObject is a JSON object that keeps its properties' order.
type orderedObject []kv

func (o orderedObject) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(p.k)
		b = append(b, k...)
		b = append(b, ':')
		v, err := json.Marshal(p.v)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}
