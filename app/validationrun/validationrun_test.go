package validationrun

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// win is an open validation window whose UI work runs on the test
// goroutine (ui), as the real driver's loop would.
type win struct {
	v      *View
	w      fyne.Window
	ui     *apptest.UI
	opened []*url.URL
	folder string
}

func openOn(t *testing.T, run RunFunc) *win {
	t.Helper()
	a := test.NewTempApp(t)
	x := &win{ui: apptest.NewUI(), folder: filepath.Join(t.TempDir(), "Documents", FolderName)}
	o := options{
		spawn:    func(f func()) { go f() },
		do:       x.ui.Do,
		openURL:  func(u *url.URL) error { x.opened = append(x.opened, u); return nil },
		operator: "Ann Example",
		folder:   x.folder,
	}
	d := &app.Deps{App: a}
	x.v = open(d, run, o)
	x.w = apptest.Window(a, Title)
	if x.v == nil || x.w == nil {
		t.Fatal("no window")
	}
	if again := open(d, run, o); again != nil {
		t.Fatal("a second Open made a second window")
	}
	x.ui.Until(t, "the form is filled", func() bool { return x.v.operator.Text == "Ann Example" })
	// The window closes with the test: a run still going is cancelled.
	t.Cleanup(func() { x.w.Close(); x.ui.Drain() })
	return x
}

func (x *win) texts() string {
	out := apptest.Texts(x.w.Content())
	if o := x.w.Canvas().Overlays().Top(); o != nil {
		out = append(out, apptest.Texts(o)...)
	}
	return strings.Join(out, "\n")
}

// shows waits until the window shows every one of want.
func (x *win) shows(t *testing.T, want ...string) {
	t.Helper()
	x.ui.Until(t, fmt.Sprintf("the window shows %q", want), func() bool {
		s := x.texts()
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
}

func (x *win) tap(t *testing.T, label string) {
	t.Helper()
	b := apptest.Button(x.w.Content(), label)
	if o := x.w.Canvas().Overlays().Top(); b == nil && o != nil {
		b = apptest.Button(o, label)
	}
	if b == nil || !b.Visible() || b.Disabled() {
		t.Fatalf("no button %q to tap in:\n%s", label, x.texts())
	}
	test.Tap(b)
}

func (x *win) phase() Phase { return x.v.r.State().Phase }

func pass(id, title string) validation.Case {
	return validation.Case{ID: id, Title: title, Result: validation.Pass}
}

// TestProgressThenReport: the form goes to the background run with its
// values (the folder made), the bar and the line follow each case, and
// the end shows the counts and the failed case; "Open report" opens the
// HTML file and "Show folder" the folder.
func TestProgressThenReport(t *testing.T) {
	step := make(chan struct{})
	var got Request
	run := func(ctx context.Context, req Request, progress func(int, int, validation.Case)) (Result, error) {
		got = req
		if fi, err := os.Stat(req.Folder); err != nil || !fi.IsDir() {
			return Result{}, fmt.Errorf("the folder was not made: %v", err)
		}
		progress(1, 3, pass("IQ-01", "Binaries installed"))
		<-step
		// A notice between cases: the run waits out the rate limit.
		progress(1, 3, validation.Case{ID: "OQ-04", Title: "waiting 59 s for this account's calls of the last minute"})
		<-step
		progress(2, 3, validation.Case{ID: "OQ-04", Title: "Rate limit", Result: validation.Fail, Actual: "41 calls in a row were allowed; the limit is 40 per minute"})
		<-step
		progress(3, 3, pass("OQ-10", "Token never written"))
		var files []string
		for _, ext := range []string{".json", ".txt", ".html", ".pdf"} {
			f := filepath.Join(req.Folder, "VAL-lab1-20261205T091500Z"+ext)
			if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
				return Result{}, err
			}
			files = append(files, f)
		}
		return Result{DocID: "VAL-lab1-20261205T091500Z", Files: files,
			Summary: validation.Summary{Pass: 2, Fail: 1, Total: 3, Result: validation.Fail}}, nil
	}
	x := openOn(t, run)
	x.shows(t, Explanation, x.folder)
	x.v.operator.SetText("  Ann Example, QA  ")
	x.tap(t, "Run validation")

	x.shows(t, "Finished IQ-01 Binaries installed: passed.")
	if x.v.bar.Value != 1 || x.v.bar.Max != 3 || x.v.bar.TextFormatter() != "1 of 3 cases" {
		t.Errorf("bar %v of %v, %q", x.v.bar.Value, x.v.bar.Max, x.v.bar.TextFormatter())
	}
	if got.Operator != "Ann Example, QA" || got.Folder != x.folder || got.Password == nil {
		t.Errorf("the run got %+v", got)
	}
	step <- struct{}{}
	x.shows(t, "Before OQ-04: waiting 59 s for this account's calls of the last minute.")
	step <- struct{}{}
	x.shows(t, "Finished OQ-04 Rate limit: failed.")
	if x.v.bar.Value != 2 {
		t.Errorf("bar at %v", x.v.bar.Value)
	}
	step <- struct{}{}
	x.shows(t, "Validation VAL-lab1-20261205T091500Z: failed", "2 passed, 1 failed, 0 skipped of 3 cases.",
		"OQ-04 Rate limit: 41 calls in a row were allowed", "recorded in the audit trail")
	if x.phase() != Done {
		t.Fatalf("phase %v", x.phase())
	}

	x.tap(t, "Open report")
	x.tap(t, "Show folder")
	if len(x.opened) != 2 {
		t.Fatalf("opened %v", x.opened)
	}
	if u := x.opened[0]; u.Scheme != "file" || filepath.FromSlash(u.Path) != filepath.Join(x.folder, "VAL-lab1-20261205T091500Z.html") {
		t.Errorf("Open report opened %s", u)
	}
	if u := x.opened[1]; u.Scheme != "file" || filepath.FromSlash(u.Path) != x.folder {
		t.Errorf("Show folder opened %s", u)
	}

	// Run again goes back to the form with its values.
	x.tap(t, "Run again")
	x.ui.Until(t, "the form is back", func() bool { return x.phase() == Idle && !x.v.start.Disabled() })
	if x.v.operator.Text != "Ann Example, QA" || x.v.folder.Text != x.folder {
		t.Errorf("the form holds %q, %q", x.v.operator.Text, x.v.folder.Text)
	}
}

// TestCancel: Cancel cancels the run's context; the window says it is
// winding down until the run returns, then that nothing was filed.
func TestCancel(t *testing.T) {
	release := make(chan struct{})
	run := func(ctx context.Context, req Request, progress func(int, int, validation.Case)) (Result, error) {
		progress(1, 24, pass("IQ-01", "Binaries installed"))
		<-ctx.Done()
		<-release // lifting the kill switch, say
		return Result{}, ctx.Err()
	}
	x := openOn(t, run)
	x.tap(t, "Run validation")
	x.shows(t, "Finished IQ-01")
	x.tap(t, "Cancel")
	x.shows(t, "Cancelling…")
	if !x.v.cancel.Disabled() {
		t.Error("Cancel can be pressed twice")
	}
	close(release)
	x.shows(t, "Validation cancelled", "It stopped after 1 of 24 cases; no report was filed.")
	if x.phase() != Cancelled || x.v.openReport.Visible() || x.v.showFolder.Visible() {
		t.Errorf("phase %v, Open report %v, Show folder %v", x.phase(), x.v.openReport.Visible(), x.v.showFolder.Visible())
	}
}

// TestFailures: a run that cannot start or cannot be filed says why in a
// sentence, never with Go's internals.
func TestFailures(t *testing.T) {
	down := fmt.Errorf("asking the Scispot MCP service for its status: %w", fmt.Errorf("%w (/run/scispot-mcp/mcpd.sock: dial unix: connect: no such file or directory)", localapi.ErrNoService))
	refused := &localapi.Error{Status: 403, Rule: "policy", Sentence: "The admin policy does not allow the account ann to use Scispot MCP."}
	filed := Result{DocID: "VAL-lab1-1", Summary: validation.Summary{Pass: 20, Fail: 1, Skip: 2, Total: 23, Result: validation.Fail}}
	tests := []struct {
		name string
		err  error
		res  Result
		want string
	}{
		{"service down", down, Result{},
			"The Scispot MCP service (scispot-mcpd) is not running on this workstation, so validation cannot run; ask your IT admin to install or start it."},
		{"refused", fmt.Errorf("asking the Scispot MCP service for its status: %w", refused), Result{},
			"Validation could not run: The admin policy does not allow the account ann to use Scispot MCP."},
		{"scratch", errors.New("making a scratch folder: mkdir /tmp/x: permission denied"), Result{},
			"Validation could not run: making a scratch folder: mkdir /tmp/x: permission denied."},
		{"not recorded", fmt.Errorf("recording the validation run in the audit trail: %w", fmt.Errorf("%w (gone)", localapi.ErrNoService)), filed,
			"Validation VAL-lab1-1 ran (20 passed, 1 failed, 2 skipped) but its report could not be filed: the Scispot MCP service stopped answering."},
		{"not written", errors.New("writing the report: open /x/VAL-lab1-1.html: file exists"), filed,
			"Validation VAL-lab1-1 ran (20 passed, 1 failed, 2 skipped) but its report could not be filed: writing the report: open /x/VAL-lab1-1.html: file exists."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.err, tt.res); got != tt.want {
				t.Errorf("Reason =\n%q, want\n%q", got, tt.want)
			}
		})
	}

	// Through the window: the sentence, and the folder when something
	// was written.
	res := filed
	res.Files = []string{"/x/VAL-lab1-1.json"}
	x := openOn(t, func(context.Context, Request, func(int, int, validation.Case)) (Result, error) {
		return res, tests[3].err
	})
	x.tap(t, "Run validation")
	x.shows(t, "Validation did not finish", tests[3].want, "It is incomplete: run the validation again")
	if x.phase() != Failed || x.v.openReport.Visible() || !x.v.showFolder.Visible() {
		t.Errorf("phase %v, Open report %v, Show folder %v", x.phase(), x.v.openReport.Visible(), x.v.showFolder.Visible())
	}
	x.tap(t, "Run again")
	x.ui.Until(t, "the form is back", func() bool { return x.phase() == Idle })

	y := openOnDown(t)
	y.tap(t, "Run validation")
	y.shows(t, tests[0].want)
	if s := y.texts(); strings.Contains(s, "goroutine") || strings.Contains(s, "dial unix") {
		t.Errorf("the window shows internals:\n%s", s)
	}
}

func openOnDown(t *testing.T) *win {
	return openOn(t, func(context.Context, Request, func(int, int, validation.Case)) (Result, error) {
		return Result{}, fmt.Errorf("%w (/run/scispot-mcp/mcpd.sock: dial unix: connect: no such file or directory)", localapi.ErrNoService)
	})
}

// TestForm: the form refuses to start without a name or with a folder it
// cannot make, and says why.
func TestForm(t *testing.T) {
	ran := 0
	x := openOn(t, func(context.Context, Request, func(int, int, validation.Case)) (Result, error) {
		ran++
		return Result{}, errors.New("unexpected")
	})
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ operator, folder, want string }{
		{" ", x.folder, "Type the name of the person running the validation"},
		{"Ann", "", "Choose the folder for the report."},
		{"Ann", "reports", "type its full path"},
		{"Ann", file, "cannot be made"},
		{"Ann", filepath.Join(file, "sub"), "cannot be made"},
	} {
		x.v.operator.SetText(tt.operator)
		x.v.folder.SetText(tt.folder)
		x.tap(t, "Run validation")
		x.ui.Until(t, "the problem "+tt.want, func() bool { return x.v.problem.Visible() && strings.Contains(x.v.problem.Text, tt.want) })
		if x.phase() != Idle || ran != 0 {
			t.Fatalf("phase %v, ran %d", x.phase(), ran)
		}
	}
}

// TestPassword: the run asks for the password from its goroutine; the
// prompt appears on the window, and its answer (or a skip, or the run's
// cancellation) comes back to the run.
func TestPassword(t *testing.T) {
	type answer struct {
		pw  string
		err error
	}
	for _, tt := range []struct {
		name string
		act  func(t *testing.T, x *win)
		want answer
	}{
		{"typed", func(t *testing.T, x *win) {
			test.Type(apptest.PasswordEntry(x.w.Canvas().Overlays().Top()), apptest.Password)
			x.tap(t, "Continue")
		}, answer{apptest.Password, nil}},
		{"skipped", func(t *testing.T, x *win) { x.tap(t, "Skip this case") }, answer{"", errDeclined}},
		{"cancelled", func(t *testing.T, x *win) { x.tap(t, "Cancel") }, answer{"", context.Canceled}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := make(chan answer, 1)
			x := openOn(t, func(ctx context.Context, req Request, progress func(int, int, validation.Case)) (Result, error) {
				pw, err := req.Password("ann")
				got <- answer{pw, err}
				return Result{DocID: "VAL-1", Summary: validation.Summary{Result: validation.Pass}}, ctx.Err()
			})
			x.tap(t, "Run validation")
			x.shows(t, "takes the password of the account ann")
			if p := apptest.PasswordEntry(x.w.Canvas().Overlays().Top()); p == nil {
				t.Fatal("no password entry in the prompt")
			}
			tt.act(t, x)
			var a answer
			x.ui.Until(t, "the run has its answer", func() bool {
				select {
				case a = <-got:
					return true
				default:
					return false
				}
			})
			if a.pw != tt.want.pw || !errors.Is(a.err, tt.want.err) {
				t.Errorf("the run got %q, %v; want %q, %v", a.pw, a.err, tt.want.pw, tt.want.err)
			}
			x.ui.Until(t, "the prompt is gone", func() bool {
				o := x.w.Canvas().Overlays().Top()
				return o == nil || !o.Visible()
			})
			if s := x.texts(); strings.Contains(s, apptest.Password) {
				t.Error("the password shows in the window")
			}
		})
	}
}

func TestDefaultFolder(t *testing.T) {
	home := filepath.FromSlash("/home/ann")
	files := map[string]string{}
	env := func(vars map[string]string) Env {
		return Env{Home: home, Getenv: func(k string) string { return vars[k] },
			ReadFile: func(p string) ([]byte, error) {
				if b, ok := files[filepath.ToSlash(p)]; ok {
					return []byte(b), nil
				}
				return nil, os.ErrNotExist
			}}
	}
	want := func(p string) string { return filepath.Join(filepath.FromSlash(p), FolderName) }
	if got := DefaultFolder(env(nil)); got != want("/home/ann/Documents") {
		t.Errorf("no XDG: %s", got)
	}
	files["/home/ann/.config/user-dirs.dirs"] = "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Schreibtisch\"\nXDG_DOCUMENTS_DIR=\"$HOME/Dokumente\"\n"
	if got := DefaultFolder(env(nil)); got != want("/home/ann/Dokumente") {
		t.Errorf("user-dirs.dirs: %s", got)
	}
	files["/cfg/user-dirs.dirs"] = "XDG_DOCUMENTS_DIR=\"/data/ann/docs\"\n"
	if got := DefaultFolder(env(map[string]string{"XDG_CONFIG_HOME": "/cfg"})); got != want("/data/ann/docs") {
		t.Errorf("XDG_CONFIG_HOME: %s", got)
	}
	if got := DefaultFolder(env(map[string]string{"XDG_DOCUMENTS_DIR": "$HOME/Docs"})); got != want("/home/ann/Docs") {
		t.Errorf("XDG_DOCUMENTS_DIR: %s", got)
	}
	// A documents folder set to home itself means the desktop has none.
	files["/home/ann/.config/user-dirs.dirs"] = "XDG_DOCUMENTS_DIR=\"$HOME/\"\n"
	if got := DefaultFolder(env(nil)); got != want("/home/ann/Documents") {
		t.Errorf("documents = home: %s", got)
	}
}

// The bar's text before the first case ends.
func TestBarStarting(t *testing.T) {
	block := make(chan struct{})
	x := openOn(t, func(ctx context.Context, _ Request, _ func(int, int, validation.Case)) (Result, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return Result{}, ctx.Err()
	})
	x.tap(t, "Run validation")
	x.shows(t, "Checking the installation and the Scispot MCP service…")
	if s := x.v.bar.TextFormatter(); s != "Starting…" {
		t.Errorf("bar says %q", s)
	}
	close(block)
}
