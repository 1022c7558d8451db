package tray

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// The desktop notification specification's names (org.freedesktop.Notifications).
const (
	notificationsName  = "org.freedesktop.Notifications"
	notificationsPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notificationsIface = "org.freedesktop.Notifications"
	// defaultAction is the action a click on the notification itself
	// invokes.
	defaultAction = "default"
	// signalBacklog bounds the signals waiting to be read; the server
	// sends two per notification.
	signalBacklog = 16
)

// notifyTimeout bounds one Notify call: a wedged notification server
// must not hold up the tray.
const notifyTimeout = 2 * time.Second

// DesktopNotifier shows notifications through the desktop's notification
// server on the session bus, asking for the default action, and runs a
// notification's onClick when the person clicks it: Fyne 2.7.1's
// SendNotification reports no clicks. When the server cannot be asked,
// the fallback shows the notification.
type DesktopNotifier struct {
	conn     *dbus.Conn
	appName  string
	entry    string
	do       func(func())
	fallback Notifier
	log      *slog.Logger

	mu     sync.Mutex
	clicks map[uint32]func() // by notification id, until it closes
}

// NewDesktopNotifier connects to the session bus of getenv's
// DBUS_SESSION_BUS_ADDRESS until ctx ends. It fails without a bus; a bus
// without a notification server is found out at the first Notify.
func NewDesktopNotifier(ctx context.Context, getenv func(string) string, o DesktopNotifierOptions) (Notifier, error) {
	addr := getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return nil, fmt.Errorf("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
	}
	// A private connection, closed when ctx ends: the toolkit's shared
	// one is not ours to close.
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("connecting to the D-Bus session bus: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, hostProbeTimeout)
	defer cancel()
	for _, member := range []string{"ActionInvoked", "NotificationClosed"} {
		if err := conn.AddMatchSignalContext(cctx, dbus.WithMatchInterface(notificationsIface), dbus.WithMatchMember(member),
			dbus.WithMatchObjectPath(notificationsPath)); err != nil {
			conn.Close()
			return nil, fmt.Errorf("asking the session bus for notification clicks: %w", err)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n := &DesktopNotifier{conn: conn, appName: o.AppName, entry: o.DesktopEntry, do: o.Do, fallback: o.Fallback,
		log: o.Logger, clicks: map[uint32]func(){}}
	signals := make(chan *dbus.Signal, signalBacklog)
	conn.Signal(signals)
	go n.follow(signals)
	return n, nil
}

// Notify implements Notifier.
func (n *DesktopNotifier) Notify(title, body string, onClick func()) {
	actions := []string{}
	if onClick != nil {
		// The label shows where the server draws a button for it.
		actions = []string{defaultAction, "Review"}
	}
	hints := map[string]dbus.Variant{}
	if n.entry != "" {
		hints["desktop-entry"] = dbus.MakeVariant(n.entry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
	defer cancel()
	// Ids are taken under the lock so that a click arriving before Notify
	// returns still finds its function.
	n.mu.Lock()
	defer n.mu.Unlock()
	var id uint32
	err := n.conn.Object(notificationsName, notificationsPath).CallWithContext(ctx, notificationsIface+".Notify", 0,
		n.appName, uint32(0), "", title, body, actions, hints, int32(-1)).Store(&id)
	if err != nil {
		n.log.Warn("the desktop's notification server did not take a notification; showing it without click", "err", err)
		if n.fallback != nil {
			n.fallback.Notify(title, body, nil)
		}
		return
	}
	if onClick != nil {
		n.clicks[id] = onClick
	}
}

// follow runs the onClick of each notification clicked, and forgets
// those closed.
func (n *DesktopNotifier) follow(signals <-chan *dbus.Signal) {
	for s := range signals {
		if s.Path != notificationsPath || len(s.Body) < 2 {
			continue
		}
		id, ok := s.Body[0].(uint32)
		if !ok {
			continue
		}
		switch s.Name {
		case notificationsIface + ".ActionInvoked":
			key, _ := s.Body[1].(string)
			n.mu.Lock()
			click := n.clicks[id]
			n.mu.Unlock()
			if click != nil && key == defaultAction {
				n.do(click)
			}
		case notificationsIface + ".NotificationClosed":
			n.mu.Lock()
			delete(n.clicks, id)
			n.mu.Unlock()
		}
	}
}
