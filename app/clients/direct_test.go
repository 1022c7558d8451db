package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/keychain"
)

// brief is a Direct without its hidden finding, for comparing.
type brief struct{ Client, Entry, Kind, Project string }

func briefs(ds []Direct) []brief {
	var out []brief
	for _, d := range ds {
		out = append(out, brief{d.Client, d.Entry, d.Kind, d.Project})
	}
	return out
}

func TestFindDirect(t *testing.T) {
	const upstream = "lab-scispot.example.org"
	tests := []struct {
		name   string
		goos   string
		client string
		config string
		want   []brief
	}{
		{name: "claude code http entry with header token, JSON with comments", client: ClaudeCode, config: `{
  // added with: claude mcp add --transport http
  "mcpServers": {
    "scispot-direct": {"type": "http", "url": "https://mcp.scispot.io/mcp", "headers": {"Authorization": "Bearer ` + token1 + `"},},
  },
}`, want: []brief{{ClaudeCode, "scispot-direct", KindURL, ""}, {ClaudeCode, "scispot-direct", KindToken, ""}}},
		{name: "claude code per-project entry", client: ClaudeCode, config: `{
  "mcpServers": {},
  "projects": {
    "/home/ann/lab": {"allowedTools": [], "mcpServers": {"remote": {"type": "sse", "url": "HTTPS://MCP.SCISPOT.IO:443/sse"}}},
    "/home/ann/other": {"mcpServers": {"fs": {"command": "mcp-fs"}}}
  }
}`, want: []brief{{ClaudeCode, "remote", KindURL, "/home/ann/lab"}}},
		{name: "cursor mcp-remote bridge through npx", client: Cursor, config: `{"mcpServers": {
  "sci": {"command": "npx", "args": ["-y", "mcp-remote@latest", "https://mcp.scispot.io/", "--header", "Authorization:${AUTH}"], "env": {"AUTH": "Bearer ` + token1 + `"}}
}}`, want: []brief{{Cursor, "sci", KindBridge, ""}, {Cursor, "sci", KindToken, ""}}},
		{name: "cursor url entry to the policy's upstream on a port", client: Cursor, config: `{"mcpServers": {
  "lab": {"url": "http://lab-scispot.example.org:8443/mcp"}
}}`, want: []brief{{Cursor, "lab", KindURL, ""}}},
		{name: "vs code servers with inputs", client: VSCode, config: `{
  "inputs": [{"type": "promptString", "id": "scispot-token", "password": true}],
  "servers": {
    "scispot-http": {"type": "http", "url": "https://mcp.scispot.io", "headers": {"Authorization": "Bearer ${input:scispot-token}"}}
  }
}`, want: []brief{{VSCode, "scispot-http", KindURL, ""}}},
		{name: "vs code stdio with token in args", client: VSCode, config: `{"servers": {
  "x": {"type": "stdio", "command": "node", "args": ["server.js", "--key", "` + token2 + `"]}
}}`, want: []brief{{VSCode, "x", KindToken, ""}}},
		{name: "windsurf serverUrl", client: Windsurf, config: `{"mcpServers": {
  "scispot": {"serverUrl": "https://mcp.scispot.io./mcp"}
}}`, want: []brief{{Windsurf, "scispot", KindURL, ""}}},
		{name: "claude desktop bridge with host in env", client: ClaudeDesktop, config: `{"mcpServers": {
  "bridge": {"command": "supergateway", "args": ["--sse"], "env": {"TARGET": "mcp.scispot.io/sse"}}
}}`, want: []brief{{ClaudeDesktop, "bridge", KindBridge, ""}}},
		{name: "full-width host letters", client: Cursor, config: `{"mcpServers": {
  "w": {"url": "https://ｍｃｐ.scispot.io/"}
}}`, want: []brief{{Cursor, "w", KindURL, ""}}},
		{name: "percent-encoded host and userinfo", client: Cursor, config: `{"mcpServers": {
  "p": {"url": "https://x@mcp.scispot.%69o/"}
}}`, want: []brief{{Cursor, "p", KindURL, ""}}},
		{name: "token-shaped in another entry's env", client: Cursor, config: `{"mcpServers": {
  "tools": {"command": "lab-tools", "env": {"LAB": "` + token1 + `"}}
}}`, want: []brief{{Cursor, "tools", KindToken, ""}}},
		{name: "look-alike hosts and the gateway entry are not findings", client: Cursor, config: `{"mcpServers": {
  "scispot": {"command": "/opt/scispot-mcp/scispot-mcp", "args": ["serve"], "env": {}},
  "a": {"url": "https://mcp.scispot.io.evil.example/"},
  "b": {"url": "https://scispot.io/"},
  "c": {"command": "npx", "args": ["mcp-remote", "https://notmcp.scispot.io/"]},
  "d": {"url": "https://evil.example/?u=mcp.scispot.io"},
  "e": {"command": "x", "env": {"KEY": "sst_id"}}
}}`},
		{name: "windows claude desktop", goos: "windows", client: ClaudeDesktop, config: `{"mcpServers": {
  "s": {"command": "cmd", "args": ["/c", "npx", "mcp-remote", "https://mcp.scispot.io/"]}
}}`, want: []brief{{ClaudeDesktop, "s", KindBridge, ""}}},
		{name: "macOS vs code", goos: "darwin", client: VSCode, config: `{"servers": {"s": {"type": "sse", "url": "https://Mcp.Scispot.Io/sse"}}}`,
			want: []brief{{VSCode, "s", KindURL, ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			goos := tc.goos
			if goos == "" {
				goos = "linux"
			}
			m := newMachine(t, goos)
			path := writeConfig(t, m, mustLookup(t, tc.client), tc.config)
			got, err := FindDirect(context.Background(), m.env, DirectOptions{Hosts: []string{upstream}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, briefs(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, d := range got {
				if d.File != path {
					t.Errorf("file %q, want %q", d.File, path)
				}
				for _, s := range []string{d.String(), fmt.Sprintf("%v %+v %#v", d, d, d), mustJSON(t, d)} {
					if strings.Contains(s, token1) || strings.Contains(s, token2) {
						t.Errorf("finding shows the token: %s", s)
					}
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFindDirectMachineLevel(t *testing.T) {
	m := newMachine(t, "linux")
	p := m.env.host("/etc/claude-code/managed-mcp.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"mcpServers": {"fleet": {"type": "http", "url": "https://mcp.scispot.io/"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindDirect(context.Background(), m.env, DirectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Machine || got[0].Kind != KindURL {
		t.Fatalf("got %+v", got)
	}
	if len(Migratable(got)) != 0 {
		t.Error("a machine-level finding is offered for migration")
	}
	if _, err := MigrateDirect(context.Background(), got[0], m.env, keychain.NewMemory(), Options{Executable: m.exe}); err == nil {
		t.Error("a machine-level entry was migrated")
	}
}

// TestFindDirectProjectFile: a project-scope entry ("claude mcp add
// --scope project") lives in the project's .mcp.json; migrating it takes
// it out there and puts the gateway entry in ~/.claude.json.
func TestFindDirectProjectFile(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	writeConfig(t, m, mustLookup(t, ClaudeCode), `{"projects": {"/home/ann/lab": {}, "relative": {}}}`)
	mcp := m.env.host("/home/ann/lab/.mcp.json")
	os.MkdirAll(filepath.Dir(mcp), 0o755)
	os.WriteFile(mcp, []byte(`{"mcpServers": {"sci": {"type": "http", "url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer `+token1+`"}}, "fs": {"command": "mcp-fs"}}}`), 0o644)
	found, err := FindDirect(ctx, m.env, DirectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]brief{{ClaudeCode, "sci", KindURL, ""}, {ClaudeCode, "sci", KindToken, ""}}, briefs(found)); diff != "" || found[0].File != "/home/ann/lab/.mcp.json" {
		t.Fatalf("findings (-want +got):\n%s%+v", diff, found)
	}
	kc := keychain.NewMemory()
	for _, d := range Migratable(found) {
		if _, err := MigrateDirect(ctx, d, m.env, kc, Options{Executable: m.exe}); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(mcp)
	if strings.Contains(string(b), token1) || strings.Contains(string(b), `"sci"`) || !strings.Contains(string(b), `"fs"`) {
		t.Errorf(".mcp.json after migrating:\n%s", b)
	}
	user, _ := configfile.Read(m.env.host("/home/ann/.claude.json"))
	if !strings.Contains(string(user), `"scispot"`) {
		t.Errorf("no gateway entry in ~/.claude.json: %s", user)
	}
}

func TestFindDirectReportsUnreadableAndContinues(t *testing.T) {
	m := newMachine(t, "linux")
	writeConfig(t, m, mustLookup(t, Cursor), `{"mcpServers": {"a": {"url": "https://mcp.scispot.io/"}}}`)
	writeConfig(t, m, mustLookup(t, Windsurf), `{"mcpServers": {"a": {"url": `)
	got, err := FindDirect(context.Background(), m.env, DirectOptions{})
	if err == nil {
		t.Error("no error for the broken file")
	}
	if len(got) != 1 || got[0].Client != Cursor {
		t.Errorf("got %+v", got)
	}
}

// TestMigrateDirect replaces direct entries (with and without a token)
// and leaves no copy of the token in any file under the home, backups
// included.
func TestMigrateDirect(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	cc := mustLookup(t, ClaudeCode)
	ccPath := writeConfig(t, m, cc, `{
  // user settings
  "numStartups": 3,
  "mcpServers": {
    "sci": {"type": "http", "url": "https://lab.example/mcp", "headers": {"X-Key": "`+token1+`"}}
  },
  "projects": {"/home/ann/lab": {"mcpServers": {"remote": {"type": "sse", "url": "https://mcp.scispot.io/sse"}}}}
}
`)
	// An earlier edit left a backup that holds the token.
	if _, err := configfile.Apply(ctx, m.env.host(ccPath), []configfile.Edit{{Path: []string{"theme"}, Value: []byte(`"dark"`)}}, configfile.Options{}); err != nil {
		t.Fatal(err)
	}
	found, err := FindDirect(ctx, m.env, DirectOptions{Hosts: []string{"lab.example"}})
	if err != nil {
		t.Fatal(err)
	}
	todo := Migratable(found)
	if len(todo) != 2 {
		t.Fatalf("migratable: %+v", briefs(todo))
	}
	kc := keychain.NewMemory()
	for _, d := range todo {
		if _, err := MigrateDirect(ctx, d, m.env, kc, Options{Executable: m.exe}); err != nil {
			t.Fatalf("%v: %v", d, err)
		}
	}
	if stored, err := kc.Get(ctx, keychain.AccountToken); err != nil || stored != token1 {
		t.Errorf("keychain holds %q, %v", keychain.Fingerprint(stored), err)
	}
	after, err := FindDirect(ctx, m.env, DirectOptions{Hosts: []string{"lab.example"}})
	if err != nil || len(after) != 0 {
		t.Errorf("after migrating: %+v, %v", briefs(after), err)
	}
	content, err := configfile.Read(m.env.host(ccPath))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := decodeObject(content)
	if root["numStartups"] == nil || root["theme"] != "dark" {
		t.Errorf("other keys lost: %s", content)
	}
	if e, _ := root["mcpServers"].(map[string]any)[EntryName].(map[string]any); e == nil || e["command"] != m.exe {
		t.Errorf("no gateway entry: %s", content)
	}
	filepath.WalkDir(m.env.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), token1) {
			t.Errorf("%s still holds the token", p)
		}
		return nil
	})
}

func FuzzFindDirect(f *testing.F) {
	for _, s := range []string{
		`{"mcpServers": {"a": {"url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer ` + token1 + `"}}}}`,
		`{"mcpServers": {"a": {"command": "npx", "args": ["mcp-remote", "https://ｍｃｐ.scispot.io/"]}}, "projects": {"/p": {"mcpServers": {"b": {"url": "mcp.scispot.io"}}}}}`,
		`{"servers": {"a": {"type": "http", "url": "http://[::1]:80/"}}, "inputs": []}`,
		"// c\n{\"mcpServers\": {\"a\": {\"env\": {\"K\": \"sst_aaaaaaaaaaaa\"},},},}",
		`{"mcpServers": []}`, `[]`, ``, `{"mcpServers": {"a": {"url": "http://%zz"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		std, err := configfile.Standardize(raw)
		if err != nil {
			return
		}
		hosts := hostSet([]string{"lab.example"})
		for _, c := range All() {
			for _, d := range directContent(c, "/f", std, hosts) {
				if d.Kind != KindURL && d.Kind != KindBridge && d.Kind != KindToken {
					t.Fatalf("kind %q", d.Kind)
				}
				if d.f == nil || (d.Kind == KindToken) != (d.f.secret != nil) && d.Kind == KindToken {
					t.Fatalf("token finding without its token: %+v", d)
				}
				if d.f.secret != nil && !strings.Contains(d.Entry+d.Project, d.f.secret.token) {
					tok := d.f.secret.token
					for _, s := range []string{d.String(), fmt.Sprintf("%+v %#v", d, d)} {
						if strings.Contains(s, tok) {
							t.Fatalf("finding text shows the token")
						}
					}
				}
			}
		}
	})
}
