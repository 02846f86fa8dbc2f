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
func MarshalJSON(s *Story) ([]byte, error) {
	return json.Marshal(s)
}

// AppendJSON appends the ninjs JSON form of s to b.
func AppendJSON(b []byte, s *Story) ([]byte, error) {
	return json.Append(b, s, json.EscapeHTML)
}

// UnmarshalJSON decodes ninjs JSON. Unknown fields are ignored (ninjs has
// many optional fields wirestream does not carry); malformed JSON, invalid
// UTF-8 and wrongly typed known fields are errors wrapping ErrDecode.
func UnmarshalJSON(b []byte) (*Story, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrDecode)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrDecode)
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
