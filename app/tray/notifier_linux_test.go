package tray_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/app/tray/traytest"
)

// recorder is a Notifier that keeps what it is asked to show.
type recorder struct {
	mu    sync.Mutex
	notes []shownNote
	more  chan struct{}
}

type shownNote struct {
	title, body string
	click       func()
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 64)} }

func (r *recorder) Notify(title, body string, onClick func()) {
	r.mu.Lock()
	r.notes = append(r.notes, shownNote{title, body, onClick})
	r.mu.Unlock()
	r.more <- struct{}{}
}

func (r *recorder) shown() []shownNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]shownNote(nil), r.notes...)
}

func sessionBus(t *testing.T) string {
	t.Helper()
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no D-Bus session bus: run under packaging/with-keyring.sh")
		}
		t.Skip("no D-Bus session bus (run under packaging/with-keyring.sh or dbus-run-session)")
	}
	return bus
}

// TestDesktopNotifier talks to a notification server on a real session
// bus: a click on a notification that asked for one runs its function on
// the UI goroutine, once; without a server, or after the tray's context
// ended, the fallback shows it.
func TestDesktopNotifier(t *testing.T) {
	bus := sessionBus(t)
	getenv := func(k string) string {
		if k == "DBUS_SESSION_BUS_ADDRESS" {
			return bus
		}
		return ""
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fallback := newRecorder()
	clicked := make(chan string, 4)
	var onUI []string
	var mu sync.Mutex
	do := func(f func()) {
		mu.Lock()
		onUI = append(onUI, "do")
		mu.Unlock()
		f()
	}
	n, err := tray.NewDesktopNotifier(ctx, getenv, tray.DesktopNotifierOptions{AppName: "Scispot MCP", DesktopEntry: "io.scispot.mcp", Do: do, Fallback: fallback})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tray.NewDesktopNotifier(ctx, func(string) string { return "" }, tray.DesktopNotifierOptions{}); err == nil {
		t.Error("a notifier without a session bus")
	}

	// No notification server yet.
	n.Notify("first", "no server", func() { clicked <- "first" })
	if got := fallback.shown(); len(got) != 1 || got[0].title != "first" {
		t.Fatalf("without a server the fallback showed %+v", got)
	}

	srv := traytest.StartNotifications(t)
	wait, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	n.Notify("Scispot changed a tool", "get_experiment is withheld", func() { clicked <- "tool" })
	n.Notify("plain", "no click", nil)
	sent, err := srv.Wait(wait, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s := sent[0]; s.AppName != "Scispot MCP" || s.Title != "Scispot changed a tool" || s.Body != "get_experiment is withheld" ||
		!slices.Equal(s.Actions, []string{"default", "Review"}) || s.Hints["desktop-entry"].Value() != "io.scispot.mcp" {
		t.Fatalf("sent %+v", s)
	}
	if len(sent[1].Actions) != 0 {
		t.Fatalf("a notification without a click asked for actions %v", sent[1].Actions)
	}
	// Another action, and a notification that asked for none, do nothing.
	if err := srv.Click(sent[1].ID, "default"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Click(sent[0].ID, "default"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-clicked:
		if got != "tool" {
			t.Fatalf("the click ran %q", got)
		}
	case <-wait.Done():
		t.Fatal("the click on the notification ran nothing")
	}
	mu.Lock()
	if len(onUI) != 1 {
		t.Errorf("the click went through Do %d times", len(onUI))
	}
	mu.Unlock()
	// Closed: a second click (a server replaying it) runs nothing.
	if err := srv.Click(sent[0].ID, "default"); err != nil {
		t.Fatal(err)
	}

	cancel()
	n.Notify("after", "the tray ended", nil)
	if got := fallback.shown(); len(got) != 2 || got[1].title != "after" {
		t.Fatalf("after the end the fallback showed %+v", got)
	}
	select {
	case got := <-clicked:
		t.Fatalf("a stray click ran %q", got)
	default:
	}
}
