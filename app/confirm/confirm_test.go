package confirm

import (
	"context"
	"flag"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var at = time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC)

func TestPromptFor(t *testing.T) {
	tests := []struct {
		name    string
		req     localapi.Confirmation
		client  string
		warning bool
	}{
		{"plain", localapi.Confirmation{ID: "a", ClientName: "Cursor", ClientVersion: "1.2", Tool: "update_labsheet_rows", Target: "Plasmids", Change: "1 row", Time: at, Deadline: at.Add(time.Minute)}, "Cursor 1.2", false},
		{"destructive", localapi.Confirmation{ID: "b", ClientName: "Claude", Tool: "delete_labsheet_rows", Destructive: true, Time: at, Deadline: at.Add(time.Minute)}, "Claude", true},
		{"anonymous", localapi.Confirmation{ID: "c", Tool: "x", Time: at, Deadline: at.Add(time.Minute)}, "An unnamed AI client", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PromptFor(tt.req, true, "ann")
			if p.Client != tt.client || (p.Warning != "") != tt.warning || !p.Deadline.Equal(at.Add(time.Minute)) {
				t.Errorf("PromptFor = %+v", p)
			}
			if p.Target == "" || p.Change == "" {
				t.Error("empty target or change shown")
			}
			if !strings.Contains(p.PasswordHint(), "the account ann") {
				t.Errorf("hint %q", p.PasswordHint())
			}
		})
	}
	p := PromptFor(tests[0].req, true, "")
	for _, c := range []struct {
		now  time.Time
		want string
	}{
		{at, "No answer in 60 s denies it."},
		{at.Add(45*time.Second + 400*time.Millisecond), "No answer in 15 s denies it."},
		{at.Add(time.Minute), "Time is up: the change is denied."},
	} {
		if got := p.Countdown(c.now); got != c.want {
			t.Errorf("Countdown(+%v) = %q, want %q", c.now.Sub(at), got, c.want)
		}
	}
}

// newController is a controller whose answers run in place and whose
// clock stands still.
func newController(t *testing.T, svc app.Service, password bool) (*Controller, *[]func(), *[]func()) {
	var timers, ticks []func()
	c := &Controller{
		App:       test.NewTempApp(t),
		Service:   svc,
		Password:  password,
		Account:   "ann",
		Now:       func() time.Time { return at },
		AfterFunc: func(_ time.Duration, f func()) { timers = append(timers, f) },
		Every: func(_ time.Duration, f func()) func() {
			ticks = append(ticks, f)
			return func() {}
		},
		Spawn: func(f func()) { f() },
	}
	return c, &timers, &ticks
}

func windowFor(c *Controller, id string) fyne.Window {
	if dl := c.windows[id]; dl != nil {
		return dl.win
	}
	return nil
}

func button(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	b := apptest.Button(w.Content(), text)
	if b == nil {
		t.Fatalf("no %q button", text)
	}
	return b
}

func TestDialogGolden(t *testing.T) {
	c, _, ticks := newController(t, nil, true)
	c.Show(localapi.Confirmation{ID: "r1", ClientName: "Cursor", Tool: "update_labsheet_rows", Target: "Plasmids PL-0006",
		Change: "overwrite 1 row", Destructive: true, Time: at, Deadline: at.Add(60 * time.Second),
		Current: `{"PL-0006":{"Name":"pUC19","Status":"Active"}}`, Meanings: []string{"Approved", "Rejected"}, ReasonRequired: true})
	c.Show(localapi.Confirmation{ID: "r1", Tool: "again"}) // delivered twice: still one dialog
	if c.Open() != 1 {
		t.Fatalf("%d dialogs", c.Open())
	}
	w := windowFor(c, "r1")
	w.Resize(fyne.NewSize(520, 640))
	apptest.Golden(t, "testdata/destructive.xml", test.RenderToMarkup(w.Canvas()), *update)
	if f := w.Canvas().Focused(); f != button(t, w, "Deny") {
		t.Error("Deny does not have the focus")
	}
	if apptest.PasswordEntry(w.Content()) == nil {
		t.Error("no masked password entry")
	}
	text := strings.Join(apptest.Texts(w.Content()), "\n")
	for _, want := range []string{"Current value in Scispot", `"Status":"Active"`, "Reason *", "Meaning"} {
		if !strings.Contains(text, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, text)
		}
	}
	button(t, w, "Sign: Approved")
	c.Now = func() time.Time { return at.Add(42 * time.Second) }
	for _, f := range *ticks {
		f()
	}
	if text := strings.Join(apptest.Texts(w.Content()), "\n"); !strings.Contains(text, "No answer in 18 s denies it.") {
		t.Errorf("the countdown did not tick:\n%s", text)
	}
}

// writePolicy allows one write tool besides the read-only ones; writes
// need the person's confirmation (the default).
func writePolicy() apptest.Policy {
	return apptest.Policy{
		"AllowWriteTools": true,
		"AllowedTools":    append(catalog.ReadOnlyNames(), "add_labsheet_rows"),
	}
}

// write calls add_labsheet_rows in the background; its result comes on the
// channel.
func write(cs *mcp.ClientSession) <-chan string {
	out := make(chan string, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_labsheet_rows",
			Arguments: map[string]any{"labsheet": "Plasmids", "rows": []any{map[string]any{"Name": "pTEST-1"}}}})
		switch {
		case err != nil:
			out <- "error: " + err.Error()
		default:
			var b strings.Builder
			for _, c := range res.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					b.WriteString(tc.Text)
				}
			}
			out <- b.String()
		}
	}()
	return out
}

// listening tells when an event stream is open.
type listening struct {
	app.Service
	opened chan struct{}
}

func (l listening) Events(ctx context.Context) (*localapi.EventStream, error) {
	s, err := l.Service.Events(ctx)
	if err == nil {
		select {
		case l.opened <- struct{}{}:
		default:
		}
	}
	return s, err
}

// follow runs the controller on the service until the test ends, once
// the service can ask it. Its UI work runs in ui.Until.
func follow(t *testing.T, svc app.Service, c *Controller) *apptest.UI {
	t.Helper()
	ui := apptest.NewUI()
	c.Do = ui.Do
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	l := listening{Service: svc, opened: make(chan struct{}, 1)}
	go func() { done <- Follow(ctx, &app.Deps{App: c.App, Service: l}, c) }()
	t.Cleanup(func() {
		cancel()
		ui.Until(t, "the controller stopped", func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		})
	})
	select {
	case <-l.opened:
	case <-time.After(20 * time.Second):
		t.Fatal("the controller never followed the service")
	}
	return ui
}

// dialogs collects the dialogs c shows.
func dialogs(c *Controller) <-chan fyne.Window {
	ch := make(chan fyne.Window, 4)
	c.Shown = func(_ string, w fyne.Window) { ch <- w }
	return ch
}

func waitDialog(t *testing.T, ui *apptest.UI, shown <-chan fyne.Window) fyne.Window {
	t.Helper()
	var w fyne.Window
	ui.Until(t, "a confirmation dialog", func() bool {
		select {
		case w = <-shown:
			return true
		default:
			return false
		}
	})
	return w
}

// TestApproveNeedsPassword: a real write through the service waits for
// the tray; Approve with a wrong password keeps the dialog open with the
// service's sentence, with the right one the write runs. Deny needs no
// password.
func TestApproveNeedsPassword(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{Policy: []policy.Store{writePolicy()}})
	c, _, _ := newController(t, svc.Client, true)
	c.Now = time.Now
	shown := dialogs(c)
	ui := follow(t, svc.Client, c)
	cs := svc.OpenDemoSession(t, "cursor-vscode")

	result := write(cs)
	w := waitDialog(t, ui, shown)
	if text := strings.Join(apptest.Texts(w.Content()), "\n"); !strings.Contains(text, "add_labsheet_rows") || !strings.Contains(text, "cursor-vscode") {
		t.Errorf("the dialog does not say what is asked:\n%s", text)
	}
	entry := apptest.PasswordEntry(w.Content())
	test.Type(entry, "wrong")
	// No reason: the dialog says so and sends nothing.
	test.Tap(button(t, w, "Sign: Approved"))
	ui.Drain()
	if text := strings.Join(apptest.Texts(w.Content()), "\n"); !strings.Contains(text, "must carry a reason") {
		t.Errorf("the dialog signed without a reason:\n%s", text)
	}
	test.Type(reasonEntry(t, w), "New plasmid from the stock")
	test.Tap(button(t, w, "Sign: Approved"))
	ui.Drain()
	if c.Open() != 1 {
		t.Fatal("the dialog closed after a wrong password")
	}
	if text := strings.Join(apptest.Texts(w.Content()), "\n"); !strings.Contains(text, "That is not the password of the account") {
		t.Errorf("the dialog does not say the password was wrong:\n%s", text)
	}
	if entry.Text != "" {
		t.Error("the wrong password is still in the entry")
	}
	select {
	case r := <-result:
		t.Fatalf("the write finished after a wrong password: %s", r)
	default:
	}
	test.Type(entry, apptest.Password)
	test.Tap(button(t, w, "Sign: Approved"))
	if r := <-result; strings.Contains(r, "was not made") || strings.HasPrefix(r, "error:") {
		t.Errorf("approved write: %s", r)
	}
	ui.Until(t, "the dialog closed", func() bool { return c.Open() == 0 })

	// Signed Rejected: a signature, with the password, and no write.
	result = write(cs)
	w = waitDialog(t, ui, shown)
	selectMeaning(t, w, "Rejected")
	test.Type(reasonEntry(t, w), "Duplicate of PL-0006")
	test.Type(apptest.PasswordEntry(w.Content()), apptest.Password)
	test.Tap(button(t, w, "Sign: Rejected"))
	if r := <-result; !strings.Contains(r, `signed "Rejected"`) {
		t.Errorf("rejected write: %s", r)
	}
	ui.Until(t, "the dialog closed", func() bool { return c.Open() == 0 })

	result = write(cs)
	w = waitDialog(t, ui, shown)
	test.Tap(button(t, w, "Deny"))
	if r := <-result; !strings.Contains(r, "denied it") {
		t.Errorf("denied write: %s", r)
	}
	ui.Drain()
	if c.Open() != 0 {
		t.Error("the dialog stayed open after Deny")
	}
}

// TestUserDemoAsksNoPassword: the demo instance checks no password, so the
// dialog asks none.
func TestUserDemoAsksNoPassword(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{Mode: localapi.ModeUserDemo, Policy: []policy.Store{writePolicy()}})
	c, _, _ := newController(t, svc.Client, true)
	c.Now = time.Now
	shown := dialogs(c)
	ui := follow(t, svc.Client, c)
	cs := svc.OpenDemoSession(t, "claude-ai")
	result := write(cs)
	w := waitDialog(t, ui, shown)
	if apptest.PasswordEntry(w.Content()) != nil {
		t.Error("the demo instance's dialog asks for a password")
	}
	test.Type(reasonEntry(t, w), "Demo")
	test.Tap(button(t, w, "Sign: Approved"))
	if r := <-result; strings.Contains(r, "was not made") || strings.HasPrefix(r, "error:") {
		t.Errorf("approved write: %s", r)
	}
}

// TestEscapeAndDeadline: Escape denies; the deadline closes the dialog;
// the service's "done" closes it without a second answer.
func TestEscapeAndDeadline(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	c, timers, _ := newController(t, svc.Client, true)
	c.Show(localapi.Confirmation{ID: "a", Tool: "t", Time: at, Deadline: at.Add(time.Minute)})
	c.Show(localapi.Confirmation{ID: "b", Tool: "t", Time: at, Deadline: at.Add(time.Minute)})
	c.Show(localapi.Confirmation{ID: "c", Tool: "t", Time: at, Deadline: at.Add(time.Minute)})
	windowFor(c, "a").Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Open() != 2 {
		t.Errorf("%d open after Escape", c.Open())
	}
	c.Gone("b") // the service says it is done
	if c.Open() != 1 {
		t.Errorf("%d open after Gone", c.Open())
	}
	for _, f := range *timers {
		f() // deadlines pass (fyne.Do runs in place under the test driver)
	}
	if c.Open() != 0 {
		t.Errorf("%d open after the deadlines", c.Open())
	}
}

// reasonEntry is the dialog's multi-line reason entry.
func reasonEntry(t *testing.T, w fyne.Window) *widget.Entry {
	t.Helper()
	var found *widget.Entry
	apptest.Walk(w.Content(), func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && e.MultiLine {
			found = e
		}
	})
	if found == nil {
		t.Fatal("no reason entry")
	}
	return found
}

// selectMeaning chooses a signature meaning.
func selectMeaning(t *testing.T, w fyne.Window, m string) {
	t.Helper()
	var sel *widget.Select
	apptest.Walk(w.Content(), func(o fyne.CanvasObject) {
		if s, ok := o.(*widget.Select); ok {
			sel = s
		}
	})
	if sel == nil {
		t.Fatal("no meaning chooser")
	}
	sel.SetSelected(m)
}
