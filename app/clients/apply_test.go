package clients

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/app/clients/configfile"
)

// testMachine is a fake machine for one OS under a temp folder, with the
// scispot-mcp binary installed.
type testMachine struct {
	env Env
	exe string // in the fake OS's syntax
}

func newMachine(t *testing.T, goos string) testMachine {
	t.Helper()
	root := t.TempDir()
	var m testMachine
	switch goos {
	case "windows":
		m.env = Env{GOOS: "windows", Home: `C:\Users\ann`, Root: root, Getenv: envOf(map[string]string{
			"APPDATA":      `C:\Users\ann\AppData\Roaming`,
			"LOCALAPPDATA": `C:\Users\ann\AppData\Local`,
			"USERPROFILE":  `C:\Users\ann`,
			"ProgramData":  `C:\ProgramData`,
			"ProgramFiles": `C:\Program Files`,
		})}
		m.exe = `C:\Program Files\Scispot MCP\scispot-mcp.exe`
	case "darwin":
		m.env = Env{GOOS: "darwin", Home: "/Users/ann", Root: root}
		m.exe = "/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp"
	default:
		m.env = Env{GOOS: "linux", Home: "/home/ann", Root: root}
		m.exe = "/opt/scispot-mcp/scispot-mcp"
	}
	mkdirs(t, m.env, m.env.dir(m.exe), m.env.Home)
	if err := os.WriteFile(m.env.host(m.exe), []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m testMachine) read(t *testing.T, c Client) map[string]any {
	t.Helper()
	path, err := ConfigPath(c, m.env)
	if err != nil {
		t.Fatal(err)
	}
	b, err := configfile.Read(m.env.host(path))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustLookup(t testing.TB, id string) Client {
	t.Helper()
	c, err := Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The entry each client gets, per clients.md.
func TestEntryShapes(t *testing.T) {
	mac := `"/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp"`
	win := `"C:\\Program Files\\Scispot MCP\\scispot-mcp.exe"`
	tests := []struct {
		goos, client string
		demo         bool
		want         string
	}{
		{"darwin", ClaudeDesktop, false, `{"command":` + mac + `,"args":["serve"],"env":{}}`},
		{"darwin", ClaudeDesktop, true, `{"command":` + mac + `,"args":["serve","--demo"],"env":{}}`},
		{"windows", ClaudeDesktop, false, `{"command":` + win + `,"args":["serve"],"env":{"LOCALAPPDATA":"C:\\Users\\ann\\AppData\\Local","ProgramData":"C:\\ProgramData","ProgramFiles":"C:\\Program Files"}}`},
		{"darwin", ClaudeCode, false, `{"type":"stdio","command":` + mac + `,"args":["serve"],"env":{}}`},
		{"windows", ClaudeCode, false, `{"type":"stdio","command":` + win + `,"args":["serve"],"env":{}}`},
		{"darwin", Cursor, false, `{"command":` + mac + `,"args":["serve"],"env":{}}`},
		{"windows", Cursor, true, `{"command":` + win + `,"args":["serve","--demo"],"env":{}}`},
		{"darwin", VSCode, false, `{"type":"stdio","command":` + mac + `,"args":["serve"]}`},
		{"darwin", Windsurf, false, `{"command":` + mac + `,"args":["serve"],"env":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.goos+"/"+tt.client, func(t *testing.T) {
			m := newMachine(t, tt.goos)
			got := entry(mustLookup(t, tt.client), m.env, m.exe, tt.demo)
			if string(got) != tt.want {
				t.Errorf("entry =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestApplyEveryClientEveryOS(t *testing.T) {
	for _, goos := range []string{"darwin", "windows", "linux"} {
		for _, c := range All() {
			t.Run(goos+"/"+c.ID, func(t *testing.T) {
				m := newMachine(t, goos)
				ch, err := Apply(context.Background(), c, m.env, Options{Executable: m.exe})
				if err != nil {
					t.Fatal(err)
				}
				if !ch.Changed || ch.Action != ActionAdd || ch.Note != c.Restart {
					t.Errorf("change = %+v", ch)
				}
				servers, _ := m.read(t, c)[c.Key].(map[string]any)
				e, _ := servers[EntryName].(map[string]any)
				if e["command"] != m.exe {
					t.Errorf("entry = %v", e)
				}
				// Twice: nothing changes.
				ch, err = Apply(context.Background(), c, m.env, Options{Executable: m.exe})
				if err != nil || ch.Changed || ch.Action != ActionNone {
					t.Errorf("second apply: %+v, %v", ch, err)
				}
				// Remove.
				ch, err = Apply(context.Background(), c, m.env, Options{Remove: true})
				if err != nil || !ch.Changed || ch.Action != ActionRemove {
					t.Errorf("remove: %+v, %v", ch, err)
				}
				servers, _ = m.read(t, c)[c.Key].(map[string]any)
				if _, ok := servers[EntryName]; ok {
					t.Error("entry still there after remove")
				}
			})
		}
	}
}

// With a Store (MSIX) install, Claude Desktop's entry goes into the file
// inside the package folder, which is the one the app reads.
func TestApplyClaudeDesktopStore(t *testing.T) {
	m := newMachine(t, "windows")
	pkg := `C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc`
	mkdirs(t, m.env, pkg)
	ch, err := Apply(context.Background(), mustLookup(t, ClaudeDesktop), m.env, Options{Executable: m.exe})
	if err != nil {
		t.Fatal(err)
	}
	want := pkg + `\LocalCache\Roaming\Claude\claude_desktop_config.json`
	if ch.Path != want {
		t.Errorf("path = %q, want %q", ch.Path, want)
	}
	if _, err := os.Stat(m.env.host(want)); err != nil {
		t.Errorf("Store file not written: %v", err)
	}
	if _, err := os.Stat(m.env.host(`C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`)); err == nil {
		t.Error("classic file written too")
	}
}

func TestApplyKeepsTheRestOfTheFile(t *testing.T) {
	m := newMachine(t, "darwin")
	c := mustLookup(t, ClaudeDesktop)
	path, _ := ConfigPath(c, m.env)
	mkdirs(t, m.env, m.env.dir(path))
	orig := "{\n  // my servers\n  \"mcpServers\": {\n    \"fs\": {\"command\": \"npx\", \"args\": [\"fs\"],},\n  },\n  \"theme\": \"dark\",\n}\n"
	if err := os.WriteFile(m.env.host(path), []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }

	// Dry run: a diff, nothing written.
	ch, err := Apply(context.Background(), c, m.env, Options{Executable: m.exe, DryRun: true, Now: now})
	if err != nil || !ch.Changed || !ch.DryRun || !strings.Contains(ch.Diff, `+    "scispot": {`) || !strings.HasPrefix(ch.Note, "Dry run") {
		t.Fatalf("dry run: %+v, %v", ch, err)
	}
	if b, _ := os.ReadFile(m.env.host(path)); string(b) != orig {
		t.Fatal("dry run wrote")
	}

	ch, err = Apply(context.Background(), c, m.env, Options{Executable: m.exe, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Backup != m.env.host(path)+".scispot-backup-20260304T050607Z" {
		t.Errorf("backup = %q", ch.Backup)
	}
	want := "{\n  // my servers\n  \"mcpServers\": {\n    \"fs\": {\"command\": \"npx\", \"args\": [\"fs\"],},\n" +
		"    \"scispot\": {\n      \"command\": \"/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp\",\n      \"args\": [\"serve\"],\n      \"env\": {}\n    },\n" +
		"  },\n  \"theme\": \"dark\",\n}\n"
	b, _ := os.ReadFile(m.env.host(path))
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}

	// Switching to the demo updates the entry in place.
	ch, err = Apply(context.Background(), c, m.env, Options{Executable: m.exe, Demo: true, Now: now})
	if err != nil || ch.Action != ActionUpdate {
		t.Fatalf("demo: %+v, %v", ch, err)
	}
}

func TestApplyExecutable(t *testing.T) {
	c := mustLookup(t, Cursor)
	m := newMachine(t, "linux")
	for _, exe := range []string{"", "scispot-mcp", "/opt/missing/scispot-mcp"} {
		if _, err := Apply(context.Background(), c, m.env, Options{Executable: exe}); !errors.Is(err, ErrExecutable) {
			t.Errorf("%q: err = %v, want ErrExecutable", exe, err)
		}
	}
	w := newMachine(t, "windows")
	if _, err := Apply(context.Background(), c, w.env, Options{Executable: "/usr/bin/scispot-mcp"}); !errors.Is(err, ErrExecutable) {
		t.Errorf("Unix path on Windows: err = %v", err)
	}
}

// On this machine the executable is resolved through symbolic links.
func TestApplyResolvesExecutableLinks(t *testing.T) {
	home := t.TempDir()
	real := filepath.Join(home, "Cellar", "scispot-mcp")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "scispot-mcp")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	env := Env{Home: home}
	c := mustLookup(t, Cursor)
	if _, err := Apply(context.Background(), c, env, Options{Executable: link}); err != nil {
		t.Fatal(err)
	}
	b, _ := configfile.Read(filepath.Join(home, ".cursor", "mcp.json"))
	wantReal, _ := filepath.EvalSymlinks(real)
	if !strings.Contains(string(b), wantReal) {
		t.Errorf("entry does not launch the resolved path %s: %s", wantReal, b)
	}
}

func TestApplyRefusesToOverwriteAToken(t *testing.T) {
	m := newMachine(t, "linux")
	c := mustLookup(t, ClaudeCode)
	path, _ := ConfigPath(c, m.env)
	const token = "sst_live_9f8e7d6c5b4a3210"
	orig := `{"mcpServers": {"scispot": {"type": "http", "url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer ` + token + `"}}}}`
	if err := os.WriteFile(m.env.host(path), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{Executable: m.exe}, {Remove: true}} {
		_, err := Apply(context.Background(), c, m.env, opts)
		if !errors.Is(err, ErrPlaintextToken) {
			t.Fatalf("err = %v, want ErrPlaintextToken", err)
		}
		if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "--migrate") {
			t.Errorf("err = %q", err)
		}
	}
	if b, _ := os.ReadFile(m.env.host(path)); string(b) != orig {
		t.Error("file changed")
	}
}

func TestApplyRecordsAndRemembers(t *testing.T) {
	m := newMachine(t, "linux")
	c := mustLookup(t, Windsurf)
	state := filepath.Join(t.TempDir(), "state", "clients.json")
	var got []Change
	opts := Options{
		Executable: m.exe,
		StateFile:  state,
		Now:        func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Record: func(_ context.Context, ch Change) error {
			got = append(got, ch)
			return nil
		},
	}
	dry := opts
	dry.DryRun = true
	if _, err := Apply(context.Background(), c, m.env, dry); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("dry run recorded: %+v", got)
	}
	if _, err := os.Stat(state); err == nil {
		t.Fatal("dry run wrote the state file")
	}
	for range 2 {
		if _, err := Apply(context.Background(), c, m.env, opts); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Action != ActionAdd || got[0].Diff != "" {
		t.Fatalf("records = %+v, want one add", got)
	}
	recs, err := readState(state)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := ConfigPath(c, m.env)
	want := record{Path: path, Command: m.exe, Args: []string{"serve"}, Written: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, recs[Windsurf]); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}

	rm := opts
	rm.Remove = true
	if _, err := Apply(context.Background(), c, m.env, rm); err != nil {
		t.Fatal(err)
	}
	recs, _ = readState(state)
	if _, ok := recs[Windsurf]; ok || len(got) != 2 || got[1].Action != ActionRemove {
		t.Errorf("after remove: records %v, audit %+v", recs, got)
	}

	// A failing audit hook is reported, after the write.
	opts.Record = func(context.Context, Change) error { return errors.New("audit full") }
	ch, err := Apply(context.Background(), c, m.env, opts)
	if err == nil || !ch.Changed || !strings.Contains(err.Error(), "audit full") {
		t.Errorf("failing hook: %+v, %v", ch, err)
	}
}

func TestApplyUnparseableConfig(t *testing.T) {
	m := newMachine(t, "linux")
	c := mustLookup(t, Cursor)
	path, _ := ConfigPath(c, m.env)
	mkdirs(t, m.env, m.env.dir(path))
	orig := "{\n  \"mcpServers\": {\n    \"x\": {\"command\": \"x\"}\n  \n"
	if err := os.WriteFile(m.env.host(path), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Apply(context.Background(), c, m.env, Options{Executable: m.exe})
	var pe *configfile.ParseError
	if !errors.As(err, &pe) || pe.Line != 5 {
		t.Fatalf("err = %v, want a parse error at line 5", err)
	}
	if b, _ := os.ReadFile(m.env.host(path)); string(b) != orig {
		t.Error("file changed")
	}
}
