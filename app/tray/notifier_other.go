//go:build !linux

package tray

import "context"

// NewDesktopNotifier is the fallback here: the toolkit's notifications on
// macOS and Windows report no clicks, and the tray menu is the way in.
func NewDesktopNotifier(_ context.Context, _ func(string) string, o DesktopNotifierOptions) (Notifier, error) {
	return o.Fallback, nil
}
