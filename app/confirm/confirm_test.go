package confirm

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/mcpserver/confirm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var at = time.Date(2026, 4, 5, 6, 7, 8, 0, time.UTC)

func TestPromptFor(t *testing.T) {
	tests := []struct {
		name    string
		req     confirm.Request
		client  string
		warning bool
	}{
		{"plain", confirm.Request{ID: "a", ClientName: "Cursor", ClientVersion: "1.2", Tool: "update_labsheet_rows", Target: "Plasmids", Change: "1 row", Time: at}, "Cursor 1.2", false},
		{"destructive", confirm.Request{ID: "b", ClientName: "Claude", Tool: "delete_labsheet_rows", Destructive: true, Time: at}, "Claude", true},
		{"anonymous", confirm.Request{ID: "c", Tool: "x", Time: at}, "An unnamed AI client", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PromptFor(tt.req)
			if p.Client != tt.client || (p.Warning != "") != tt.warning || !p.Deadline.Equal(at.Add(60*time.Second)) {
				t.Errorf("PromptFor = %+v", p)
			}
			if p.Target == "" || p.Change == "" {
				t.Error("empty target or change shown")
			}
		})
	}
}

type answer struct {
	id       string
	approved bool
}

func newController(t *testing.T) (*Controller, *[]answer, *[]func()) {
	var answers []answer
	var timers []func()
	c := &Controller{
		App:       test.NewTempApp(t),
		Respond:   func(id string, ok bool) error { answers = append(answers, answer{id, ok}); return nil },
		AfterFunc: func(_ time.Duration, f func()) { timers = append(timers, f) },
	}
	return c, &answers, &timers
}

func windowFor(c *Controller, id string) fyne.Window { return c.windows[id] }

func button(t *testing.T, w fyne.Window, text string) *widget.Button {
	t.Helper()
	var found *widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == text {
				found = x
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(w.Content())
	if found == nil {
		t.Fatalf("no %q button", text)
	}
	return found
}

func TestControllerAnswers(t *testing.T) {
	req := confirm.Request{ID: "r1", ClientName: "Cursor", Tool: "delete_labsheet_rows", Target: "Plasmids PL-0006", Change: "delete 1 row", Destructive: true, Time: at}
	tests := []struct {
		name string
		act  func(t *testing.T, w fyne.Window)
		want bool
	}{
		{"approve", func(t *testing.T, w fyne.Window) { test.Tap(button(t, w, "Approve")) }, true},
		{"deny", func(t *testing.T, w fyne.Window) { test.Tap(button(t, w, "Deny")) }, false},
		{"escape", func(t *testing.T, w fyne.Window) {
			w.Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
		}, false},
		{"close window", func(t *testing.T, w fyne.Window) { w.Close() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, answers, _ := newController(t)
			c.Show(req)
			c.Show(req) // delivered twice: still one dialog
			if c.Open() != 1 {
				t.Fatalf("%d dialogs", c.Open())
			}
			w := windowFor(c, "r1")
			if tt.name == "approve" {
				w.Resize(fyne.NewSize(480, 320))
				assertGolden(t, "testdata/destructive.xml", test.RenderToMarkup(w.Canvas()))
				if f := w.Canvas().Focused(); f != button(t, w, "Deny") {
					t.Error("Deny does not have the focus")
				}
			}
			tt.act(t, w)
			if len(*answers) != 1 || (*answers)[0] != (answer{"r1", tt.want}) {
				t.Errorf("answers %+v, want one %v", *answers, tt.want)
			}
			if c.Open() != 0 {
				t.Error("the dialog stayed open")
			}
		})
	}
}

func TestControllerGoneAndDeadline(t *testing.T) {
	c, answers, timers := newController(t)
	c.Show(confirm.Request{ID: "a", Tool: "t", Time: at})
	c.Show(confirm.Request{ID: "b", Tool: "t", Time: at})
	c.Gone("a") // the asker timed out or another tray answered
	if c.Open() != 1 {
		t.Errorf("%d open after Gone", c.Open())
	}
	for _, f := range *timers {
		f() // deadlines pass (fyne.Do runs in place under the test driver)
	}
	if c.Open() != 0 {
		t.Errorf("%d open after the deadlines", c.Open())
	}
	// Closing an unanswered dialog denies (Respond then finds the request
	// gone and writes nothing).
	if len(*answers) != 2 || (*answers)[0].approved || (*answers)[1].approved {
		t.Errorf("answers %+v, want two denials", *answers)
	}
}

// TestEndToEnd has a serve-side Ask answered through a real dialog.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := &Controller{App: test.NewTempApp(t), Dir: dir, By: "ann", AfterFunc: func(time.Duration, func()) {}}
	reqs := make(chan confirm.Request, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched := make(chan error, 1)
	go func() { watched <- confirm.Watch(ctx, dir, func(r confirm.Request) { reqs <- r }) }()

	type result struct {
		a   confirm.Answer
		err error
	}
	res := make(chan result, 1)
	go func() {
		a, err := confirm.Ask(ctx, dir, confirm.Request{ClientName: "Claude", Tool: "update_labsheet_rows"})
		res <- result{a, err}
	}()
	r := <-reqs
	c.Show(r) // on the test goroutine, standing for the UI thread
	test.Tap(button(t, windowFor(c, r.ID), "Approve"))
	got := <-res
	if got.err != nil || !got.a.Approved || got.a.By != "ann" {
		t.Errorf("Ask = %+v, %v", got.a, got.err)
	}
	cancel()
	if err := <-watched; err != nil {
		t.Error(err)
	}
}

func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	// The deadline is shown in local time; keep it out of the file.
	got = strings.Replace(got, at.Add(60*time.Second).Local().Format("15:04:05"), "HH:MM:SS", 1)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}
