//go:build !linux && !darwin && !windows

package policy

// DefaultStores returns the policy sources of this system: none is defined
// here, so only the defaults apply (and RequireEnrollment, on by default,
// cannot be met).
func DefaultStores() []Store { return nil }
