//go:build !darwin && !windows

package codesign

import "context"

// signer: Linux and the BSDs have no code signatures on executables (IMA
// and fs-verity exist, but not as a signer an admin could name).
func signer(context.Context, string) (string, error) { return "", nil }
