package ingest

import (
	"errors"
	"fmt"

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

func (e *Error) Error() string {
	if e.Origin == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.Origin, e.Err)
}

// Unwrap gives the reason and proto.ErrPermanent: retrying a rejected story
// cannot help, so the runtime dead-letters it at once.
func (e *Error) Unwrap() []error { return []error{e.Err, proto.ErrPermanent} }
