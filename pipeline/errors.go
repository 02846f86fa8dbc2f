package pipeline

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
)

// Sentinel errors of the runtime.
var (
	// ErrConfig wraps every configuration error; the message names the field.
	ErrConfig = errors.New("pipeline: invalid config")
	// ErrIncompatible is returned when a stream or consumer exists with a
	// configuration that differs from the one this binary needs.
	ErrIncompatible = errors.New("pipeline: incompatible existing config")
	// ErrPanic wraps a panic recovered from a stage.
	ErrPanic = errors.New("pipeline: stage panicked")
)

// recoverError turns a recovered panic value into an error carrying the
// first lines of the stack.
func recoverError(v any) error {
	stack := string(debug.Stack())
	lines := strings.SplitN(stack, "\n", 12)
	if len(lines) > 11 {
		lines = lines[:11]
	}
	return fmt.Errorf("%w: %v\n%s", ErrPanic, v, strings.Join(lines, "\n"))
}

// oneLine makes an error text fit a header value.
func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 1024 {
		s = s[:1024]
	}
	return s
}
