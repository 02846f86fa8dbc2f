package proto

import "errors"

// ErrPermanent marks a failure that retrying cannot mend (malformed input,
// a story that breaks the contract). The runtime dead-letters such input at
// once instead of retrying it. Stages mark errors with Permanent.
var ErrPermanent = errors.New("permanent")

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// Permanent marks err as permanent (see ErrPermanent). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return permanentError{err}
}

// IsPermanent reports whether err is permanent: marked with Permanent, or a
// decoding or validation error of this package.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent) || errors.Is(err, ErrDecode) || errors.Is(err, ErrInvalidStory) || errors.Is(err, ErrInvalidTime)
}
