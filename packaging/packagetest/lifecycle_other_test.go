//go:build !linux

package packagetest

import (
	"context"
	"testing"
)

// checkDebLifecycle installs the .deb, which only a Linux machine can.
func checkDebLifecycle(_ context.Context, t *testing.T, _ string) {
	t.Skip("the .deb installs only on Linux")
}
