package token

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newTestView builds a view whose model calls run in place.
func newTestView(t *testing.T, m *Model) (*View, fyne.Window) {
	t.Helper()
	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(m, w)
	v.spawn = func(f func()) { f() }
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(560, 640))
	t.Cleanup(w.Close)
	return v, w
}

var latency = regexp.MustCompile(`\(\d+ ms\)`)

func TestViewGolden(t *testing.T) {
	tests := []struct {
		name string
		act  func(v *View)
	}{
		{"empty", func(*View) {}},
		{"rejected", func(v *View) {
			test.Type(v.entry, "sk-wrong-token-000")
			test.Tap(v.save)
		}},
		{"saved", func(v *View) {
			test.Type(v.entry, secret)
			test.Tap(v.save)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			m := f.model(false)
			v, w := newTestView(t, m)
			m.Load(context.Background())
			tt.act(v)
			// The set-at time is local time and the latency varies; keep
			// them out of the golden file.
			v.status.SetText(strings.Split(v.status.Text, ", set ")[0])
			v.result.SetText(latency.ReplaceAllString(v.result.Text, "(85 ms)"))
			apptest.Golden(t, "testdata/"+tt.name+".xml", test.RenderToMarkup(w.Canvas()), *update)
		})
	}
}

func TestViewSaveClearsEntryAndEnablesRemove(t *testing.T) {
	f := newFixture(t, "")
	m := f.model(false)
	v, w := newTestView(t, m)
	m.Load(context.Background())
	if !v.remove.Disabled() {
		t.Error("Remove is enabled with no token stored")
	}
	test.Type(v.entry, secret)
	test.Tap(v.save)
	if v.entry.Text != "" {
		t.Error("the entry still holds the token after saving")
	}
	if v.remove.Disabled() {
		t.Error("Remove is disabled after saving")
	}
	// Remove, through the confirmation dialog.
	test.Tap(v.remove)
	tapButton(t, w, "Remove")
	if got, err := f.kc.Get(context.Background(), keychain.AccountToken); err == nil {
		t.Errorf("token %q still stored", got)
	}
	if !v.remove.Disabled() {
		t.Error("Remove is enabled after removal")
	}
}

func TestViewEnterSaves(t *testing.T) {
	f := newFixture(t, "")
	m := f.model(false)
	v, w := newTestView(t, m)
	w.Canvas().Focus(v.entry)
	test.Type(v.entry, secret)
	v.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !m.State().Stored {
		t.Error("Enter in the token field did not save")
	}
}

func TestViewDemoInstance(t *testing.T) {
	f := newFixture(t, "user-demo")
	m := f.model(true)
	v, _ := newTestView(t, m)
	m.Load(context.Background())
	if !v.save.Disabled() || !v.saveRaw.Disabled() {
		t.Error("the save buttons are on, but the demo instance cannot seal")
	}
	if !strings.Contains(v.note.Text, "cannot seal") {
		t.Errorf("note %q", v.note.Text)
	}
}

// TestTokenNeverShown saves a token from the window through a real service
// against a stand-in Scispot, then looks for it everywhere the app leaves
// text.
func TestTokenNeverShown(t *testing.T) {
	f := newFixture(t, "")
	var logs bytes.Buffer
	a := test.NewTempApp(t)
	d := &app.Deps{
		App:      a,
		StateDir: f.state,
		Keychain: f.kc,
		Service:  f.svc.Client,
		Version:  "test",
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	inline := func(f func()) { f() }
	open(d, inline)
	w := findWindow(a, Title)
	if w == nil {
		t.Fatal("Open showed no window")
	}
	open(d, inline) // a second Open brings the same window forward
	n := 0
	for _, x := range a.Driver().AllWindows() {
		if x.Title() == Title {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d token windows after opening twice", n)
	}
	entry := apptest.PasswordEntry(w.Content())
	test.Type(entry, secret)
	test.Tap(apptest.Button(w.Content(), "Verify and save"))

	if entry.Text != "" {
		t.Error("the entry still holds the token")
	}
	markup := test.RenderToMarkup(w.Canvas())
	if !strings.Contains(markup, "accepted the token") {
		t.Errorf("no success shown:\n%s", markup)
	}
	for where, text := range map[string]string{"window": markup + strings.Join(apptest.Texts(w.Content()), "\n"), "log": logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the token appears in the %s", where)
		}
	}
	if item, _ := f.kc.Get(context.Background(), keychain.AccountToken); !seal.IsSealed(item) {
		t.Error("the keychain does not hold the sealed token")
	}
	for _, dir := range []string{f.state, f.svc.StateDir} {
		_ = filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s contains the token", p)
				}
			}
			return nil
		})
	}
}

func tapButton(t *testing.T, w fyne.Window, label string) {
	t.Helper()
	for _, o := range w.Canvas().Overlays().List() {
		if b := apptest.Button(o, label); b != nil {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("no %q button in a dialog", label)
}
