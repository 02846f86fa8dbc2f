package proto

import "fmt"

// Limits are every bound wirestream puts on outside input, in one place,
// with their defaults. Each is enforced where input enters, before any
// work: a story over a limit is rejected with a reason that names the limit
// (and, where it can be stored, kept on the dead-letter subject).
type Limits struct {
	// StoryBytes bounds one raw story (the ingest stage's --max-bytes).
	StoryBytes int
	// URIBytes and VersionBytes bound a story's uri and version: both travel
	// in headers and in Nats-Msg-Id, which the server bounds.
	URIBytes     int
	VersionBytes int
	// JSONDepth bounds the nesting of a JSON document, checked on the raw
	// bytes before it is decoded.
	JSONDepth int
	// HeaderBytes bounds one header value wirestream copies from input
	// (a dead letter's copied headers are cut to it).
	HeaderBytes int
	// InflatedBytes bounds what one compressed file (or stdin) may
	// inflate to.
	InflatedBytes int64
	// BodyBytes bounds an HTTP push request body, as sent and, compressed,
	// once inflated (--http-max-bytes).
	BodyBytes int64
}

// Defaults of the limits flags set, as constants for the flags.
const (
	DefaultStoryBytes = 1 << 20 // Limits.StoryBytes, 1 MiB
	DefaultBodyBytes  = 8 << 20 // Limits.BodyBytes, 8 MiB
)

// DefaultLimits are the defaults.
var DefaultLimits = Limits{
	StoryBytes:    DefaultStoryBytes,
	URIBytes:      1024,
	VersionBytes:  128,
	JSONDepth:     64,
	HeaderBytes:   4096,
	InflatedBytes: 1 << 30,
	BodyBytes:     DefaultBodyBytes,
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.StoryBytes == 0 {
		l.StoryBytes = d.StoryBytes
	}
	if l.URIBytes == 0 {
		l.URIBytes = d.URIBytes
	}
	if l.VersionBytes == 0 {
		l.VersionBytes = d.VersionBytes
	}
	if l.JSONDepth == 0 {
		l.JSONDepth = d.JSONDepth
	}
	if l.HeaderBytes == 0 {
		l.HeaderBytes = d.HeaderBytes
	}
	if l.InflatedBytes == 0 {
		l.InflatedBytes = d.InflatedBytes
	}
	if l.BodyBytes == 0 {
		l.BodyBytes = d.BodyBytes
	}
	return l
}

// Validate reports a limit that cannot work, naming the field.
func (l Limits) Validate() error {
	switch {
	case l.StoryBytes < 1:
		return fmt.Errorf("proto: Limits.StoryBytes %d must be positive", l.StoryBytes)
	case l.URIBytes < 16:
		return fmt.Errorf("proto: Limits.URIBytes %d is under 16", l.URIBytes)
	case l.VersionBytes < 1:
		return fmt.Errorf("proto: Limits.VersionBytes %d must be positive", l.VersionBytes)
	case l.JSONDepth < 2:
		return fmt.Errorf("proto: Limits.JSONDepth %d is under 2", l.JSONDepth)
	case l.HeaderBytes < 64:
		return fmt.Errorf("proto: Limits.HeaderBytes %d is under 64", l.HeaderBytes)
	case l.InflatedBytes < int64(l.StoryBytes):
		return fmt.Errorf("proto: Limits.InflatedBytes %d is under StoryBytes %d", l.InflatedBytes, l.StoryBytes)
	case l.BodyBytes < 1:
		return fmt.Errorf("proto: Limits.BodyBytes %d must be positive", l.BodyBytes)
	}
	return nil
}

// CheckURI reports a story uri over URIBytes or holding a control
// character (IsControl): both would travel into headers and Nats-Msg-Id.
func (l Limits) CheckURI(uri string) error { return checkID("uri", uri, l.URIBytes) }

// CheckVersion is CheckURI for a story's version (VersionBytes).
func (l Limits) CheckVersion(version string) error {
	return checkID("version", version, l.VersionBytes)
}

func checkID(field, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%s too long: %d bytes, limit %d", field, len(v), limit)
	}
	if i := controlIndex(v); i >= 0 {
		return fmt.Errorf("%s has a control character at byte %d", field, i)
	}
	return nil
}
