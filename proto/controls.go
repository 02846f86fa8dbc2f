package proto

import (
	"strings"
	"unicode/utf8"
)

// IsControl reports the characters that must never reach a terminal, a
// header or an identifier from outside input: C0 controls (NUL, ESC, line
// breaks, ...), DEL, C1 controls (U+0080-U+009F; U+009B is an 8-bit CSI
// to some terminals), and the bidi embeddings, overrides and isolates
// (U+202A-U+202E, U+2066-U+2069), which make text display in another order
// than it is stored.
func IsControl(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r <= 0x9f:
		return true
	}
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069
}

// Printable returns s with every control character (IsControl) and every
// byte of invalid UTF-8 written as a Go escape (\x1b, \u202e, \xff), so
// that it can be printed or logged as it is; s itself when it needs none.
func Printable(s string) string {
	i := controlIndex(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i >= 0 {
		b.WriteString(s[:i])
		r, size := utf8.DecodeRuneInString(s[i:])
		b.Write(appendEscape(nil, r, s[i]))
		s = s[i+size:]
		i = controlIndex(s)
	}
	b.WriteString(s)
	return b.String()
}

// controlIndex is the byte index of the first control character or
// invalid UTF-8 in s, or -1.
func controlIndex(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || IsControl(r) {
			return i
		}
		i += size
	}
	return -1
}

const hexDigits = "0123456789abcdef"

// appendEscape appends the Go escape of r (first byte c when r is invalid).
func appendEscape(b []byte, r rune, c byte) []byte {
	switch {
	case r == utf8.RuneError, r < 0x80:
		if r != utf8.RuneError {
			c = byte(r)
		}
		return append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
	}
	return append(b, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}
