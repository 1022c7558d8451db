package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid reports a policy source that cannot be used: bad syntax, an
// unknown key, a value of the wrong type or out of range, or a source that
// is not admin-controlled (those errors also wrap ErrUntrusted). Callers
// must fail closed on it. Errors that wrap it name the offending key where
// there is one, e.g.
//
//	policy key "MaxResultBytes" must be an integer, got string
var ErrInvalid = errors.New("invalid managed policy")

// ErrUntrusted reports a policy source that is not controlled by an
// administrator alone: a policy file owned by a normal user, writable by
// other accounts or a symbolic link, or in a folder that is (see
// FileStore). Such a source makes the whole policy invalid: its errors also
// wrap ErrInvalid, and Load sets Snapshot.Err, so callers fail closed.
// Ignoring it instead would let the user drop the admin's settings (denied
// tools, allowed clients, budgets) by breaking the file.
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

// untrustedError is the error behind every ErrUntrusted. Its message names
// the file or folder and the problem, and says what the rule is, e.g.
//
//	/etc/scispot-mcp/policy.json belongs to uid 1000, not root; the policy
//	file and every folder above it must belong to root and be writable by
//	root only
type untrustedError struct {
	what    string // the policy file, or "the folder X above <file>"
	problem string // e.g. "is writable by other accounts (mode 0666)"
}

func (e *untrustedError) Error() string {
	return e.what + " " + e.problem +
		"; the policy file and every folder above it must belong to root and be writable by root only"
}

func (e *untrustedError) Unwrap() []error { return []error{ErrUntrusted, ErrInvalid} }
