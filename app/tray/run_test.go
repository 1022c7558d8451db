package tray_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// notifyApp records notifications.
type notifyApp struct {
	fyne.App
	sent chan *fyne.Notification
}

func (a notifyApp) SendNotification(n *fyne.Notification) {
	select {
	case a.sent <- n:
	default:
	}
}

func labelsOf(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.Label)
	}
	return out
}

// click runs the menu item labelled label.
func click(t *testing.T, tr *tray.Tray, label string) {
	t.Helper()
	for _, it := range tr.Menu().Items {
		if it.Label == label {
			if it.Disabled {
				t.Fatalf("%q is disabled", label)
			}
			it.Action()
			return
		}
	}
	t.Fatalf("no %q in the menu %v", label, labelsOf(tr.Menu()))
}

// runTray runs a demo tray on svc until the test ends.
func runTray(t *testing.T, svc app.Service) (*tray.Tray, notifyApp) {
	t.Helper()
	a := notifyApp{App: test.NewTempApp(t), sent: make(chan *fyne.Notification, 16)}
	d := &app.Deps{App: a, Demo: true, StateDir: t.TempDir(), Service: svc, Keychain: keychain.NewMemory()}
	tr := tray.New(tray.Config{
		Deps: d,
		Open: func(string) {},
		// Long enough that a call's event, late on a loaded machine,
		// still finds the icon active; short enough to see it end.
		ActiveFor: time.Second,
		Spawn:     func(f func()) { f() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tray Run: %v", err)
		}
	})
	return tr, a
}

// TestRunFollowsServiceAndKillSwitch: sessions and calls of a real MCP
// session reach the tray through the service's events; Stop all AI access
// stops it at once; Resume needs the account password, and a wrong one is
// refused with the service's sentence and may be retried.
func TestRunFollowsServiceAndKillSwitch(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	tr, a := runTray(t, svc.Client)
	apptest.Eventually(t, "initial status", func() bool { return tr.Status().Service.Service.Mode != "" })
	if tr.Status().Icon() != tray.IconReady {
		t.Fatalf("status %+v", tr.Status())
	}

	cs := svc.OpenDemoSession(t, "claude-ai")
	apptest.Eventually(t, "one live session", func() bool { return tr.Status().Sessions() == 1 })
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, "active icon", func() bool { return tr.Status().Active })
	apptest.Eventually(t, "back to ready", func() bool { return !tr.Status().Active && tr.Status().Icon() == tray.IconReady })

	click(t, tr, "Stop all AI access")
	apptest.Eventually(t, "killed", func() bool { return svc.MustStatus(t).Killed })
	apptest.Eventually(t, "blocked", func() bool { return tr.Status().Icon() == tray.IconBlocked && tr.Status().Sessions() == 0 })
	if got := labelsOf(tr.Menu()); !slices.Contains(got, "Resume AI access") || slices.Contains(got, "Stop all AI access") {
		t.Errorf("menu while killed = %v", got)
	}

	// Resume asks for the password in a window of its own.
	click(t, tr, "Resume AI access")
	w := apptest.Window(a, tray.ResumeTitle)
	if w == nil {
		t.Fatal("Resume AI access showed no password window")
	}
	entry := apptest.PasswordEntry(w.Content())
	if entry == nil {
		t.Fatal("no masked password entry")
	}
	test.Type(entry, "wrong")
	test.Tap(apptest.Button(w.Content(), "Resume AI access"))
	if !svc.MustStatus(t).Killed {
		t.Fatal("a wrong password resumed AI access")
	}
	if apptest.Window(a, tray.ResumeTitle) == nil {
		t.Fatal("the password window closed after a wrong password")
	}
	if text := strings.Join(apptest.Texts(w.Content()), "\n"); !strings.Contains(text, "That is not the password of the account") {
		t.Errorf("the window does not say the password was wrong:\n%s", text)
	}
	if entry.Text != "" {
		t.Error("the wrong password is still in the entry")
	}
	// A second click brings the same window forward.
	click(t, tr, "Resume AI access")
	n := 0
	for _, x := range a.Driver().AllWindows() {
		if x.Title() == tray.ResumeTitle {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d password windows", n)
	}
	test.Type(entry, apptest.Password)
	entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter submits
	if svc.MustStatus(t).Killed {
		t.Fatal("the right password did not resume AI access")
	}
	if apptest.Window(a, tray.ResumeTitle) != nil {
		t.Error("the password window stayed open")
	}
	apptest.Eventually(t, "ready again", func() bool { return slices.Contains(labelsOf(tr.Menu()), "Stop all AI access") })
}

// TestResumeUserDemo: the account's demo instance asks no password.
func TestResumeUserDemo(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{Mode: localapi.ModeUserDemo})
	tr, a := runTray(t, svc.Client)
	apptest.Eventually(t, "initial status", func() bool { return tr.Status().UserDemo() })
	click(t, tr, "Stop all AI access")
	apptest.Eventually(t, "blocked", func() bool { return slices.Contains(labelsOf(tr.Menu()), "Resume AI access") })
	click(t, tr, "Resume AI access")
	apptest.Eventually(t, "resumed", func() bool { return !svc.MustStatus(t).Killed })
	if apptest.Window(a, tray.ResumeTitle) != nil {
		t.Error("the demo instance's tray asked for a password")
	}
	apptest.Eventually(t, "ready again", func() bool { return tr.Status().Icon() == tray.IconReady })
}

// TestServiceRestart: while the service is gone the tray says so; when it
// is back, the tray reconnects by itself.
func TestServiceRestart(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	tr, _ := runTray(t, svc.Client)
	apptest.Eventually(t, "initial status", func() bool { return tr.Status().Icon() == tray.IconReady })
	svc.Stop(t)
	apptest.Eventually(t, "not running", func() bool { return tr.Status().Unavailable != "" })
	if got := labelsOf(tr.Menu()); !slices.Contains(got, "Scispot MCP service not running") {
		t.Errorf("menu without a service = %v", got)
	}
	if !strings.Contains(tr.Status().Refusal(), "not running") || tr.Status().Icon() != tray.IconBlocked {
		t.Errorf("status without a service: %+v", tr.Status())
	}
	again := apptest.NewService(t, apptest.ServiceOptions{Socket: svc.Socket})
	apptest.Eventually(t, "reconnected", func() bool { return tr.Status().Unavailable == "" && tr.Status().Icon() == tray.IconReady })
	cs := again.OpenDemoSession(t, "cursor-vscode")
	_ = cs
	apptest.Eventually(t, "events after the restart", func() bool { return tr.Status().Sessions() == 1 })
}
