package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
)

// TestSetupEntriesReallyLaunch: after `setup claude-desktop --demo` and
// `setup cursor --demo`, the official TypeScript SDK reads each written
// config and launches the entry exactly as a desktop client would.
func TestSetupEntriesReallyLaunch(t *testing.T) {
	dir, _ := filepath.Abs("testdata/interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the interop test's npm packages are missing: `make interop-deps` installs them")
		}
		t.Skip("npm packages not installed: run `make interop-deps`")
	}
	w := newWorld(t)
	w.writeOwned(filepath.Join(w.home, ".config", "Claude", ".keep"), nil, 0o644)
	// Cursor's file already holds another server and a comment: both stay.
	cursor := filepath.Join(w.home, ".cursor", "mcp.json")
	w.writeOwned(cursor, []byte("{\n  // team servers\n  \"mcpServers\": {\"other\": {\"command\": \"/bin/true\"}}\n}\n"), 0o600)
	for _, c := range []string{"claude-desktop", "cursor"} {
		out, errOut, code := w.run("", "setup", c, "--demo")
		if code != 0 || !strings.Contains(strings.ToLower(out), "quit") {
			t.Fatalf("setup %s = %d %q %q", c, code, out, errOut)
		}
	}
	b, _ := os.ReadFile(cursor)
	if !strings.Contains(string(b), "// team servers") || !strings.Contains(string(b), `"other"`) {
		t.Fatalf("cursor config lost its content:\n%s", b)
	}
	// Claude Desktop's file is plain JSON; Cursor's keeps its comment, so
	// strip it the way Cursor's own JSONC reader would before handing it on.
	plain := filepath.Join(w.home, "cursor.json")
	w.writeOwned(plain, bytes.ReplaceAll(b, []byte("// team servers"), nil), 0o600)
	for _, file := range []string{filepath.Join(w.home, ".config", "Claude", "claude_desktop_config.json"), plain} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := w.commandContext(ctx, "node", "launch.mjs", file, "mcpServers")
		cmd.Dir = dir
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("launching the entry in %s: %v\n%s", file, err, w.logs.String())
		}
		var got struct {
			Command string
			Args    []string
			Tools   int
		}
		json.Unmarshal(stdout.Bytes(), &got)
		if got.Tools != 16 || !filepath.IsAbs(got.Command) || strings.Join(got.Args, " ") != "serve --demo" {
			t.Fatalf("%s launched %+v", file, got)
		}
	}
	if out, _, _ := w.run("", "audit", "tail"); strings.Count(out, "setup.write") != 2 {
		t.Fatalf("setup writes not audited:\n%s", out)
	}
}

// TestSetupMigratesPlaintextToken: a ~/.claude.json with a Bearer token for
// mcp.scispot.io ends with the token in the real keychain and in no file.
func TestSetupMigratesPlaintextToken(t *testing.T) {
	requireKeyring(t)
	w := newWorld(t)
	w.run("", "token", "remove")
	token := newToken(t)
	cfg := filepath.Join(w.home, ".claude.json")
	w.writeOwned(cfg, []byte(`{"numStartups": 3, "mcpServers": {"scispot": {"type": "http", "url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer `+token+`"}}}}`), 0o600)
	out, errOut, code := w.run("", "setup", "claude-code")
	if !strings.Contains(out, keychain.Fingerprint(token)) || !strings.Contains(out+errOut, "--migrate") {
		t.Fatalf("setup without --migrate = %d %q %q", code, out, errOut)
	}
	out, errOut, code = w.run("", "setup", "claude-code", "--migrate")
	if code != 0 {
		t.Fatalf("setup --migrate = %d %q %q", code, out, errOut)
	}
	t.Cleanup(func() { w.run("", "token", "remove") })
	if st, _, _ := w.run("", "token", "status"); !strings.Contains(st, keychain.Fingerprint(token)) {
		t.Fatalf("token status after migrate: %q", st)
	}
	b, _ := os.ReadFile(cfg)
	var doc struct {
		NumStartups int
		MCPServers  map[string]struct {
			Type    string
			Command string
			Args    []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.NumStartups != 3 || doc.MCPServers["scispot"].Type != "stdio" || doc.MCPServers["scispot"].Args[0] != "serve" {
		t.Fatalf("config after migrate:\n%s", b)
	}
	w.assertNoSecret(token, out, errOut)
}
