package clients

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
)

func statusOf(t *testing.T, all []ClientStatus, id string) ClientStatus {
	t.Helper()
	for _, st := range all {
		if st.Client == id {
			return st
		}
	}
	t.Fatalf("no status for %s", id)
	return ClientStatus{}
}

func TestStatus(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	state := filepath.Join(t.TempDir(), "clients.json")
	opts := StatusOptions{Executable: m.exe, StateFile: state}
	desktop, cursor, code, vscode, windsurf := mustLookup(t, ClaudeDesktop), mustLookup(t, Cursor), mustLookup(t, ClaudeCode), mustLookup(t, VSCode), mustLookup(t, Windsurf)

	// Nothing installed.
	for _, st := range Status(ctx, m.env, opts) {
		if st.State != NotInstalled {
			t.Errorf("%s = %s, want not-installed", st.Client, st.State)
		}
	}

	// Claude Desktop installed, nothing written yet.
	path, _ := ConfigPath(desktop, m.env)
	mkdirs(t, m.env, m.env.dir(path))
	if st := statusOf(t, Status(ctx, m.env, opts), ClaudeDesktop); st.State != NoConfig || st.Path != path {
		t.Errorf("desktop = %+v", st)
	}

	// Configured, then its entry removed by someone else → Removed.
	if _, err := Apply(ctx, desktop, m.env, Options{Executable: m.exe, StateFile: state}); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, Status(ctx, m.env, opts), ClaudeDesktop); st.State != Configured || st.Command != m.exe || st.Demo {
		t.Errorf("desktop = %+v", st)
	}
	if err := os.WriteFile(m.env.host(path), []byte(`{"mcpServers": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, Status(ctx, m.env, opts), ClaudeDesktop); st.State != Removed || !strings.Contains(st.Detail, "reconnect") {
		t.Errorf("desktop = %+v", st)
	}
	// Without the state file the same is just not configured.
	if st := statusOf(t, Status(ctx, m.env, StatusOptions{Executable: m.exe}), ClaudeDesktop); st.State != NoConfig {
		t.Errorf("desktop without record = %+v", st)
	}

	// Stale: another binary, a missing binary, or not a serve entry.
	other := "/opt/old/scispot-mcp"
	mkdirs(t, m.env, m.env.dir(other))
	if err := os.WriteFile(m.env.host(other), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"other binary":   `{"mcpServers":{"scispot":{"command":"` + other + `","args":["serve"]}}}`,
		"missing binary": `{"mcpServers":{"scispot":{"command":"/gone/scispot-mcp","args":["serve"]}}}`,
		"not serve":      `{"mcpServers":{"scispot":{"command":"` + m.exe + `","args":["tools"]}}}`,
		"remote":         `{"mcpServers":{"scispot":{"url":"https://mcp.scispot.io/"}}}`,
	} {
		writeConfig(t, m, cursor, content)
		if st := statusOf(t, Status(ctx, m.env, opts), Cursor); st.State != Stale {
			t.Errorf("%s: cursor = %+v", name, st)
		}
	}

	// A plaintext token wins over everything.
	writeConfig(t, m, code, `{"mcpServers":{"scispot-remote":{"url":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer `+token1+`"}}}}`)
	st := statusOf(t, Status(ctx, m.env, opts), ClaudeCode)
	if st.State != PlaintextToken || strings.Contains(st.Detail, token1) || !strings.Contains(st.Detail, "--migrate") {
		t.Errorf("claude code = %+v", st)
	}

	// A broken file is Unreadable, with its position.
	writeConfig(t, m, vscode, "{\n  \"servers\": {\n")
	if st := statusOf(t, Status(ctx, m.env, opts), VSCode); st.State != Unreadable || !strings.Contains(st.Detail, "mcp.json:3:1") {
		t.Errorf("vscode = %+v", st)
	}

	// Demo entries are flagged.
	mkdirs(t, m.env, m.env.dir(m.env.join(m.env.Home, ".codeium", "windsurf", "x")))
	if _, err := Apply(ctx, windsurf, m.env, Options{Executable: m.exe, Demo: true}); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, Status(ctx, m.env, opts), Windsurf); st.State != Configured || !st.Demo {
		t.Errorf("windsurf = %+v", st)
	}
}

// Write the entry → Configured; delete it from outside → the watcher
// reports Removed.
func TestWatcherReportsRemoval(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	home := t.TempDir()
	exeDir := t.TempDir()
	exe := filepath.Join(exeDir, "scispot-mcp")
	if err := os.WriteFile(exe, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, _ = filepath.EvalSymlinks(exe)
	env := Env{Home: home, Getenv: envOf(nil)}
	state := filepath.Join(t.TempDir(), "clients.json")
	c := mustLookup(t, Cursor)
	if _, err := Apply(ctx, c, env, Options{Executable: exe, StateFile: state}); err != nil {
		t.Fatal(err)
	}

	type report struct {
		all     []ClientStatus
		changed []StatusChange
	}
	reports := make(chan report, 16)
	w := &Watcher{
		Env:      env,
		Options:  StatusOptions{Executable: exe, StateFile: state},
		Debounce: 20 * time.Millisecond,
		OnChange: func(_ context.Context, all []ClientStatus, changed []StatusChange) {
			reports <- report{all, changed}
		},
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	next := func() report {
		t.Helper()
		select {
		case r := <-reports:
			return r
		case err := <-done:
			t.Fatalf("watcher stopped: %v", err)
		case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
			t.Fatal("no report from the watcher")
		}
		return report{}
	}

	first := next()
	if first.changed != nil || statusOf(t, first.all, Cursor).State != Configured {
		t.Fatalf("initial report = %+v", first)
	}

	// Something else removes our entry (atomically, like an app update).
	path, _ := ConfigPath(c, env)
	if _, err := configfile.Apply(ctx, path, []configfile.Edit{{Path: entryPath(c)}}, configfile.Options{NoBackup: true}); err != nil {
		t.Fatal(err)
	}
	for {
		r := next()
		var got *StatusChange
		for i := range r.changed {
			if r.changed[i].Client == Cursor {
				got = &r.changed[i]
			}
		}
		if got == nil {
			continue
		}
		if got.From.State != Configured || got.To.State != Removed {
			t.Fatalf("change = %+v", got)
		}
		break
	}

	// A client installed later is noticed too: its folder appears.
	if err := os.MkdirAll(filepath.Join(home, ".codeium", "windsurf"), 0o700); err != nil {
		t.Fatal(err)
	}
	for {
		r := next()
		if statusOf(t, r.all, Windsurf).State == NoConfig {
			break
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
