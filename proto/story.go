// Package proto is the story schema of wirestream: the Story type and its
// ninjs 1.x JSON form, the binary encoding used between stages, and the
// names of every NATS subject, stream and header the pipeline uses.
//
// proto is the leaf of the module: it imports nothing from wirestream, and
// both the runtime (pipeline) and the domain logic (stages) build on it.
package proto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors of the schema.
var (
	// ErrInvalidStory is wrapped by Validate for any story that breaks the contract.
	ErrInvalidStory = errors.New("proto: invalid story")
	// ErrInvalidTime is returned when a ninjs date-time cannot be parsed.
	ErrInvalidTime = errors.New("proto: invalid date-time")
)

// Publication statuses (ninjs pubstatus).
const (
	PubStatusUsable   = "usable"
	PubStatusWithheld = "withheld"
	PubStatusCanceled = "canceled"
)

// Place schemes and relations.
const (
	SchemeCountry  = "iso3166-1a2" // ISO 3166-1 alpha-2 country code, e.g. "UZ"
	SchemeM49      = "un-m49"      // UN M49 region code, three digits, e.g. "143"
	SchemeGeoNames = "geonames"    // GeoNames id of a city, e.g. "1216265" (Samarkand)
	SchemeMedTop   = "medtop"      // IPTC Media Topics, code "medtop:11000000"

	RelLocated   = "located"   // where the story was filed (the dateline)
	RelMentioned = "mentioned" // any other place the story is about
)

// Dedupe decisions (Story.Dedupe.Status).
const (
	DedupeNew           = "new"
	DedupeUpdate        = "update"
	DedupeDuplicate     = "duplicate"
	DedupeNearDuplicate = "near_duplicate"
	DedupeStale         = "stale"
	DedupeKill          = "kill"
)

// Story is one news item. Its JSON form uses ninjs 1.x field names so that
// any ninjs consumer can read it; Dedupe is wirestream's extension object.
//
// The protobuf tags define the binary encoding used between stages (see
// story.proto, which a test keeps in step with this type). Field numbers are
// never reused; times are int64 (see Time).
type Story struct {
	URI            string     `json:"uri" protobuf:"bytes,1,opt,name=uri"`
	Type           string     `json:"type,omitempty" protobuf:"bytes,2,opt,name=type"`
	Version        string     `json:"version,omitempty" protobuf:"bytes,3,opt,name=version"`
	VersionCreated Time       `json:"versioncreated,omitempty" protobuf:"varint,4,opt,name=versioncreated"`
	FirstCreated   Time       `json:"firstcreated,omitempty" protobuf:"varint,5,opt,name=firstcreated"`
	PubStatus      string     `json:"pubstatus,omitempty" protobuf:"bytes,6,opt,name=pubstatus"`
	Urgency        int32      `json:"urgency,omitempty" protobuf:"varint,7,opt,name=urgency"`
	Language       string     `json:"language,omitempty" protobuf:"bytes,8,opt,name=language"`
	Headline       string     `json:"headline,omitempty" protobuf:"bytes,9,opt,name=headline"`
	Slugline       string     `json:"slugline,omitempty" protobuf:"bytes,10,opt,name=slugline"`
	Byline         string     `json:"byline,omitempty" protobuf:"bytes,11,opt,name=byline"`
	Located        string     `json:"located,omitempty" protobuf:"bytes,12,opt,name=located"`
	BodyText       string     `json:"body_text,omitempty" protobuf:"bytes,13,opt,name=body_text"`
	EdNote         string     `json:"ednote,omitempty" protobuf:"bytes,14,opt,name=ednote"`
	Place          []*Place   `json:"place,omitempty" protobuf:"bytes,15,rep,name=place"`
	Subject        []*Subject `json:"subject,omitempty" protobuf:"bytes,16,rep,name=subject"`
	Dedupe         *Dedupe    `json:"dedupe,omitempty" protobuf:"bytes,17,opt,name=dedupe"`

	// Provenance, set by the ingest stage. Carried between stages and in the
	// JSON output under wirestream-specific names.
	Source    string `json:"ws_source,omitempty" protobuf:"bytes,18,opt,name=source"`
	Received  Time   `json:"ws_received,omitempty" protobuf:"varint,19,opt,name=received"`
	IngestSeq uint64 `json:"ws_ingest_seq,omitempty" protobuf:"varint,20,opt,name=ingest_seq"`

	// Dateline is the dateline the ingest stage found at the start of
	// BodyText, or nil. Ingest always recomputes it from the body.
	Dateline *Dateline `json:"ws_dateline,omitempty" protobuf:"bytes,21,opt,name=dateline"`
}

// Dateline is where a story's dateline is in its body: the place as written
// ("SAMARKAND, Uzbekistan"), its byte span BodyText[Start:End], the offset
// where the story text begins after the agency and dash, and the agency
// and date written in it, if any. Offsets are int32 (a story is far
// smaller than 2 GiB).
type Dateline struct {
	Text      string `json:"text" protobuf:"bytes,1,opt,name=text"`
	Start     int32  `json:"start" protobuf:"varint,2,opt,name=start"`
	End       int32  `json:"end" protobuf:"varint,3,opt,name=end"`
	BodyStart int32  `json:"body_start" protobuf:"varint,4,opt,name=body_start"`
	Agency    string `json:"agency,omitempty" protobuf:"bytes,5,opt,name=agency"`
	Date      string `json:"date,omitempty" protobuf:"bytes,6,opt,name=date"`
}

// Place is a ninjs place: a country (SchemeCountry), a UN M49 region
// (SchemeM49) or a city (SchemeGeoNames, with its point in Geometry),
// filed from (RelLocated) or mentioned (RelMentioned).
type Place struct {
	Name      string    `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	Scheme    string    `json:"scheme,omitempty" protobuf:"bytes,2,opt,name=scheme"`
	Code      string    `json:"code,omitempty" protobuf:"bytes,3,opt,name=code"`
	Rel       string    `json:"rel,omitempty" protobuf:"bytes,4,opt,name=rel"`
	Relevance int32     `json:"relevance,omitempty" protobuf:"varint,5,opt,name=relevance"`
	Geometry  *Geometry `json:"geometry_geojson,omitempty" protobuf:"bytes,6,opt,name=geometry_geojson"`
}

// Geometry is a GeoJSON geometry, ninjs place.geometry_geojson: for a city
// {"type": "Point", "coordinates": [longitude, latitude]} in WGS84 degrees.
type Geometry struct {
	Type        string    `json:"type" protobuf:"bytes,1,opt,name=type"`
	Coordinates []float64 `json:"coordinates" protobuf:"fixed64,2,rep,name=coordinates"`
}

// Point returns a GeoJSON Point geometry.
func Point(lon, lat float64) *Geometry {
	return &Geometry{Type: "Point", Coordinates: []float64{lon, lat}}
}

// Subject is a ninjs subject: an IPTC Media Topic such as
// {Scheme: "medtop", Code: "medtop:11000000", Name: "politics"}.
// Whenever a subtopic is present, its parents are present too.
type Subject struct {
	Name      string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	Scheme    string `json:"scheme,omitempty" protobuf:"bytes,2,opt,name=scheme"`
	Code      string `json:"code,omitempty" protobuf:"bytes,3,opt,name=code"`
	Relevance int32  `json:"relevance,omitempty" protobuf:"varint,4,opt,name=relevance"`
}

// Dedupe is wirestream's extension object: the dedupe stage's decision.
type Dedupe struct {
	Status     string  `json:"status" protobuf:"bytes,1,opt,name=status"`
	Of         string  `json:"of,omitempty" protobuf:"bytes,2,opt,name=of"`
	Similarity float64 `json:"similarity,omitempty" protobuf:"fixed64,3,opt,name=similarity"`
}

// Validate checks the schema contract. It does not check content rules that
// belong to a stage (size limits, empty bodies are the ingest stage's).
func (s *Story) Validate() error {
	if s == nil {
		return fmt.Errorf("%w: nil story", ErrInvalidStory)
	}
	if s.URI == "" {
		return fmt.Errorf("%w: uri is empty", ErrInvalidStory)
	}
	switch s.PubStatus {
	case "", PubStatusUsable, PubStatusWithheld, PubStatusCanceled:
	default:
		return fmt.Errorf("%w: pubstatus %q is not usable, withheld or canceled", ErrInvalidStory, s.PubStatus)
	}
	for i, p := range s.Place {
		if p == nil {
			return fmt.Errorf("%w: place[%d] is null", ErrInvalidStory, i)
		}
		if p.Relevance < 0 || p.Relevance > 100 {
			return fmt.Errorf("%w: place[%d] relevance %d outside 0-100", ErrInvalidStory, i, p.Relevance)
		}
	}
	for i, sub := range s.Subject {
		if sub == nil {
			return fmt.Errorf("%w: subject[%d] is null", ErrInvalidStory, i)
		}
		if sub.Relevance < 0 || sub.Relevance > 100 {
			return fmt.Errorf("%w: subject[%d] relevance %d outside 0-100", ErrInvalidStory, i, sub.Relevance)
		}
	}
	if s.Dedupe != nil {
		switch s.Dedupe.Status {
		case DedupeNew, DedupeUpdate, DedupeDuplicate, DedupeNearDuplicate, DedupeStale, DedupeKill:
		default:
			return fmt.Errorf("%w: dedupe status %q unknown", ErrInvalidStory, s.Dedupe.Status)
		}
	}
	return nil
}

// Canceled reports whether the story is a kill (pubstatus canceled).
func (s *Story) Canceled() bool { return s.PubStatus == PubStatusCanceled }

// Clone returns a deep copy of the story.
func (s *Story) Clone() *Story {
	c := *s
	if s.Place != nil {
		c.Place = make([]*Place, len(s.Place))
		for i, p := range s.Place {
			if p != nil {
				pp := *p
				if p.Geometry != nil {
					g := *p.Geometry
					g.Coordinates = append([]float64(nil), p.Geometry.Coordinates...)
					pp.Geometry = &g
				}
				c.Place[i] = &pp
			}
		}
	}
	if s.Subject != nil {
		c.Subject = make([]*Subject, len(s.Subject))
		for i, sub := range s.Subject {
			if sub != nil {
				ss := *sub
				c.Subject[i] = &ss
			}
		}
	}
	if s.Dedupe != nil {
		d := *s.Dedupe
		c.Dedupe = &d
	}
	if s.Dateline != nil {
		d := *s.Dateline
		c.Dateline = &d
	}
	return &c
}

// CompareVersions orders two ninjs version strings when both are numeric:
// a decimal integer ("10" > "9"), a dotted sequence of them ("1.10" >
// "1.9", "1.2" < "1.2.1"), or empty (no version: older than any other). It
// returns negative when a is older, zero when equal, positive when newer,
// and ok false when either is not numeric ("v2", "2024-03-01"): such
// versions say nothing about order, and the dedupe stage orders them by
// versioncreated, then by arrival.
func CompareVersions(a, b string) (c int, ok bool) {
	if a == b {
		return 0, true
	}
	an, aok := versionNumbers(a)
	bn, bok := versionNumbers(b)
	if !aok || !bok {
		return 0, false
	}
	for i := 0; i < len(an) && i < len(bn); i++ {
		if an[i] != bn[i] {
			if an[i] < bn[i] {
				return -1, true
			}
			return 1, true
		}
	}
	switch {
	case len(an) < len(bn):
		return -1, true
	case len(an) > len(bn):
		return 1, true
	}
	return 0, true
}

// versionNumbers parses a numeric version ("" is none: no numbers).
func versionNumbers(v string) ([]uint64, bool) {
	if v == "" {
		return nil, true
	}
	parts := strings.Split(v, ".")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" || p[0] == '+' {
			return nil, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}
