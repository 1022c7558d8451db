// Package traytest stands in for the desktop's tray host in tests: a
// minimal StatusNotifierWatcher on a real D-Bus session bus, which is what
// KDE, most panels and GNOME's AppIndicator extension provide. With it a
// test can see the tray app register its icon, read the icon's menu and
// click its items, over the same D-Bus calls a panel makes.
package traytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// WatcherName and the watcher's object, as the StatusNotifierItem
// specification names them.
const (
	WatcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = "/StatusNotifierWatcher"
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
	propertyGet  = "org.freedesktop.DBus.Properties.Get"
	defaultItem  = "/StatusNotifierItem"
	layoutMethod = menuIface + ".GetLayout"
)

// Item is a registered tray icon: the bus name of the process that owns
// it and its object path.
type Item struct {
	Sender string
	Path   dbus.ObjectPath
}

// Watcher is a StatusNotifierWatcher on the session bus of
// DBUS_SESSION_BUS_ADDRESS.
type Watcher struct {
	conn *dbus.Conn

	mu         sync.Mutex
	items      []Item
	registered chan struct{} // closed at the first registration
	stopOnce   sync.Once
}

// StartWatcher owns WatcherName on the session bus until the test ends
// or Stop. It fails the test when there is no bus or the name is taken.
func StartWatcher(t testing.TB) *Watcher {
	t.Helper()
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		t.Fatal("traytest: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("traytest: connecting to the session bus: %v", err)
	}
	w := &Watcher{conn: conn, registered: make(chan struct{})}
	if err := conn.Export(watcherObject{w}, watcherPath, WatcherName); err != nil {
		conn.Close()
		t.Fatalf("traytest: exporting the watcher: %v", err)
	}
	reply, err := conn.RequestName(WatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		t.Fatalf("traytest: owning %s: reply %v, %v", WatcherName, reply, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// Stop gives up the name: the desktop has no tray host any more.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() {
		_, _ = w.conn.ReleaseName(WatcherName)
		w.conn.Close()
	})
}

// WaitItem returns the first registered tray icon.
func (w *Watcher) WaitItem(ctx context.Context) (Item, error) {
	select {
	case <-w.registered:
	case <-ctx.Done():
		return Item{}, fmt.Errorf("no tray icon registered: %w", ctx.Err())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.items[0], nil
}

// MenuItem is one entry of a tray icon's menu.
type MenuItem struct {
	ID      int32
	Label   string
	Enabled bool
}

// Menu reads the icon's menu as a panel does: the item's Menu property,
// then the menu's layout. Separators are left out.
func (w *Watcher) Menu(ctx context.Context, it Item) ([]MenuItem, error) {
	path, err := w.menuPath(ctx, it)
	if err != nil {
		return nil, err
	}
	var (
		revision uint32
		root     layout
	)
	call := w.conn.Object(it.Sender, path).CallWithContext(ctx, layoutMethod, 0, int32(0), int32(-1), []string{})
	if err := call.Store(&revision, &root); err != nil {
		return nil, fmt.Errorf("reading the tray menu: %w", err)
	}
	var out []MenuItem
	for _, c := range root.Children {
		fields, ok := c.Value().([]any)
		if !ok || len(fields) < 2 {
			return nil, fmt.Errorf("tray menu entry of type %T", c.Value())
		}
		id, _ := fields[0].(int32)
		props, _ := fields[1].(map[string]dbus.Variant)
		if t, ok := props["type"]; ok && t.Value() == "separator" {
			continue
		}
		m := MenuItem{ID: id, Enabled: true}
		if l, ok := props["label"]; ok {
			m.Label, _ = l.Value().(string)
		}
		if e, ok := props["enabled"]; ok {
			m.Enabled, _ = e.Value().(bool)
		}
		out = append(out, m)
	}
	return out, nil
}

// Click sends the "clicked" event for the menu entry labelled label.
func (w *Watcher) Click(ctx context.Context, it Item, label string) error {
	menu, err := w.Menu(ctx, it)
	if err != nil {
		return err
	}
	for _, m := range menu {
		if m.Label != label {
			continue
		}
		path, err := w.menuPath(ctx, it)
		if err != nil {
			return err
		}
		return w.conn.Object(it.Sender, path).CallWithContext(ctx, menuIface+".Event", 0,
			m.ID, "clicked", dbus.MakeVariant(""), uint32(0)).Err
	}
	return fmt.Errorf("the tray menu has no %q", label)
}

func (w *Watcher) menuPath(ctx context.Context, it Item) (dbus.ObjectPath, error) {
	var v dbus.Variant
	if err := w.conn.Object(it.Sender, it.Path).CallWithContext(ctx, propertyGet, 0, itemIface, "Menu").Store(&v); err != nil {
		return "", fmt.Errorf("reading the tray icon's Menu property: %w", err)
	}
	path, ok := v.Value().(dbus.ObjectPath)
	if !ok || !path.IsValid() {
		return "", errors.New("the tray icon names no menu")
	}
	return path, nil
}

// layout is com.canonical.dbusmenu's (ia{sv}av) menu node.
type layout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// watcherObject holds the exported methods. Only what a tray app calls is
// here; godbus answers anything else with UnknownMethod.
type watcherObject struct{ w *Watcher }

// RegisterStatusNotifierItem takes an object path (what fyne's systray
// sends) or a bus name (the specification's other form).
func (o watcherObject) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	it := Item{Sender: string(sender), Path: defaultItem}
	if p := dbus.ObjectPath(service); len(service) > 0 && service[0] == '/' && p.IsValid() {
		it.Path = p
	} else if service != "" {
		it.Sender = service
	}
	o.w.mu.Lock()
	defer o.w.mu.Unlock()
	o.w.items = append(o.w.items, it)
	if len(o.w.items) == 1 {
		close(o.w.registered)
	}
	return nil
}

func (o watcherObject) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }
