package tray

import (
	"context"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"
)

// WatcherName is the D-Bus name of the StatusNotifierWatcher: the desktop
// service that tray icons register with, provided by KDE Plasma, most
// panels, and on GNOME only by the AppIndicator extension.
const WatcherName = "org.kde.StatusNotifierWatcher"

// hostProbeTimeout bounds the question to the session bus: start-up must
// not hang on a wedged bus.
const hostProbeTimeout = 2 * time.Second

// HostRunning reports whether the desktop shows tray icons now: whether
// something owns WatcherName on the session bus. Without it (vanilla GNOME,
// a bare X session) the toolkit's tray icon is never shown and an app that
// lives in the tray would run invisibly. getenv supplies
// DBUS_SESSION_BUS_ADDRESS; without one there is no host. The error says
// why the bus could not be asked.
func HostRunning(ctx context.Context, getenv func(string) string) (bool, error) {
	addr := getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, hostProbeTimeout)
	defer cancel()
	// Connect, not SessionBus: a private connection the toolkit's own
	// shared one never sees closed, and never an autolaunched bus.
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return false, fmt.Errorf("connecting to the D-Bus session bus: %w", err)
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, WatcherName).Store(&owned); err != nil {
		return false, fmt.Errorf("asking the D-Bus session bus for a tray host: %w", err)
	}
	return owned, nil
}
