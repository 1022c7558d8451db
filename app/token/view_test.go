package token

import (
	"bytes"
	"context"
	"flag"
	"github.com/scispot/mcp-desktop/app/apptest"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
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

func TestViewGolden(t *testing.T) {
	tests := []struct {
		name string
		act  func(v *View)
	}{
		{"empty", func(*View) {}},
		{"rejected", func(v *View) {
			test.Type(v.entry, "sk-wrong")
			test.Tap(v.verify)
		}},
		{"saved", func(v *View) {
			test.Type(v.entry, secret)
			test.Tap(v.save)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			m := f.model()
			v, w := newTestView(t, m)
			m.Load(context.Background())
			tt.act(v)
			// The set-at time is local time; keep it out of the golden file.
			v.status.SetText(strings.Split(v.status.Text, ", set ")[0])
			assertGolden(t, "testdata/"+tt.name+".xml", test.RenderToMarkup(w.Canvas()))
		})
	}
}

func TestViewSaveClearsEntryAndEnablesRemove(t *testing.T) {
	f := newFixture(t)
	m := f.model()
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
	f := newFixture(t)
	m := f.model()
	v, w := newTestView(t, m)
	w.Canvas().Focus(v.entry)
	test.Type(v.entry, secret)
	v.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if !m.State().Stored {
		t.Error("Enter in the token field did not save")
	}
}

// TestTokenNeverShown saves a token from the window against a stand-in
// Scispot, then looks for it everywhere the app leaves text.
func TestTokenNeverShown(t *testing.T) {
	up := upstreamtest.New(t, secret)
	state := t.TempDir()
	var logs bytes.Buffer
	a := test.NewTempApp(t)
	d := &app.Deps{
		App:      a,
		StateDir: state,
		Keychain: keychain.NewMemory(),
		Sources: access.Sources{
			Policy: []policy.Store{upstreamPolicy(up.URL)},
			User:   func() (account.Account, error) { return account.Account{Name: "ann"}, nil },
		},
		Device:  "dev-1",
		Version: "test",
		Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
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
	entry := findPasswordEntry(w.Content())
	test.Type(entry, secret)
	test.Tap(findButton(w.Content(), "Verify and save"))

	if entry.Text != "" {
		t.Error("the entry still holds the token")
	}
	markup := test.RenderToMarkup(w.Canvas())
	if !strings.Contains(markup, "accepted the token") {
		t.Errorf("no success shown:\n%s", markup)
	}
	for where, text := range map[string]string{"window": markup + strings.Join(texts(w.Content()), "\n"), "log": logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the token appears in the %s", where)
		}
	}
	recs, err := audit.Read(context.Background(), statedir.AuditDir(state), audit.Filter{})
	if err != nil || len(recs) != 1 || recs[0].Event != audit.EventTokenSet || recs[0].Token != keychain.Fingerprint(secret) || recs[0].User != "ann" || recs[0].Client.Name != TrayClient {
		t.Errorf("records %+v, %v", recs, err)
	}
	if info, err := apitoken.ReadInfo(state); err != nil || info.Fingerprint != keychain.Fingerprint(secret) {
		t.Errorf("token.json: %+v, %v", info, err)
	}
	_ = filepath.WalkDir(state, func(p string, de os.DirEntry, err error) error {
		if err == nil && !de.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains the token", p)
			}
		}
		return nil
	})
}

func tapButton(t *testing.T, w fyne.Window, label string) {
	t.Helper()
	for _, o := range w.Canvas().Overlays().List() {
		if b := findButton(o, label); b != nil {
			test.Tap(b)
			return
		}
	}
	t.Fatalf("no %q button in a dialog", label)
}

// walk visits o and everything inside it.
func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, f)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, f)
		}
	}
}

func findButton(o fyne.CanvasObject, label string) *widget.Button {
	var found *widget.Button
	walk(o, func(c fyne.CanvasObject) {
		if b, ok := c.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	return found
}

func findPasswordEntry(o fyne.CanvasObject) *widget.Entry {
	var found *widget.Entry
	walk(o, func(c fyne.CanvasObject) {
		if e, ok := c.(*widget.Entry); ok && e.Password && found == nil {
			found = e
		}
	})
	return found
}

// texts returns every text a person could read in o.
func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(c fyne.CanvasObject) {
		switch x := c.(type) {
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.Entry:
			out = append(out, x.Text)
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.RichText:
			out = append(out, x.String())
		}
	})
	return out
}

func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	apptest.Golden(t, path, got, *update)
}

// upstreamPolicy is an admin policy that points at url.
type upstreamPolicy string

func (u upstreamPolicy) Name() string { return "test policy" }
func (u upstreamPolicy) Read(context.Context) (policy.Settings, error) {
	return policy.FromValues(map[string]any{"UpstreamURL": string(u)})
}
