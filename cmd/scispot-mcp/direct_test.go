package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

type directJSON struct{ Client, File, Entry, Kind string }

func directStatus(t *testing.T, w *world) []directJSON {
	t.Helper()
	out, errOut, _ := w.run("", "status", "--json")
	var r struct {
		DirectConnections *[]directJSON `json:"direct_connections"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.DirectConnections == nil {
		t.Fatalf("status --json without direct_connections: %v\n%s\n%s", err, out, errOut)
	}
	return *r.DirectConnections
}

// TestDirectConnectionsFoundAuditedAndMigrated: the person (or an agent
// with their shell) adds Scispot straight into Claude Code and Cursor.
// status --json lists the entries, the root service's periodic check
// records each once as bypass.found — and reads no root-only file, linked
// into the home or named as a project folder — and `setup all --migrate` replaces them with the
// gateway, the token in the real keychain and in no file under the home.
func TestDirectConnectionsFoundAuditedAndMigrated(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	// newWorld, with the account's home in the account database (where
	// the service learns it) before any of its processes run, and a
	// service that checks often.
	w := &world{t: t, bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), user: newTestUser(t)}
	w.home = w.mkdirOwned("scispot-home-", 0o700)
	if out, err := exec.Command("usermod", "--home", w.home, w.user.name).CombinedOutput(); err != nil {
		t.Fatalf("usermod: %v\n%s", err, out)
	}
	w.mcpdArgs = []string{"--direct-every", "200ms"}
	w.startService()
	w.startKeyring()

	w.run("", "token", "remove")
	t.Cleanup(func() { w.run("", "token", "remove") })
	token := newToken(t)
	// A root-only folder named as a project: its .mcp.json is root's.
	secretDir := t.TempDir()
	os.WriteFile(filepath.Join(secretDir, ".mcp.json"), []byte(`{"mcpServers": {"root-project-entry": {"url": "https://mcp.scispot.io/"}}}`), 0o600)
	claude := filepath.Join(w.home, ".claude.json")
	w.writeOwned(claude, []byte(`{
  // as "claude mcp add --transport http scispot-direct … --header" leaves it
  "numStartups": 3,
  "mcpServers": {
    "scispot-direct": {"type": "http", "url": "https://MCP.scispot.io/mcp", "headers": {"Authorization": "Bearer `+token+`"}}
  },
  "projects": {"`+w.home+`/lab": {"mcpServers": {"lab-remote": {"type": "sse", "url": "https://mcp.scispot.io/sse"}}}, "`+secretDir+`": {}}
}
`), 0o600)
	cursor := filepath.Join(w.home, ".cursor", "mcp.json")
	w.writeOwned(cursor, []byte(`{"mcpServers": {"sci": {"command": "npx", "args": ["-y", "mcp-remote", "https://mcp.scispot.io/"]}}}`), 0o600)
	// A root-only file linked into the home: the root service must not
	// read it on the person's behalf.
	rootOnly := filepath.Join(secretDir, "root-only.json")
	os.WriteFile(rootOnly, []byte(`{"mcpServers": {"root-only-entry": {"url": "https://mcp.scispot.io/"}}}`), 0o600)
	windsurf := filepath.Join(w.home, ".codeium", "windsurf", "mcp_config.json")
	w.writeOwned(windsurf+".keep", nil, 0o600)
	if err := os.Symlink(rootOnly, windsurf); err != nil {
		t.Fatal(err)
	}
	os.Lchown(windsurf, w.user.uid, w.user.gid)

	want := []directJSON{
		{"claude-code", claude, "lab-remote", "url"},
		{"claude-code", claude, "scispot-direct", "url"},
		{"claude-code", claude, "scispot-direct", "token"},
		{"cursor", cursor, "sci", "bridge"},
	}
	got := directStatus(t, w)
	slices.SortFunc(got, func(a, b directJSON) int { return strings.Compare(a.Client+a.Entry+a.Kind, b.Client+b.Entry+b.Kind) })
	slices.SortFunc(want, func(a, b directJSON) int { return strings.Compare(a.Client+a.Entry+a.Kind, b.Client+b.Entry+b.Kind) })
	if !slices.Equal(got, want) {
		t.Fatalf("direct_connections = %+v\nwant %+v", got, want)
	}

	bypass := func() []audit.Record {
		var out []audit.Record
		for _, r := range records(t, w) {
			if r.Event == audit.EventBypassFound {
				out = append(out, r)
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(bypass()) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("bypass.found records: %+v\nlogs:\n%s", bypass(), w.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // several more checks
	recs := bypass()
	if len(recs) != len(want) {
		t.Fatalf("%d bypass.found records after more checks, want %d (once per finding)", len(recs), len(want))
	}
	for _, r := range recs {
		if strings.Contains(r.Reason+string(r.Args), "root-only-entry") || strings.Contains(r.Reason+string(r.Args), "root-project-entry") {
			t.Errorf("the service read a root-only file through a link: %+v", r)
		}
		if r.User != w.user.name {
			t.Errorf("record for %q, want %q", r.User, w.user.name)
		}
	}

	os.Remove(windsurf) // setup would rightly refuse to write through it
	out, errOut, code := w.run("", "setup", "all", "--migrate")
	if code != 0 {
		t.Fatalf("setup all --migrate = %d\n%s\n%s", code, out, errOut)
	}
	if st, _, _ := w.run("", "token", "status"); !strings.Contains(st, keychain.Fingerprint(token)) {
		t.Fatalf("token status after migrate: %q", st)
	}
	if got := directStatus(t, w); len(got) != 0 {
		t.Fatalf("direct connections left after migrate: %+v", got)
	}
	b, _ := os.ReadFile(claude)
	if !strings.Contains(string(b), `"numStartups": 3`) || !strings.Contains(string(b), `"serve"`) {
		t.Errorf("~/.claude.json after migrate:\n%s", b)
	}
	w.assertNoSecret(token, out, errOut)
}
