package proto

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
)

// Encoding names a wire form of a Story. It travels in the HeaderEncoding
// header so a reader never has to guess.
type Encoding string

const (
	// EncodingJSON is ninjs 1.x JSON: what subscribers read.
	EncodingJSON Encoding = "json"
	// EncodingProto is the binary form (story.proto) used between stages.
	EncodingProto Encoding = "proto"
)

// ErrDecode wraps every decoding failure.
var ErrDecode = errors.New("proto: cannot decode story")

// ParseEncoding maps a header value to an Encoding. An empty value means JSON,
// the form any outside publisher would send.
func ParseEncoding(v string) (Encoding, error) {
	switch Encoding(v) {
	case "", EncodingJSON:
		return EncodingJSON, nil
	case EncodingProto:
		return EncodingProto, nil
	}
	return "", fmt.Errorf("%w: unknown encoding %q", ErrDecode, v)
}

// MarshalJSON encodes the story as one line of ninjs JSON (no trailing newline).
// Controls are escaped as by AppendJSON.
func MarshalJSON(s *Story) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return EscapeJSONControls(b, 0), nil
}

// AppendJSON appends the ninjs JSON form of s to b. Besides what JSON
// escapes (C0 controls, U+2028, U+2029), DEL, C1 controls and the bidi
// controls (IsControl) are written as \u escapes: the same text for any
// JSON reader, and nothing a terminal acts on when the line is printed
// (`wirestream tail`, `enrich`).
func AppendJSON(b []byte, s *Story) ([]byte, error) {
	start := len(b)
	b, err := json.Append(b, s, json.EscapeHTML)
	if err != nil {
		return b, err
	}
	return EscapeJSONControls(b, start), nil
}

// EscapeJSONControls rewrites, in b[start:], the raw control characters
// JSON leaves as they are (DEL, U+0080-U+009F, U+202A-U+202E,
// U+2066-U+2069) as \u escapes. Outside strings JSON has no such bytes, so
// the result is the same JSON value. It returns b when there are none, a
// new slice otherwise. Log lines (whose encoders escape C0 themselves) go
// through it too.
func EscapeJSONControls(b []byte, start int) []byte {
	if !hasRawControl(b[start:]) {
		return b
	}
	out := make([]byte, start, len(b)+32)
	copy(out, b[:start])
	for i := start; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(out, `\u007f`...)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if IsControl(r) {
			out = append(out, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// hasRawControl reports whether b holds DEL, a C1 control (C2 80-9F) or
// a bidi control (E2 80 AA-AE, E2 81 A6-A9), looking with IndexByte,
// since typographic quotes and dashes (E2 80 9x) are common.
func hasRawControl(b []byte) bool {
	if bytes.IndexByte(b, 0x7f) >= 0 {
		return true
	}
	for rest := b; ; {
		i := bytes.IndexByte(rest, 0xc2)
		if i < 0 || i+1 >= len(rest) {
			break
		}
		if rest[i+1] >= 0x80 && rest[i+1] <= 0x9f {
			return true
		}
		rest = rest[i+1:]
	}
	for rest := b; ; {
		i := bytes.IndexByte(rest, 0xe2)
		if i < 0 || i+2 >= len(rest) {
			return false
		}
		if c1, c2 := rest[i+1], rest[i+2]; c1 == 0x80 && c2 >= 0xaa && c2 <= 0xae || c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9 {
			return true
		}
		rest = rest[i+1:]
	}
}

// UnmarshalJSON decodes ninjs JSON. Unknown fields are ignored (ninjs has
// many optional fields wirestream does not carry); malformed JSON, invalid
// UTF-8, nesting deeper than DefaultLimits.JSONDepth (checked before
// decoding: anyone may publish JSON to a stage's subject) and wrongly
// typed known fields are errors wrapping ErrDecode.
func UnmarshalJSON(b []byte) (*Story, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrDecode)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrDecode)
	}
	if err := CheckJSONDepth(b, DefaultLimits.JSONDepth); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	s := new(Story)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return s, nil
}

// MarshalProto encodes the story in the binary form of story.proto.
func MarshalProto(s *Story) ([]byte, error) {
	return AppendProto(make([]byte, 0, s.size()), s), nil
}

// UnmarshalProto decodes the binary form. Strings in the result share one
// copy of b (b itself is not retained).
func UnmarshalProto(b []byte) (*Story, error) {
	s, err := decodeStory(b, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return s, nil
}

// UnmarshalProtoOwned is UnmarshalProto without the copy: the strings of
// the result are views into b, which the caller hands over and must never
// modify again (a NATS message's data, which the client allocates for each
// message, qualifies). It saves a copy and an allocation of the whole
// message per stage hop.
func UnmarshalProtoOwned(b []byte) (*Story, error) {
	s, err := decodeStory(b, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return s, nil
}

// Marshal encodes s in the given encoding.
func Marshal(e Encoding, s *Story) ([]byte, error) {
	switch e {
	case EncodingProto:
		return MarshalProto(s)
	case EncodingJSON, "":
		return MarshalJSON(s)
	}
	return nil, fmt.Errorf("proto: unknown encoding %q", e)
}

// Unmarshal decodes b in the given encoding.
func Unmarshal(e Encoding, b []byte) (*Story, error) {
	switch e {
	case EncodingProto:
		return UnmarshalProto(b)
	case EncodingJSON, "":
		return UnmarshalJSON(b)
	}
	return nil, fmt.Errorf("%w: unknown encoding %q", ErrDecode, e)
}
