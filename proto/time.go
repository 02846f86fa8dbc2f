package proto

import (
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/encoding/json"
)

// Time is an instant in Unix nanoseconds (UTC). It is an int64 so that the
// binary encoding carries it as a varint; in JSON it is an RFC 3339 string, as
// ninjs requires. The zero Time means "not set" and is omitted from JSON.
type Time int64

// FromTime converts a time.Time; the zero time.Time becomes the zero Time.
func FromTime(t time.Time) Time {
	if t.IsZero() {
		return 0
	}
	return Time(t.UnixNano())
}

// Time returns the instant as a UTC time.Time (the zero time.Time when unset).
func (t Time) Time() time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(t)).UTC()
}

// IsZero reports whether the time is unset.
func (t Time) IsZero() bool { return t == 0 }

// String formats the time as RFC 3339 in UTC, with fractional seconds only
// when they are not zero.
func (t Time) String() string {
	if t == 0 {
		return ""
	}
	return t.Time().Format(time.RFC3339Nano)
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t == 0 {
		return []byte(`null`), nil
	}
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = t.Time().AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// UnmarshalJSON implements json.Unmarshaler. It accepts null, an empty
// string, and the date-time forms that wires send (see ParseTime).
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %s is not a string", ErrInvalidTime, b)
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// timeLayouts are the date-time forms accepted, most common first. ninjs
// requires RFC 3339, but feeds also send offsets without a colon, no zone
// (taken as UTC), a space instead of the T, or a bare date.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
}

// ParseTime parses a ninjs date-time. An empty string is the zero Time.
func ParseTime(s string) (Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return FromTime(v), nil
		}
	}
	return 0, fmt.Errorf("%w: %q is not an RFC 3339 date-time", ErrInvalidTime, s)
}
