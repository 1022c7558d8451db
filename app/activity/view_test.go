package activity_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/activity"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

var update = flag.Bool("update", false, "rewrite the golden markup files in testdata")

func newActivity(t *testing.T, svc app.Service) (*activity.Activity, *app.Deps) {
	t.Helper()
	return newActivityUI(t, svc, nil)
}

// newActivityUI is newActivity whose UI work runs where ui says (fyne.Do
// when nil).
func newActivityUI(t *testing.T, svc app.Service, ui *apptest.UI) (*activity.Activity, *app.Deps) {
	t.Helper()
	d := &app.Deps{
		App:      test.NewTempApp(t),
		StateDir: t.TempDir(),
		Service:  svc,
	}
	opts := activity.Options{Location: time.UTC, Now: func() time.Time { return t0.Add(30 * time.Minute) }}
	if ui != nil {
		opts.Do = ui.Do
	}
	return activity.New(d, opts), d
}

func busy(n int) []audit.Record {
	clients := []string{"Claude Desktop", "Cursor", "Claude Code"}
	toolNames := []string{"list_samples", "get_protocol", "search_inventory", "list_projects"}
	recs := make([]audit.Record, 0, n)
	for i := range n {
		o := audit.OutcomeOK
		switch {
		case i%17 == 0:
			o = audit.OutcomeDenied
		case i%29 == 0:
			o = audit.OutcomeError
		}
		r := call(fmt.Sprintf("s%d", i%3), int64(i/3+1), t0.Add(time.Duration(i)*150*time.Millisecond), clients[i%3], toolNames[i%4], o)
		if i%41 == 0 {
			r.Flags = []string{audit.FlagInjectionSuspect}
		}
		recs = append(recs, r)
	}
	return recs
}

// assertMarkup compares the window with testdata/NAME.xml; -update
// rewrites it.
func assertMarkup(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	got := test.RenderToMarkup(c)
	path := filepath.Join("testdata", name+".xml")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
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
		failed := filepath.Join("testdata", "failed", name+".xml")
		os.MkdirAll(filepath.Dir(failed), 0o755)
		os.WriteFile(failed, []byte(got), 0o644)
		t.Errorf("window differs from %s; see %s (run with -update to accept)", path, failed)
	}
}

func TestWindowStates(t *testing.T) {
	tests := []struct {
		name     string
		recs     []audit.Record
		sessions []localapi.Session
		err      error
		wantLen  int
	}{
		{name: "empty"},
		{name: "busy", recs: busy(10_000), wantLen: 10_000, sessions: []localapi.Session{
			{ID: "s0", PID: 4242, Client: "Claude Desktop", Version: "0.9.2", Started: t0},
			{ID: "s1", PID: 4343, Client: "Cursor", Started: t0.Add(time.Minute)},
		}},
		{name: "error", recs: busy(3), wantLen: 3, err: errors.New("reading the audit trail: permission denied")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newActivity(t, nil)
			a.Model().Add(tt.recs...)
			a.Model().SetSessions(tt.sessions)
			a.Model().SetError(tt.err)
			a.Open()
			w := a.Window()
			if w == nil {
				t.Fatal("no window after Open")
			}
			if a.Model().Len() != tt.wantLen {
				t.Errorf("Len = %d, want %d", a.Model().Len(), tt.wantLen)
			}
			assertMarkup(t, tt.name, w.Canvas())
			// Opening again focuses the same window.
			a.Open()
			if a.Window() != w {
				t.Error("a second Open made a new window")
			}
			w.Close()
			if a.Window() != nil {
				t.Error("window still set after Close")
			}
		})
	}
}

func TestFilterTyping(t *testing.T) {
	a, _ := newActivity(t, nil)
	a.Model().Add(busy(300)...)
	a.Open()
	c := a.Window().Canvas()
	if c.Focused() != nil {
		t.Fatalf("focused = %T at open; nothing may be (a blinking cursor costs idle CPU)", c.Focused())
	}
	var entry *widget.Entry
	for range 10 { // Tab until the keyboard reaches the filter
		c.FocusNext()
		if e, ok := c.Focused().(*widget.Entry); ok {
			entry = e
			break
		}
	}
	if entry == nil {
		t.Fatal("Tab never reaches the filter entry")
	}
	test.Type(entry, "inventory")
	if got := a.Model().Len(); got != 75 {
		t.Errorf("after typing: Len = %d, want 75", got)
	}
	for i := range a.Model().Len() {
		if r, _ := a.Model().Record(i); r.Tool != "search_inventory" {
			t.Fatalf("row %d is %s", i, r.Tool)
		}
	}
}

// tapStop taps the Stop button of the first live session and confirms.
func tapStop(t *testing.T, w fyne.Window) {
	t.Helper()
	stop := apptest.Button(w.Content(), "Stop")
	if stop == nil {
		t.Fatal("no Stop button")
	}
	test.Tap(stop)
	confirm := apptest.Button(w.Canvas().Overlays().Top(), "Yes")
	if confirm == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(confirm)
}

// TestLiveFromService: the window takes the trail and then every call of a
// real MCP session from the service, lists the session live, stops it with
// its Stop button, and says so when the service goes away.
func TestLiveFromService(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	ctx := context.Background()
	// A call made before the tray starts comes from the trail.
	early := svc.OpenDemoSession(t, "claude-ai")
	if _, err := early.CallTool(ctx, &mcp.CallToolParams{Name: "list_locations"}); err != nil {
		t.Fatal(err)
	}
	early.Close()
	apptest.Eventually(t, "the first session ended", func() bool { return len(svc.MustStatus(t).Sessions) == 0 })

	ui := apptest.NewUI()
	a, _ := newActivityUI(t, svc.Client, ui)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
				return
			default:
				ui.Drain()
				time.Sleep(time.Millisecond)
			}
		}
	})
	ui.Until(t, "the history", func() bool { return a.Model().Total() == 1 })
	a.Open()
	w := a.Window()

	cs := svc.OpenDemoSession(t, "cursor-vscode")
	ui.Until(t, "the live session", func() bool { return len(a.Model().Sessions()) == 1 })
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
		t.Fatal(err)
	}
	ui.Until(t, "the live call", func() bool { return a.Model().Total() == 2 && a.Shown() == 2 })
	r, _ := a.Model().Record(0)
	if r.Tool != "list_labsheets" || r.Client.Name != "cursor-vscode" || r.Outcome != audit.OutcomeOK {
		t.Errorf("newest row %+v", r)
	}
	if r, _ := a.Model().Record(1); r.Tool != "list_locations" {
		t.Errorf("oldest row %+v", r)
	}
	if s := a.Model().Sessions()[0]; s.Client != "cursor-vscode" {
		t.Errorf("session %+v", s)
	}

	tapStop(t, w)
	ui.Until(t, "the session stopped", func() bool {
		return len(svc.MustStatus(t).Sessions) == 0 && len(a.Model().Sessions()) == 0
	})
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err == nil && !res.IsError {
		t.Error("the stopped session still answers")
	}

	svc.Stop(t)
	ui.Until(t, "not running", func() bool {
		err := a.Model().Err()
		return err != nil && strings.Contains(err.Error(), "not running")
	})
}
