package tray

// Available reports whether a system tray can exist: on Linux and the
// BSDs the tray (StatusNotifierItem) and notifications need a D-Bus session
// bus, and without one Fyne 2.7.1 fails (and can panic on quit) when a tray
// is set. macOS and Windows always have one. Whether the desktop shows
// the icon is HostRunning's question.
func Available(getenv func(string) string, goos string) bool {
	switch goos {
	case "darwin", "windows":
		return true
	default:
		return getenv("DBUS_SESSION_BUS_ADDRESS") != ""
	}
}
