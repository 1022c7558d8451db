package clientpolicy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/clientpolicy"
)

func TestPatterns(t *testing.T) {
	tests := []struct {
		upstream string
		want     []string
	}{
		{"https://mcp.scispot.io/", []string{"https://mcp.scispot.io/*"}},
		{"https://MCP.Scispot.io/v1", []string{"https://mcp.scispot.io/*"}},
		{"https://eu.mcp.scispot.io/", []string{"https://mcp.scispot.io/*", "https://eu.mcp.scispot.io/*"}},
		{"http://127.0.0.1:8080/", []string{"https://mcp.scispot.io/*", "http://127.0.0.1:8080/*"}},
		{"", []string{"https://mcp.scispot.io/*"}},
		{"ftp://x/", []string{"https://mcp.scispot.io/*"}},
	}
	for _, tt := range tests {
		if got := clientpolicy.Patterns(tt.upstream); !slices.Equal(got, tt.want) {
			t.Errorf("Patterns(%q) = %q, want %q", tt.upstream, got, tt.want)
		}
	}
}

func TestTargetsUnderRoot(t *testing.T) {
	for _, tg := range clientpolicy.Targets("/tmp/root") {
		if !strings.HasPrefix(tg.Path, "/tmp/root/") || !strings.HasSuffix(tg.Path, "managed-settings.json") {
			t.Errorf("%s: %s is not under the root", tg.Client, tg.Path)
		}
	}
}

func deny(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := configfile.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Denied []map[string]any `json:"deniedMcpServers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return doc.Denied
}

func urls(l []map[string]any) []string {
	var out []string
	for _, e := range l {
		if u, ok := e["serverUrl"].(string); ok {
			out = append(out, u)
		}
	}
	return out
}

func keeper(t *testing.T) (*clientpolicy.Keeper, string) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "claude-code", "managed-settings.json")
	return &clientpolicy.Keeper{
		Targets:   []clientpolicy.Target{{Client: clientpolicy.ClaudeCode, Name: "Claude Code", Path: path}},
		StateFile: filepath.Join(dir, "client-policies.json"),
	}, path
}

func pol(block bool, upstream string) policy.Policy {
	p := policy.Default()
	p.BlockDirectConnections = block
	if upstream != "" {
		p.UpstreamURL = upstream
	}
	return p
}

func TestKeep(t *testing.T) {
	ctx := context.Background()
	const admin = "// The lab's Claude Code policy\n{\n  \"permissions\": {\"deny\": [\"Bash(curl:*)\"]},\n  \"deniedMcpServers\": [\n    {\"serverName\": \"filesystem\"},\n    {\"serverUrl\": \"https://mcp.scispot.io/*\"}\n  ],\n  \"env\": {\"X\": \"1\"}\n}\n"
	tests := []struct {
		name     string
		existing string // "" = no file
		steps    []policy.Policy
		// want are the serverUrls after each step.
		want    [][]string
		blocked []bool
		// gone: the key is absent after the last step.
		gone bool
	}{
		{name: "new file, then off",
			steps:   []policy.Policy{pol(true, ""), pol(false, "")},
			want:    [][]string{{"https://mcp.scispot.io/*"}, nil},
			blocked: []bool{true, false}, gone: true},
		{name: "loopback upstream",
			steps:   []policy.Policy{pol(true, "http://127.0.0.1:9999/")},
			want:    [][]string{{"https://mcp.scispot.io/*", "http://127.0.0.1:9999/*"}},
			blocked: []bool{true}},
		{name: "upstream moves: the old host's entry goes",
			steps: []policy.Policy{pol(true, "https://a.example/"), pol(true, "https://b.example/")},
			want: [][]string{{"https://mcp.scispot.io/*", "https://a.example/*"},
				{"https://mcp.scispot.io/*", "https://b.example/*"}},
			blocked: []bool{true, true}},
		{name: "the admin's own entries stay, the same pattern too",
			existing: admin,
			steps:    []policy.Policy{pol(true, "https://a.example/"), pol(true, "https://a.example/"), pol(false, "")},
			want: [][]string{{"https://mcp.scispot.io/*", "https://a.example/*"},
				{"https://mcp.scispot.io/*", "https://a.example/*"},
				{"https://mcp.scispot.io/*"}},
			blocked: []bool{true, true, false}},
		{name: "off with nothing of ours",
			existing: admin,
			steps:    []policy.Policy{pol(false, "")},
			want:     [][]string{{"https://mcp.scispot.io/*"}},
			blocked:  []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, path := keeper(t)
			if tt.existing != "" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for i, p := range tt.steps {
				st := k.Keep(ctx, p)
				if len(st) != 1 || st[0].Error != "" || st[0].Blocked != tt.blocked[i] || st[0].File != path {
					t.Fatalf("step %d: states %+v, want blocked %v", i, st, tt.blocked[i])
				}
				if got := urls(deny(t, path)); !slices.Equal(got, tt.want[i]) {
					t.Fatalf("step %d: serverUrls %q, want %q", i, got, tt.want[i])
				}
			}
			b, _ := os.ReadFile(path)
			if tt.gone && strings.Contains(string(b), "deniedMcpServers") {
				t.Errorf("the key the service created is still there:\n%s", b)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("file mode %v (%v), want 0644: every account's client reads it", fi.Mode(), err)
			}
			if tt.existing != "" {
				// Everything of the admin's is as it was.
				for _, keep := range []string{"// The lab's Claude Code policy", `"permissions": {"deny": ["Bash(curl:*)"]}`, `"env": {"X": "1"}`, `"serverName":"filesystem"`} {
					if !strings.Contains(strings.ReplaceAll(string(b), `"serverName": "filesystem"`, `"serverName":"filesystem"`), keep) {
						t.Errorf("lost %s:\n%s", keep, b)
					}
				}
			}
		})
	}
}

// TestKeepOnAndOffRestores: switching the key on and off again leaves the
// admin's file meaning what it meant, with a backup of each change.
func TestKeepOnAndOffRestores(t *testing.T) {
	ctx := context.Background()
	k, path := keeper(t)
	os.MkdirAll(filepath.Dir(path), 0o755)
	orig := "{\n  \"model\": \"opus\",\n  \"deniedMcpServers\": [{\"serverName\": \"x\"}]\n}\n"
	os.WriteFile(path, []byte(orig), 0o644)
	k.Keep(ctx, pol(true, ""))
	k.Keep(ctx, pol(false, ""))
	b, _ := os.ReadFile(path)
	var got, want any
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(orig), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after on and off (-before +after):\n%s", diff)
	}
	if !strings.HasPrefix(string(b), "{\n  \"model\": \"opus\",\n") {
		t.Errorf("the admin's other keys were rewritten:\n%s", b)
	}
	backups, _ := filepath.Glob(path + ".scispot-backup-*")
	if len(backups) == 0 {
		t.Error("no backup of the admin's file")
	}
}

func TestKeepLeavesBadFilesAlone(t *testing.T) {
	for _, bad := range []string{"{\"deniedMcpServers\": ", "{\"deniedMcpServers\": {\"serverUrl\": \"x\"}}", "[1, 2]"} {
		k, path := keeper(t)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(bad), 0o644)
		st := k.Keep(context.Background(), pol(true, ""))
		if len(st) != 1 || st[0].Error == "" || st[0].Blocked {
			t.Errorf("%q: states %+v, want an error", bad, st)
		}
		if b, _ := os.ReadFile(path); string(b) != bad {
			t.Errorf("%q was changed to %q", bad, b)
		}
	}
}
