package activity_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/activity"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

var update = flag.Bool("update", false, "rewrite the golden markup files in testdata")

func newActivity(t *testing.T) (*activity.Activity, *app.Deps) {
	t.Helper()
	state := t.TempDir()
	d := &app.Deps{
		App:      test.NewTempApp(t),
		StateDir: state,
		Feed:     audit.NewFeed(statedir.AuditDir(state), audit.FeedOptions{}),
	}
	now := func() time.Time { return t0.Add(30 * time.Minute) }
	return activity.New(d, activity.Options{Location: time.UTC, Now: now}), d
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
		sessions []audit.SessionState
		err      error
		wantLen  int
	}{
		{name: "empty"},
		{name: "busy", recs: busy(10_000), wantLen: 10_000, sessions: []audit.SessionState{
			{Session: "s0", PID: 4242, Client: audit.Client{Name: "Claude Desktop", Version: "0.9.2"}, Started: t0},
			{Session: "s1", PID: 4343, Client: audit.Client{Name: "Cursor"}, Started: t0.Add(time.Minute)},
		}},
		{name: "error", recs: busy(3), wantLen: 3, err: errors.New("reading the audit trail: permission denied")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newActivity(t)
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
	a, _ := newActivity(t)
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

func TestStopSessionWritesControlFile(t *testing.T) {
	a, d := newActivity(t)
	a.Model().SetSessions([]audit.SessionState{{Session: "s0", PID: 1, Client: audit.Client{Name: "Cursor"}, Started: t0}})
	a.Open()
	var stop *widget.Button
	for _, o := range test.LaidOutObjects(a.Window().Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Stop" {
			stop = b
		}
	}
	if stop == nil {
		t.Fatal("no Stop button")
	}
	test.Tap(stop)
	var confirm *widget.Button
	for _, o := range test.LaidOutObjects(a.Window().Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Yes" {
			confirm = b
		}
	}
	if confirm == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(confirm)
	path := statedir.ControlFile(d.StateDir)
	// The write runs off the UI thread; control.Update is atomic, so wait
	// for the file with a watcher-free loop bounded by the test deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := control.Read(path)
		if err == nil && st.Stops("s0") && !st.Killed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("control file never asked s0 to stop: %+v %v", st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
