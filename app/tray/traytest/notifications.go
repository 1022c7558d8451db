package traytest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// The desktop notification server's names, as the Desktop Notifications
// specification gives them.
const (
	NotificationsName  = "org.freedesktop.Notifications"
	notificationsPath  = "/org/freedesktop/Notifications"
	notificationsIface = "org.freedesktop.Notifications"
)

// Notification is one notification a program sent.
type Notification struct {
	ID                   uint32
	AppName, Title, Body string
	// Actions are the action keys asked for ("default" is a click on the
	// notification itself).
	Actions []string
	Hints   map[string]dbus.Variant
}

// Notifications is a desktop notification server on the session bus of
// DBUS_SESSION_BUS_ADDRESS, which the desktop (GNOME Shell, Plasma, dunst,
// mako…) provides: it keeps what it is sent and clicks on request.
type Notifications struct {
	conn *dbus.Conn

	mu   sync.Mutex
	sent []Notification
	more chan struct{} // closed and replaced at each notification
	stop sync.Once
}

// StartNotifications owns NotificationsName until the test ends or Stop.
func StartNotifications(t testing.TB) *Notifications {
	t.Helper()
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		t.Fatal("traytest: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("traytest: connecting to the session bus: %v", err)
	}
	n := &Notifications{conn: conn, more: make(chan struct{})}
	if err := conn.Export(notificationsObject{n}, notificationsPath, notificationsIface); err != nil {
		conn.Close()
		t.Fatalf("traytest: exporting the notification server: %v", err)
	}
	reply, err := conn.RequestName(NotificationsName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		t.Fatalf("traytest: owning %s: reply %v, %v", NotificationsName, reply, err)
	}
	t.Cleanup(n.Stop)
	return n
}

// Stop gives up the name: the desktop has no notification server any
// more.
func (n *Notifications) Stop() {
	n.stop.Do(func() {
		_, _ = n.conn.ReleaseName(NotificationsName)
		n.conn.Close()
	})
}

// Sent are the notifications received so far.
func (n *Notifications) Sent() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.sent...)
}

// Wait returns the notifications once there are at least count.
func (n *Notifications) Wait(ctx context.Context, count int) ([]Notification, error) {
	for {
		n.mu.Lock()
		sent, more := append([]Notification(nil), n.sent...), n.more
		n.mu.Unlock()
		if len(sent) >= count {
			return sent, nil
		}
		select {
		case <-more:
		case <-ctx.Done():
			return sent, fmt.Errorf("%d notifications, not %d: %w", len(sent), count, ctx.Err())
		}
	}
}

// Click invokes the notification's action key ("default": the person
// clicked the notification), then closes it, as a server does.
func (n *Notifications) Click(id uint32, key string) error {
	if err := n.conn.Emit(notificationsPath, notificationsIface+".ActionInvoked", id, key); err != nil {
		return fmt.Errorf("traytest: ActionInvoked: %w", err)
	}
	// Reason 2: dismissed by the user.
	if err := n.conn.Emit(notificationsPath, notificationsIface+".NotificationClosed", id, uint32(2)); err != nil {
		return fmt.Errorf("traytest: NotificationClosed: %w", err)
	}
	return nil
}

// notificationsObject holds the exported methods.
type notificationsObject struct{ n *Notifications }

func (o notificationsObject) Notify(appName string, replaces uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	n := o.n
	n.mu.Lock()
	defer n.mu.Unlock()
	id := uint32(len(n.sent) + 1)
	n.sent = append(n.sent, Notification{ID: id, AppName: appName, Title: summary, Body: body, Actions: actions, Hints: hints})
	close(n.more)
	n.more = make(chan struct{})
	return id, nil
}

func (o notificationsObject) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"actions", "body"}, nil
}

func (o notificationsObject) GetServerInformation() (name, vendor, version, spec string, err *dbus.Error) {
	return "traytest", "scispot", "1", "1.2", nil
}

func (o notificationsObject) CloseNotification(id uint32) *dbus.Error {
	if err := o.n.conn.Emit(notificationsPath, notificationsIface+".NotificationClosed", id, uint32(3)); err != nil {
		return dbus.MakeFailedError(err)
	}
	return nil
}
