// Package assets holds the app and tray icons, drawn by gen.go and
// embedded so the binary needs no files beside it.
package assets

//go:generate go run gen.go

import _ "embed"

// Icon is the app icon (FyneApp.toml points at icon.png too).
//
//go:embed icon.png
var Icon []byte

// Tray icons, one per state the tray shows.
var (
	// TrayReady: AI access is allowed and nothing is happening.
	//go:embed tray-ready.png
	TrayReady []byte
	// TrayActive: a tool call in the last two seconds.
	//go:embed tray-active.png
	TrayActive []byte
	// TrayBlocked: AI access is stopped (kill switch, policy, device state).
	//go:embed tray-blocked.png
	TrayBlocked []byte
)
