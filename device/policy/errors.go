package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid reports a policy source that exists and is admin-controlled but
// cannot be used: bad syntax, an unknown key, a value of the wrong type or
// out of range. Callers must fail closed on it. Errors that wrap it name the
// offending key where there is one, e.g.
//
//	policy key "MaxResultBytes" must be an integer, got string
var ErrInvalid = errors.New("invalid managed policy")

// ErrUntrusted reports a policy source that exists but is not controlled by
// an administrator (for example a policy file owned by a normal user). Its
// settings are ignored, and Load reports the source and reason in
// Snapshot.Ignored so the person can see why.
var ErrUntrusted = errors.New("managed policy source is not admin-controlled")

// invalidError is the error behind every ErrInvalid: its message is the plain
// problem (the sentinel's text is not repeated), and it unwraps to both
// ErrInvalid and the underlying cause, if any.
type invalidError struct {
	key     string // policy key at fault; "" when the problem is not one key's
	problem string
	cause   error
}

func (e *invalidError) Error() string {
	if e.key == "" {
		return e.problem
	}
	return fmt.Sprintf("policy key %q %s", e.key, e.problem)
}

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalid}
	}
	return []error{ErrInvalid, e.cause}
}

// keyErrorf returns an ErrInvalid naming key.
func keyErrorf(key, format string, args ...any) error {
	return &invalidError{key: key, problem: fmt.Sprintf(format, args...)}
}

// invalidf returns an ErrInvalid that is not about one key.
func invalidf(cause error, format string, args ...any) error {
	return &invalidError{problem: fmt.Sprintf(format, args...), cause: cause}
}

// untrustedError is the error behind every ErrUntrusted; its message is the
// reason alone, e.g. "owned by uid 1000".
type untrustedError struct{ reason string }

func (e *untrustedError) Error() string { return e.reason }
func (e *untrustedError) Unwrap() error { return ErrUntrusted }
