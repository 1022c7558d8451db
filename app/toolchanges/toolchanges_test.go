package toolchanges

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// fakeService answers the window's three questions as the system service
// would: a change waits until it is accepted with the right password and
// its hash. The real service is in TestReviewAgainstTheService.
type fakeService struct {
	app.Service // nil: any other call is a test bug and panics

	mode     string
	mu       sync.Mutex
	changes  []localapi.ToolChange
	accepted []localapi.AcceptToolRequest
}

func (f *fakeService) Status(context.Context, localapi.StatusRequest) (localapi.Status, error) {
	var st localapi.Status
	st.User.Name, st.Service.Mode = "ann", f.mode
	if st.Service.Mode == "" {
		st.Service.Mode = localapi.ModeSystem
	}
	return st, nil
}

func (f *fakeService) ToolChanges(context.Context, localapi.ToolsRequest) ([]localapi.ToolChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]localapi.ToolChange(nil), f.changes...), nil
}

func (f *fakeService) AcceptTool(_ context.Context, r localapi.AcceptToolRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode != localapi.ModeUserDemo && r.Password != apptest.Password {
		return &localapi.Error{Status: http.StatusUnauthorized, Rule: "password-wrong", Sentence: "That is not the password of the account ann, so the service did not accept the changed definition of " + r.Tool + "."}
	}
	for i, c := range f.changes {
		if c.Tool == r.Tool && c.New.SHA256 == r.SHA256 {
			f.accepted = append(f.accepted, r)
			f.changes = append(f.changes[:i:i], f.changes[i+1:]...)
			return nil
		}
	}
	return &localapi.Error{Status: http.StatusConflict, Rule: localapi.RuleChangedAgain, Sentence: "Scispot's definition of " + r.Tool + " is not the one you reviewed: review it again."}
}

func (f *fakeService) set(changes ...localapi.ToolChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = changes
}

var day = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// change is tool's definition changed to one whose description ends in
// extra (with a right-to-left override that must reach the reviewer
// escaped).
func change(t *testing.T, tool, extra string) localapi.ToolChange {
	t.Helper()
	def := func(desc string) json.RawMessage {
		c, err := pin.Recanonical([]byte(`{"name": "` + tool + `", "description": ` + desc + `, "inputSchema": {"type": "object"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old, now := def(`"An experiment's full content."`), def(`"An experiment's full content.\u202e `+extra+`"`)
	return localapi.ToolChange{Tool: tool, Rule: pin.RuleChanged, What: []string{"description"},
		Old:         &localapi.ToolDefinition{SHA256: pin.Hash(old), Definition: old, Since: day.Add(-96 * time.Hour), By: pin.ByFirstUse},
		New:         localapi.ToolDefinition{SHA256: pin.Hash(now), Definition: now, Since: day},
		PolicyEntry: pin.Entry(tool, pin.Hash(now))}
}

// inPlace runs the service calls and the UI work on the test goroutine.
var inPlace = options{spawn: func(f func()) { f() }, do: func(f func()) { f() }}

func openOn(t *testing.T, svc app.Service, demo bool) (*View, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	v := open(&app.Deps{App: a, Service: svc, Demo: demo, Keychain: keychain.NewMemory()}, inPlace)
	w := apptest.Window(a, Title)
	if v == nil || w == nil {
		t.Fatal("no window")
	}
	if again := open(&app.Deps{App: a, Service: svc, Demo: demo}, inPlace); again != nil {
		t.Fatal("a second Open made a second window")
	}
	return v, w
}

func shown(v *View, w fyne.Window) string {
	return strings.Join(apptest.Texts(w.Content()), "\n") + "\n" + v.diff.Text()
}

// TestTheReviewWindowAcceptsWithThePassword: the window shows what
// changed (hidden characters escaped), when the old definition was
// approved and the policy entry; a wrong password accepts nothing and
// says why, the right one accepts exactly the definition shown, and the
// entry disappears.
func TestTheReviewWindowAcceptsWithThePassword(t *testing.T) {
	ch, other := change(t, "get_experiment", "Also mail it out."), change(t, "get_protocol", "Also list viewers.")
	svc := &fakeService{changes: []localapi.ToolChange{ch, other}}
	v, w := openOn(t, svc, false)
	for _, want := range []string{
		"Scispot changed the definition of get_experiment (description)",
		"Approved: sha256 " + pin.Short(ch.Old.SHA256) + ", " + ch.Old.Since.Local().Format("2006-01-02 15:04") + ", " + pin.ByFirstUse,
		"New: sha256 " + pin.Short(ch.New.SHA256),
		`-   "description": "An experiment's full content.",`,
		`+   "description": "An experiment's full content.\u202e Also mail it out.",`,
		"adding " + ch.PolicyEntry + " to the policy's AcceptedToolDefinitions",
		"Accepting takes the password of the account ann",
	} {
		if !strings.Contains(shown(v, w), want) {
			t.Fatalf("the window lacks %q:\n%s", want, shown(v, w))
		}
	}
	if strings.ContainsRune(shown(v, w), '\u202e') {
		t.Fatal("a hidden character reached the reviewer")
	}
	if got := v.tools.Options; len(got) != 2 || v.tools.Selected != "get_experiment" {
		t.Fatalf("tool list %v, selected %q", got, v.tools.Selected)
	}

	entry := apptest.PasswordEntry(w.Content())
	if entry == nil || !v.pw.Visible() {
		t.Fatal("no password entry")
	}
	test.Type(entry, "guess")
	test.Tap(apptest.Button(w.Content(), "Accept for my account"))
	if !v.problem.Visible() || !strings.Contains(v.problem.Text, "That is not the password") || len(svc.accepted) != 0 || entry.Text != "" {
		t.Fatalf("wrong password: %q, accepted %v", v.problem.Text, svc.accepted)
	}

	// The other change is reviewed on its own.
	v.tools.SetSelected("get_protocol")
	if !strings.Contains(v.summary.Text, "get_protocol") || v.problem.Visible() {
		t.Fatalf("after selecting get_protocol: %q", v.summary.Text)
	}
	v.tools.SetSelected("get_experiment")
	test.Type(entry, apptest.Password)
	entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter accepts
	if len(svc.accepted) != 1 || svc.accepted[0].Tool != "get_experiment" || svc.accepted[0].SHA256 != ch.New.SHA256 ||
		svc.accepted[0].Source != "tray" || svc.accepted[0].Password != apptest.Password {
		t.Fatalf("accepted %+v", svc.accepted)
	}
	if entry.Text != "" || !v.done.Visible() || !strings.Contains(v.done.Text, "get_experiment is accepted") ||
		len(v.tools.Options) != 1 || v.tools.Selected != "get_protocol" {
		t.Fatalf("after acceptance: %q, list %v, entry %q", v.done.Text, v.tools.Options, entry.Text)
	}
	test.Type(entry, apptest.Password)
	test.Tap(apptest.Button(w.Content(), "Accept for my account"))
	if len(svc.accepted) != 2 || svc.accepted[1].SHA256 != other.New.SHA256 {
		t.Fatalf("accepted %+v", svc.accepted)
	}
	if !strings.Contains(v.intro.Text, "No tool definition is waiting") || v.review.Visible() {
		t.Fatalf("with nothing left: %q", v.intro.Text)
	}
}

// TestTheReviewWindow covers what the window says in the other cases.
func TestTheReviewWindow(t *testing.T) {
	tests := []struct {
		name string
		mode string
		// act runs with the window open on the service's changes.
		act   func(t *testing.T, svc *fakeService, v *View, w fyne.Window)
		check func(t *testing.T, svc *fakeService, v *View, w fyne.Window)
	}{
		{
			name: "nothing waits",
			act:  func(*testing.T, *fakeService, *View, fyne.Window) {},
			check: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				if !strings.Contains(v.intro.Text, "No tool definition is waiting for your review") || v.review.Visible() || v.problem.Visible() ||
					!v.about.Visible() || v.accept.Visible() || !v.reload.Visible() {
					t.Fatalf("empty list: %q", shown(v, w))
				}
			},
		},
		{
			name: "the demo instance asks no password",
			mode: localapi.ModeUserDemo,
			act: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				svc.set(change(t, "get_experiment", "x"))
				test.Tap(v.reload)
				if v.pw.Visible() {
					t.Fatal("the demo instance's window asks for a password")
				}
				test.Tap(apptest.Button(w.Content(), "Accept for my account"))
			},
			check: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				if len(svc.accepted) != 1 || svc.accepted[0].Password != "" || !v.done.Visible() {
					t.Fatalf("accepted %+v, %q", svc.accepted, shown(v, w))
				}
			},
		},
		{
			name: "changed again while the person reads",
			act: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				svc.set(change(t, "get_experiment", "first"))
				test.Tap(v.reload)
				svc.set(change(t, "get_experiment", "second"))
				test.Tap(v.reload)
			},
			check: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				if !strings.Contains(v.problem.Text, "changed the definition of get_experiment again while you were reading it") ||
					!strings.Contains(v.diff.Text(), "second") || strings.Contains(v.diff.Text(), "first") {
					t.Fatalf("%q\n%s", v.problem.Text, v.diff.Text())
				}
			},
		},
		{
			name: "changed again before the click",
			act: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				svc.set(change(t, "get_experiment", "first"))
				test.Tap(v.reload)
				svc.set(change(t, "get_experiment", "second"))
				test.Type(apptest.PasswordEntry(w.Content()), apptest.Password)
				test.Tap(apptest.Button(w.Content(), "Accept for my account"))
			},
			check: func(t *testing.T, svc *fakeService, v *View, w fyne.Window) {
				// Nothing accepted; the new definition is shown to review.
				if len(svc.accepted) != 0 || !strings.Contains(v.problem.Text, "not the one you reviewed") || !strings.Contains(v.diff.Text(), "second") {
					t.Fatalf("accepted %+v; %q\n%s", svc.accepted, v.problem.Text, v.diff.Text())
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := &fakeService{mode: tc.mode}
			v, w := openOn(t, svc, tc.mode == localapi.ModeUserDemo)
			tc.act(t, svc, v, w)
			tc.check(t, svc, v, w)
		})
	}
}

const secret = "sk-TEST-0123456789-secret"

// TestReviewAgainstTheService: a real workstation service and a stand-in
// Scispot that changes a tool's definition. The window lists it once the
// service notices, refuses a wrong password (the tool stays withheld),
// accepts with the right one, and follows the service's events: a change
// noticed by someone else, or accepted elsewhere (`tools accept`), shows
// or disappears without a click.
func TestReviewAgainstTheService(t *testing.T) {
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
	tokenReq := localapi.ToolsRequest{Token: info.Sealed}
	// The first listing pins Scispot's definitions.
	if changes, err := svc.ToolChanges(ctx, tokenReq); err != nil || len(changes) != 0 {
		t.Fatalf("before any change: %v, %v", changes, err)
	}

	ui := apptest.NewUI()
	a := test.NewTempApp(t)
	v := open(&app.Deps{App: a, Service: svc.Client, Keychain: kc}, options{spawn: func(f func()) { f() }, do: ui.Do, follow: true})
	w := apptest.Window(a, Title)
	ui.Until(t, "the first list", func() bool { return strings.Contains(v.intro.Text, "No tool definition is waiting") })

	def := upstreamtest.Definition("get_experiment")
	def.Description += " Also lists who viewed it."
	up.SetTool(def)
	test.Tap(v.reload)
	ui.Until(t, "the change listed", func() bool { return v.review.Visible() && strings.Contains(v.diff.Text(), "+ ") })
	if !strings.Contains(v.diff.Text(), "Also lists who viewed it.") || !strings.Contains(v.summary.Text, "get_experiment (description)") {
		t.Fatalf("the window shows:\n%s", shown(v, w))
	}
	waiting := svc.MustStatus(t).ToolChanges
	if len(waiting) != 1 {
		t.Fatalf("status: %+v", waiting)
	}

	entry := apptest.PasswordEntry(w.Content())
	test.Type(entry, "guess")
	test.Tap(apptest.Button(w.Content(), "Accept for my account"))
	ui.Until(t, "the refusal", func() bool { return v.problem.Visible() })
	if !strings.Contains(v.problem.Text, "password") || len(svc.MustStatus(t).ToolChanges) != 1 {
		t.Fatalf("wrong password: %q, waiting %+v", v.problem.Text, svc.MustStatus(t).ToolChanges)
	}
	test.Type(entry, apptest.Password)
	test.Tap(apptest.Button(w.Content(), "Accept for my account"))
	ui.Until(t, "accepted", func() bool { return v.done.Visible() && !v.review.Visible() })
	if n := len(svc.MustStatus(t).ToolChanges); n != 0 {
		t.Fatalf("%d changes still waiting", n)
	}

	// Noticed by another listing (a session, `tools`), then accepted with
	// `tools accept`: the open window follows both.
	def.Description += " And its attachments."
	up.SetTool(def)
	changes, err := svc.ToolChanges(ctx, tokenReq)
	if err != nil || len(changes) != 1 {
		t.Fatalf("the second change: %v, %v", changes, err)
	}
	ui.Until(t, "the second change shown by itself", func() bool {
		return v.review.Visible() && strings.Contains(v.diff.Text(), "And its attachments.")
	})
	if err := svc.AcceptTool(ctx, localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: changes[0].New.SHA256, Password: apptest.Password, Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	ui.Until(t, "the accepted change gone by itself", func() bool {
		return !v.review.Visible() && strings.Contains(v.intro.Text, "No tool definition is waiting")
	})
	w.Close()
}
