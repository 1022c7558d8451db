//go:build !linux

package tray

import "context"

// HostRunning reports whether the desktop shows tray icons now. macOS and
// Windows always do; on the BSDs the toolkit's tray needs a session bus,
// which Available checks.
func HostRunning(ctx context.Context, getenv func(string) string) (bool, error) {
	return true, nil
}
