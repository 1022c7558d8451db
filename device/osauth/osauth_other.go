//go:build !windows && !((linux || darwin) && cgo)

package osauth

import "context"

// Without cgo there is no PAM, and on other systems no way is built in:
// every check fails with ErrUnsupported, so whatever needs the person's
// password stays refused.
const supported = false

const maxInflight = 1

func checkPassword(context.Context, string, string, Options) error {
	return ErrUnsupported
}
