package tray_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

// notifyApp records notifications.
type notifyApp struct {
	fyne.App
	sent chan *fyne.Notification
}

func (a notifyApp) SendNotification(n *fyne.Notification) { a.sent <- n }

// eventually waits for cond, which the tray's goroutines make true.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func labelsOf(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.Label)
	}
	return out
}

func TestRunFollowsFeedAndKillSwitch(t *testing.T) {
	state := t.TempDir()
	auditDir := statedir.AuditDir(state)
	a := notifyApp{App: test.NewTempApp(t), sent: make(chan *fyne.Notification, 8)}
	d := &app.Deps{
		App:      a,
		Demo:     true,
		StateDir: state,
		Sources:  access.Sources{ControlFile: statedir.ControlFile(state)},
		Feed:     audit.NewFeed(auditDir, audit.FeedOptions{}),
	}
	kills := make(chan bool, 4)
	tr := tray.New(tray.Config{
		Deps:      d,
		Open:      func(string) {},
		SetKill:   func(_ context.Context, kill bool) error { kills <- kill; return nil },
		ActiveFor: 20 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(t.Context())
	feedDone, trayDone := make(chan error, 1), make(chan error, 1)
	go func() { feedDone <- d.Feed.Run(ctx) }()
	go func() { trayDone <- tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-trayDone; err != nil {
			t.Errorf("tray Run: %v", err)
		}
		<-feedDone
	})
	<-d.Feed.Ready()
	eventually(t, "initial status", func() bool { return slices.Contains(labelsOf(tr.Menu()), "Stop all AI access") })

	// The menu's kill item calls SetKill.
	for _, it := range tr.Menu().Items {
		if it.Label == "Stop all AI access" {
			it.Action()
		}
	}
	if got := <-kills; !got {
		t.Error("Stop all AI access called SetKill(false)")
	}

	// A call makes the icon active; it goes back to ready by itself.
	w, err := audit.Open(auditDir, audit.SessionInfo{Client: audit.Client{Name: "claude-ai"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(ctx, audit.Record{Event: audit.EventSessionStart}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(ctx, audit.Record{Event: audit.EventToolCall, Tool: "list_labsheets", Outcome: audit.OutcomeOK,
		Args: json.RawMessage(`{}`), Flags: []string{audit.FlagInjectionSuspect}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "active icon", func() bool { return tr.Status().Active })
	eventually(t, "one live session", func() bool { return tr.Status().Sessions == 1 })
	eventually(t, "back to ready", func() bool { return !tr.Status().Active && tr.Status().Icon() == tray.IconReady })
	if n := <-a.sent; n.Title != "Possible prompt injection" {
		t.Errorf("notification = %q", n.Title)
	}

	// The kill switch file changing (from the CLI, say) turns the tray red
	// and the menu item into Resume.
	if err := control.Update(statedir.ControlFile(state), func(s *control.State) error {
		s.Kill("", "alice", control.SourceCLI, time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "blocked", func() bool { return tr.Status().Icon() == tray.IconBlocked })
	if got := labelsOf(tr.Menu()); !slices.Contains(got, "Resume AI access") || slices.Contains(got, "Stop all AI access") {
		t.Errorf("menu while killed = %v", got)
	}
	for _, it := range tr.Menu().Items {
		if it.Label == "Resume AI access" {
			it.Action()
		}
	}
	if got := <-kills; got {
		t.Error("Resume AI access called SetKill(true)")
	}
}
