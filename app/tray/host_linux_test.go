package tray_test

import (
	"context"
	"os"
	"testing"

	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/app/tray/traytest"
)

// TestHostRunning asks a real session bus, with and without a tray host.
func TestHostRunning(t *testing.T) {
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no D-Bus session bus: run under packaging/with-keyring.sh")
		}
		t.Skip("no D-Bus session bus (run under packaging/with-keyring.sh or dbus-run-session)")
	}
	ctx := context.Background()
	env := func(addr string) func(string) string {
		return func(k string) string {
			if k == "DBUS_SESSION_BUS_ADDRESS" {
				return addr
			}
			return ""
		}
	}
	probe := func(addr string) (bool, error) { return tray.HostRunning(ctx, env(addr)) }

	if ok, err := probe(""); ok || err != nil {
		t.Errorf("without a bus: %v, %v; want false, nil", ok, err)
	}
	if ok, err := probe("unix:path=" + t.TempDir() + "/no-bus"); ok || err == nil {
		t.Errorf("with a bus that is not there: %v, %v; want false and an error", ok, err)
	}
	if ok, err := probe(bus); ok || err != nil {
		t.Errorf("a bus without a tray host: %v, %v; want false, nil", ok, err)
	}
	w := traytest.StartWatcher(t)
	if ok, err := probe(bus); !ok || err != nil {
		t.Errorf("a bus with a tray host: %v, %v; want true, nil", ok, err)
	}
	w.Stop()
	if ok, err := probe(bus); ok || err != nil {
		t.Errorf("after the tray host left: %v, %v; want false, nil", ok, err)
	}
}
