package ingest

import (
	"errors"
	"unicode/utf8"

	"github.com/wirestream/wirestream/proto"
)

// Reasons a raw story is rejected. Every rejection wraps one of these and is
// permanent (proto.IsPermanent reports true): the runtime dead-letters it.
var (
	ErrInvalidJSON   = errors.New("ingest: invalid JSON")
	ErrInvalidUTF8   = errors.New("ingest: invalid UTF-8")
	ErrEmptyBody     = errors.New("ingest: empty body")
	ErrTooLarge      = errors.New("ingest: story too large")
	ErrInvalidStory  = errors.New("ingest: invalid story")
	ErrUnknownFormat = errors.New("ingest: unknown format")
)

// Error is a rejected raw story: the reason, and where the input came from
// when known (a file and line, set by Split's caller or the Ws-Origin header).
type Error struct {
	Origin string // "file:line", or ""
	Err    error  // wraps one of the Err* reasons
}

// Error gives the origin and the reason, printable: the reason can quote
// the input (the JSON library puts raw bytes of it in its messages), so
// control characters are escaped (proto.Printable) and it is cut to
// maxReason bytes. It goes to terminals, HTTP answers and headers.
func (e *Error) Error() string {
	msg := e.Err.Error()
	if e.Origin != "" {
		msg = e.Origin + ": " + msg
	}
	return clip(proto.Printable(msg), maxReason)
}

// maxReason bounds the text of a rejection.
const maxReason = 512

// clip cuts s to at most n bytes on a rune boundary, marking the cut with
// an ellipsis, so that a reason can name a value without repeating all of
// it.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// brief is clip for identifiers named in a reason.
func brief(s string) string { return clip(s, 64) }

// Unwrap gives the reason and proto.ErrPermanent: retrying a rejected story
// cannot help, so the runtime dead-letters it at once.
func (e *Error) Unwrap() []error { return []error{e.Err, proto.ErrPermanent} }
