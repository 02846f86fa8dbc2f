package proto

import (
	"bytes"
	"fmt"
)

// CheckJSONDepth reports a JSON document nested deeper than max arrays
// and objects, looking at its tokens only (brackets outside strings), so
// that it can run on outside input before any decoding: decoders recurse
// once per level, and a few megabytes of "[[[[" cost a decoder hundreds of
// megabytes of stack or overflow it. It checks nesting only; the decoder
// still validates the rest.
func CheckJSONDepth(b []byte, max int) error {
	// A document with fewer opening brackets than max, anywhere, cannot be
	// nested deeper: most stories never need the scan.
	if bytes.Count(b, []byte{'['})+bytes.Count(b, []byte{'{'}) <= max {
		return nil
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i+1)
		case '[', '{':
			if depth++; depth > max {
				return fmt.Errorf("nesting deeper than %d", max)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the JSON string
// whose text starts at i (len(b) when it is not closed).
func stringEnd(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		q := i + j
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := q - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		i = q + 1
	}
}
