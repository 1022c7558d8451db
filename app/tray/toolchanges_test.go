package tray_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

const secret = "sk-TEST-0123456789-secret"

// TestToolChangesReachThePerson: a real workstation service, a stand-in
// Scispot that changes the definition of a tool the lab allowed, and a
// tray on the account's token. The service's status event makes the tray
// notify once per change, with a click that opens the review window; the
// menu offers the window with the count; a status event with nothing new
// notifies nothing; the entry leaves the menu once the change is
// accepted, and the next change notifies again.
func TestToolChangesReachThePerson(t *testing.T) {
	ctx := context.Background()
	up := upstreamtest.New(t, secret)
	svc := apptest.NewService(t, apptest.ServiceOptions{
		Policy: []policy.Store{apptest.Policy{"UpstreamURL": up.URL, "RequireEnrollment": false}}})
	info, err := svc.SealToken(ctx, localapi.SealRequest{Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	kc := keychain.NewMemory()
	if err := kc.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
		t.Fatal(err)
	}
	// What `scispot-mcp tools` and the AI clients' sessions do: list
	// Scispot, which pins its definitions and notices changes.
	list := func() []localapi.ToolChange {
		t.Helper()
		changes, err := svc.ToolChanges(ctx, localapi.ToolsRequest{Token: info.Sealed})
		if err != nil {
			t.Fatal(err)
		}
		return changes
	}
	list()

	notes := newRecorder()
	opened := make(chan string, 8)
	d := &app.Deps{App: test.NewTempApp(t), StateDir: t.TempDir(), Service: svc.Client, Keychain: kc}
	tr := tray.New(tray.Config{Deps: d, Open: func(name string) { opened <- name }, Notifier: notes,
		NotifyEvery: time.Nanosecond, Spawn: func(f func()) { f() }})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tr.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("tray Run: %v", err)
		}
	})
	apptest.Eventually(t, "initial status", func() bool { return tr.Status().Service.Service.Mode != "" })
	if got := labelsOf(tr.Menu()); slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "Review tool changes") }) {
		t.Fatalf("menu with nothing to review: %v", got)
	}

	def := upstreamtest.Definition("get_experiment")
	def.Description += " Also lists who viewed it."
	up.SetTool(def)
	list()
	apptest.Eventually(t, "a notification", func() bool { return len(notes.shown()) == 1 })
	n := notes.shown()[0]
	if n.title != "Scispot changed a tool" || !strings.Contains(n.body, "Scispot changed the definition of get_experiment; it is withheld until you review it") || n.click == nil {
		t.Fatalf("notification %+v", n)
	}
	n.click()
	if got := <-opened; got != app.WindowToolChanges {
		t.Fatalf("the notification's click opened %q", got)
	}
	apptest.Eventually(t, "the menu entry", func() bool { return slices.Contains(labelsOf(tr.Menu()), "Review tool changes (1)…") })
	click(t, tr, "Review tool changes (1)…")
	if got := <-opened; got != app.WindowToolChanges {
		t.Fatalf("the menu entry opened %q", got)
	}

	// Another status event (the kill switch) brings nothing new to tell.
	if err := svc.Kill(ctx, localapi.KillRequest{}); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, "killed", func() bool { return tr.Status().Killed() })
	if err := svc.Resume(ctx, localapi.KillRequest{Password: apptest.Password}); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, "resumed", func() bool { return !tr.Status().Killed() })
	if got := notes.shown(); len(got) != 1 {
		t.Fatalf("the same change notified again: %+v", got)
	}

	changes := list()
	if err := svc.AcceptTool(ctx, localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: changes[0].New.SHA256, Password: apptest.Password}); err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, "the entry gone", func() bool {
		return !slices.ContainsFunc(labelsOf(tr.Menu()), func(l string) bool { return strings.HasPrefix(l, "Review tool changes") })
	})

	def.Description += " And its attachments."
	up.SetTool(def)
	list()
	apptest.Eventually(t, "a notification of the next change", func() bool { return len(notes.shown()) == 2 })
	apptest.Eventually(t, "the menu entry again", func() bool { return slices.Contains(labelsOf(tr.Menu()), "Review tool changes (1)…") })
}
