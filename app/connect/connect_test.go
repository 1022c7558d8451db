package connect

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeClients keeps states in memory.
type fakeClients struct {
	mu     sync.Mutex
	states map[string]clients.State
	fail   map[string]error
	calls  []string
}

func newFake() *fakeClients {
	return &fakeClients{states: map[string]clients.State{
		clients.ClaudeDesktop: clients.Removed,
		clients.Cursor:        clients.Configured,
		clients.ClaudeCode:    clients.PlaintextToken,
		clients.VSCode:        clients.Stale,
		clients.Windsurf:      clients.NotInstalled,
	}, fail: map[string]error{}}
}

func (f *fakeClients) Status(context.Context) []clients.ClientStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []clients.ClientStatus
	for _, c := range clients.All() {
		out = append(out, clients.ClientStatus{Client: c.ID, Name: c.Name, State: f.states[c.ID],
			Path: "/home/ann/" + c.ID + ".json", Detail: c.Name + " is " + string(f.states[c.ID]) + "."})
	}
	return out
}

func (f *fakeClients) do(id, call string, to clients.State, action clients.Action) (clients.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call+" "+id)
	if err := f.fail[id]; err != nil {
		return clients.Change{Client: id}, err
	}
	f.states[id] = to
	return clients.Change{Client: id, Path: "/home/ann/" + id + ".json", Action: action, Changed: true, TokenFingerprint: "0123456789ab"}, nil
}

func (f *fakeClients) Connect(_ context.Context, id string) (clients.Change, error) {
	return f.do(id, "connect", clients.Configured, clients.ActionAdd)
}
func (f *fakeClients) Disconnect(_ context.Context, id string) (clients.Change, error) {
	return f.do(id, "disconnect", clients.NoConfig, clients.ActionRemove)
}
func (f *fakeClients) MoveToken(_ context.Context, id string) (clients.Change, error) {
	return f.do(id, "migrate", clients.Configured, clients.ActionMigrate)
}

func cardOf(s State, id string) Card {
	for _, c := range s.Cards {
		if c.Status.Client == id {
			return c
		}
	}
	return Card{}
}

func TestModel(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		act     func(m *Model, f *fakeClients)
		id      string
		want    Card // Label, ConnectText, CanDisconnect, CanMigrate, Err; Message substring
		restart string
	}{
		{name: "removed offers reconnect", act: func(*Model, *fakeClients) {}, id: clients.ClaudeDesktop,
			want: Card{Label: "Entry removed", ConnectText: "Reconnect"}},
		{name: "configured offers disconnect", act: func(*Model, *fakeClients) {}, id: clients.Cursor,
			want: Card{Label: "Connected", Good: true, CanDisconnect: true}},
		{name: "plaintext offers migrate only", act: func(*Model, *fakeClients) {}, id: clients.ClaudeCode,
			want: Card{Label: "Plaintext token found", CanMigrate: true}},
		{name: "stale", act: func(*Model, *fakeClients) {}, id: clients.VSCode,
			want: Card{Label: "Out of date", ConnectText: "Reconnect", CanDisconnect: true}},
		{name: "not installed", act: func(*Model, *fakeClients) {}, id: clients.Windsurf,
			want: Card{Label: "Not installed", ConnectText: "Connect anyway"}},
		{name: "reconnect claude desktop", act: func(m *Model, _ *fakeClients) { m.Connect(ctx, clients.ClaudeDesktop) },
			id:      clients.ClaudeDesktop,
			want:    Card{Label: "Connected", Good: true, CanDisconnect: true, Message: "Connected: the Scispot entry was added"},
			restart: "Fully quit and reopen Claude Desktop (closing the window is not enough)"},
		{name: "migrate", act: func(m *Model, _ *fakeClients) { m.MoveToken(ctx, clients.ClaudeCode) },
			id:      clients.ClaudeCode,
			want:    Card{Label: "Connected", Good: true, CanDisconnect: true, Message: "fingerprint 0123456789ab"},
			restart: "Claude Code"},
		{name: "disconnect", act: func(m *Model, _ *fakeClients) { m.Disconnect(ctx, clients.Cursor) },
			id:      clients.Cursor,
			want:    Card{Label: "Not connected", ConnectText: "Connect", Message: "Disconnected"},
			restart: "Cursor"},
		{name: "connect fails", act: func(m *Model, f *fakeClients) {
			f.fail[clients.VSCode] = errors.New("setting up VS Code: mcp.json line 3: invalid character")
			m.Connect(ctx, clients.VSCode)
		}, id: clients.VSCode,
			want: Card{Label: "Out of date", ConnectText: "Reconnect", CanDisconnect: true, Err: true, Message: "line 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			m := NewModel(f, false)
			m.Refresh(ctx)
			tt.act(m, f)
			s := m.State()
			if len(s.Cards) != 5 || s.Busy != "" {
				t.Fatalf("state %+v", s)
			}
			c := cardOf(s, tt.id)
			if c.Label != tt.want.Label || c.Good != tt.want.Good || c.ConnectText != tt.want.ConnectText ||
				c.CanDisconnect != tt.want.CanDisconnect || c.CanMigrate != tt.want.CanMigrate || c.Err != tt.want.Err ||
				!strings.Contains(c.Message, tt.want.Message) {
				t.Errorf("card %+v\nwant %+v", c, tt.want)
			}
			if !strings.Contains(s.Restart, tt.restart) || (tt.restart == "") != (s.Restart == "") {
				t.Errorf("Restart %q, want …%q…", s.Restart, tt.restart)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	m := NewModel(&fakeClients{states: map[string]clients.State{}}, true)
	if s := m.State(); len(s.Cards) != 0 || !s.Demo {
		t.Errorf("state %+v", s)
	}
}

func TestRemoved(t *testing.T) {
	changes := []clients.StatusChange{
		{Client: "a", From: clients.ClientStatus{State: clients.Configured}, To: clients.ClientStatus{State: clients.Removed, Name: "A"}},
		{Client: "b", From: clients.ClientStatus{State: clients.Removed}, To: clients.ClientStatus{State: clients.Removed}},
		{Client: "c", From: clients.ClientStatus{State: clients.NoConfig}, To: clients.ClientStatus{State: clients.Configured}},
	}
	got := Removed(changes)
	if len(got) != 1 || got[0].Client != "a" {
		t.Errorf("Removed = %+v", got)
	}
}

func TestView(t *testing.T) {
	a := test.NewTempApp(t)
	f := newFake()
	d := &app.Deps{App: a}
	v := open(d, f, false, func(fn func()) { fn() })
	w := a.Driver().AllWindows()[len(a.Driver().AllWindows())-1]
	w.Resize(fyne.NewSize(640, 1600))
	assertGolden(t, "testdata/mixed.xml", test.RenderToMarkup(w.Canvas()))

	if open(d, f, false, func(fn func()) { fn() }) != nil {
		t.Error("a second Open made a second window")
	}
	test.Tap(v.buttons[clients.ClaudeDesktop+"/connect"])
	markup := test.RenderToMarkup(w.Canvas())
	if !strings.Contains(markup, "closing the window is not enough") {
		t.Errorf("no restart note after reconnecting:\n%s", markup)
	}
	test.Tap(v.buttons[clients.ClaudeCode+"/migrate"])
	if f.states[clients.ClaudeCode] != clients.Configured {
		t.Error("Move token to keychain did not migrate")
	}
	if _, ok := v.buttons[clients.Windsurf+"/disconnect"]; ok {
		t.Error("Disconnect offered for a client that is not installed")
	}
}

// TestSystemWithService connects a client and moves a plaintext token
// through the real files of a fake home, with a real service: the service
// records each change, and the moved token ends up sealed.
func TestSystemWithService(t *testing.T) {
	ctx := context.Background()
	const token = "sst_live_4b9d2e7f1a6c3058"
	root := t.TempDir()
	const exe = "/opt/scispot-mcp"
	if err := os.MkdirAll(filepath.Join(root, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt", "scispot-mcp"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cursorDir := filepath.Join(root, "home", "ann", ".cursor")
	if err := os.MkdirAll(cursorDir, 0o700); err != nil {
		t.Fatal(err)
	}
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	kc := keychain.NewMemory()
	d := &app.Deps{App: test.NewTempApp(t), StateDir: t.TempDir(), Service: svc.Client, Keychain: kc, Executable: exe, Demo: true}
	s := SystemFor(d)
	s.Env = clients.Env{GOOS: "linux", Home: "/home/ann", Root: root}

	ch, err := s.Connect(ctx, clients.Cursor)
	if err != nil || !ch.Changed {
		t.Fatalf("Connect = %+v, %v", ch, err)
	}
	b, err := os.ReadFile(filepath.Join(cursorDir, "mcp.json"))
	if err != nil || !strings.Contains(string(b), "--demo") {
		t.Errorf("mcp.json: %s, %v", b, err)
	}
	if _, err := s.MoveToken(ctx, clients.Cursor); err == nil {
		t.Error("MoveToken with nothing to move succeeded")
	}

	// Claude Code holds a plaintext token.
	ccConfig := filepath.Join(root, "home", "ann", ".claude.json")
	if err := os.WriteFile(ccConfig, []byte(`{"mcpServers": {"scispot": {"type": "http", "url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer `+token+`"}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ch, err = s.MoveToken(ctx, clients.ClaudeCode)
	if err != nil || !ch.Changed {
		t.Fatalf("MoveToken = %+v, %v", ch, err)
	}
	item, err := kc.Get(ctx, keychain.AccountToken)
	if err != nil || !seal.IsSealed(item) {
		t.Errorf("the keychain holds %q (%v), not the sealed token", item, err)
	}
	if info, err := svc.TokenStatus(ctx, item); err != nil || info.Fingerprint != keychain.Fingerprint(token) {
		t.Errorf("the sealed token is %+v, %v", info, err)
	}
	if b, _ := os.ReadFile(ccConfig); strings.Contains(string(b), token) {
		t.Error("the config still holds the token")
	}

	recs, err := svc.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Event == audit.EventSetupWrite {
			got = append(got, r.Tool+" "+r.Client.Name+" "+r.Token)
		}
	}
	want := []string{"cursor " + TrayClient + " ", "claude-code " + TrayClient + " " + keychain.Fingerprint(token)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("setup.write records %q, want %q", got, want)
	}

	// Without a service the change is still made; only the record is missing.
	svc.Stop(t)
	if ch, err := s.Disconnect(ctx, clients.Cursor); err != nil || !ch.Changed {
		t.Errorf("Disconnect without a service = %+v, %v", ch, err)
	}
}

func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	apptest.Golden(t, path, got, *update)
}
