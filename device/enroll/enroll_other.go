//go:build !linux && !darwin && !windows

package enroll

func platformDefaults(*Options) {}

// platformProbes has no signal to offer here: Check reports enrollment as
// not confirmed, wrapping errors.ErrUnsupported.
func platformProbes(*Options) []probe { return nil }
