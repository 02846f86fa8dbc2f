package proto

import "fmt"

// Output formats of Render.
const (
	FormatNinjs1 = "ninjs1"
)

// RenderFormats lists the formats Render knows, the default first.
var RenderFormats = []string{FormatNinjs1}

// Render appends s to dst as JSON in format: ninjs1 is the pipeline's own
// ninjs 1.x JSON (AppendJSON).
func Render(dst []byte, s *Story, format string) ([]byte, error) {
	switch format {
	case FormatNinjs1, "":
		return AppendJSON(dst, s)
	}
	return dst, fmt.Errorf("%w: output format %q: one of %v", ErrInvalidStory, format, RenderFormats)
}
