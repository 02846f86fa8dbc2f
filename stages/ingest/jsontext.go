package ingest

import (
	"bytes"
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"
)

// jsonText is a JSON string field decoded by unquoteJSON instead of the
// JSON library. segmentio/encoding/json re-encodes every escaped string
// rune by rune to coerce invalid UTF-8; that was about 24 µs of a 6 KB
// story's ingest (a wire body has escaped newlines and quotes, so it always
// takes that path). Parse checks the whole input is valid UTF-8 first, so
// the runs between escapes can be copied as they are.
type jsonText string

// UnmarshalJSON implements json.Unmarshaler.
func (t *jsonText) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, err := unquoteJSON(b)
	if err != nil {
		return err
	}
	*t = jsonText(s)
	return nil
}

var errJSONString = errors.New("invalid JSON string")

// unquoteJSON decodes one JSON string token, quotes included, into its
// text, with the JSON library's handling of \u escapes: a surrogate pair
// is one rune; a lone or invalid surrogate becomes U+FFFD. Input bytes
// outside escapes are copied unchanged (the caller guarantees valid UTF-8).
func unquoteJSON(b []byte) (string, error) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", errJSONString
	}
	s := b[1 : len(b)-1]
	i := bytes.IndexByte(s, '\\')
	if i < 0 {
		return string(s), nil
	}
	// A strings.Builder hands its buffer over as the string: one allocation.
	var r strings.Builder
	r.Grow(len(s))
	for {
		r.Write(s[:i])
		s = s[i+1:]
		if len(s) == 0 {
			return "", errJSONString
		}
		c := s[0]
		s = s[1:]
		switch c {
		case '"', '\\', '/':
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'u':
			r1, ok := hex4(s)
			if !ok {
				return "", errJSONString
			}
			s = s[4:]
			if utf16.IsSurrogate(r1) {
				if len(s) < 2 || s[0] != '\\' || s[1] != 'u' {
					r1 = unicode.ReplacementChar
				} else {
					r2, ok := hex4(s[2:])
					if !ok {
						return "", errJSONString
					}
					if r1 = utf16.DecodeRune(r1, r2); r1 != unicode.ReplacementChar {
						s = s[6:]
					}
				}
			}
			r.WriteRune(r1)
			goto next
		default:
			return "", errJSONString
		}
		r.WriteByte(c)
	next:
		if i = bytes.IndexByte(s, '\\'); i < 0 {
			r.Write(s)
			return r.String(), nil
		}
	}
}

// hex4 reads four hex digits.
func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var v rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
