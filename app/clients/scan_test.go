package clients

import (
	"context"
	"encoding/json"
	"errors"
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

const (
	token1 = "sst_live_4b9d2e7f1a6c3058"
	token2 = "sst_live_other_77aa66bb55"
)

func TestEntryTokens(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  []tokenHit
	}{
		{name: "remote with Authorization header",
			entry: `{"type":"http","url":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer ` + token1 + `"}}`,
			want:  []tokenHit{{"headers", "Authorization", token1}}},
		{name: "api key header without Bearer",
			entry: `{"url":"https://mcp.scispot.io/","headers":{"X-API-Key":"` + token1 + `"}}`,
			want:  []tokenHit{{"headers", "X-API-Key", token1}}},
		{name: "mcp-remote --header argument",
			entry: `{"command":"npx","args":["mcp-remote","https://mcp.scispot.io/","--header","Authorization: Bearer ` + token1 + `"]}`,
			want:  []tokenHit{{"args", "Authorization", token1}}},
		{name: "--header= form",
			entry: `{"command":"npx","args":["mcp-remote","https://mcp.scispot.io/","--header=Authorization:Bearer ` + token1 + `"]}`,
			want:  []tokenHit{{"args", "Authorization", token1}}},
		{name: "--token flag",
			entry: `{"command":"scispot-cli","args":["--token","` + token1 + `"]}`,
			want:  []tokenHit{{"args", "--token", token1}}},
		{name: "--api-key= flag",
			entry: `{"command":"scispot-cli","args":["--api-key=` + token1 + `"]}`,
			want:  []tokenHit{{"args", "--api-key", token1}}},
		{name: "VAR=value argument",
			entry: `{"command":"env","args":["SCISPOT_API_TOKEN=` + token1 + `","scispot-cli"]}`,
			want:  []tokenHit{{"args", "SCISPOT_API_TOKEN", token1}}},
		{name: "env token",
			entry: `{"command":"npx","args":["scispot-mcp-server"],"env":{"SCISPOT_API_TOKEN":"` + token1 + `","SCISPOT_URL":"https://mcp.scispot.io/"}}`,
			want:  []tokenHit{{"env", "SCISPOT_API_TOKEN", token1}}},
		{name: "env bearer value under any name",
			entry: `{"command":"npx","args":["mcp-remote","https://mcp.scispot.io/","--header","Authorization:${AUTH}"],"env":{"AUTH":"Bearer ` + token1 + `"}}`,
			want:  []tokenHit{{"env", "AUTH", token1}}},
		{name: "token in url",
			entry: `{"url":"https://mcp.scispot.io/?api_key=` + token1 + `"}`,
			want:  []tokenHit{{"url", "api_key", token1}}},
		{name: "same token twice in one place counted once",
			entry: `{"headers":{"Authorization":"Bearer ` + token1 + `","X-Token":"` + token1 + `"}}`,
			want:  []tokenHit{{"headers", "Authorization", token1}}},
		{name: "references and placeholders are not tokens",
			entry: `{"headers":{"Authorization":"Bearer ${input:scispot}","X-Api-Key":"$SCISPOT_TOKEN"},"env":{"TOKEN":"%SCISPOT%","KEY_TOKEN":"<your token>","API_TOKEN":"YOUR_API_TOKEN","SHORT_TOKEN":"abc"},"args":["--token","{env:T}"]}`},
		{name: "our gateway entry",
			entry: `{"command":"/opt/scispot-mcp","args":["serve","--demo"],"env":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e map[string]any
			if err := json.Unmarshal([]byte(tt.entry), &e); err != nil {
				t.Fatal(err)
			}
			got := entryTokens(e)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(tokenHit{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsScispotEntry(t *testing.T) {
	yes := []string{
		`{"url":"https://mcp.scispot.io/"}`,
		`{"serverUrl":"https://MCP.SCISPOT.IO/mcp"}`,
		`{"command":"/opt/scispot-mcp"}`,
		`{"command":"npx","args":["mcp-remote","https://mcp.scispot.io/"]}`,
	}
	for _, s := range yes {
		var e map[string]any
		_ = json.Unmarshal([]byte(s), &e)
		if !isScispotEntry("lab", e) {
			t.Errorf("%s: not recognised", s)
		}
	}
	var other map[string]any
	_ = json.Unmarshal([]byte(`{"url":"https://api.github.com/","headers":{"Authorization":"Bearer `+token1+`"}}`), &other)
	if isScispotEntry("github", other) {
		t.Error("a GitHub entry counted as Scispot")
	}
	if !isScispotEntry("Scispot-Prod", other) {
		t.Error("name not recognised")
	}
}

// A Finding never shows its token, however it is printed or encoded.
func TestFindingHidesToken(t *testing.T) {
	c := mustLookup(t, ClaudeCode)
	fs := scanContent(c, "/h/.claude.json", []byte(`{"mcpServers":{"scispot":{"url":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer `+token1+`"}}}}`))
	if len(fs) != 1 {
		t.Fatalf("findings = %v", fs)
	}
	j, _ := json.Marshal(fs)
	for _, s := range []string{fmt.Sprint(fs), fmt.Sprintf("%v %+v %#v %s", fs[0], fs[0], fs[0], fs[0]), fmt.Sprintf("%#v", fs), string(j)} {
		if strings.Contains(s, token1) || strings.Contains(s, token1[9:]) {
			t.Errorf("token shown: %s", s)
		}
	}
	if fs[0].Fingerprint != keychain.Fingerprint(token1) {
		t.Errorf("fingerprint = %s", fs[0].Fingerprint)
	}
}

// writeConfig writes content to the client's config on m.
func writeConfig(t *testing.T, m testMachine, c Client, content string) string {
	t.Helper()
	path, err := ConfigPath(c, m.env)
	if err != nil {
		t.Fatal(err)
	}
	mkdirs(t, m.env, m.env.dir(path))
	if err := os.WriteFile(m.env.host(path), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// grepTree returns every file under root that contains the token in any
// form a JSON file can spell it.
func grepTree(t *testing.T, root, token string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if containsToken(b, token) >= 0 {
			hits = append(hits, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	cc, cursor := mustLookup(t, ClaudeCode), mustLookup(t, Cursor)
	ccPath := writeConfig(t, m, cc, `{
  "numStartups": 3,
  "mcpServers": {
    "scispot": {"type": "http", "url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer `+token1+`"}}
  },
  "projects": {"/home/ann/lab": {"mcpServers": {}}}
}
`)
	cursorPath := writeConfig(t, m, cursor, `{
  // Cursor servers
  "mcpServers": {
    "github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "ghp_not_ours_123456"}},
    "scispot-remote": {
      "command": "npx",
      "args": ["mcp-remote", "https://mcp.scispot.io/", "--header", "Authorization:${AUTH}"],
      "env": {"AUTH": "Bearer `+token1+`"}
    }
  }
}
`)
	// An earlier setup of another entry left a backup that holds the token.
	if _, err := configfile.Apply(ctx, m.env.host(cursorPath), []configfile.Edit{{Path: []string{"theme"}, Value: []byte(`"dark"`)}}, configfile.Options{}); err != nil {
		t.Fatal(err)
	}

	findings, err := Scan(ctx, m.env)
	if err != nil {
		t.Fatal(err)
	}
	type brief struct{ Client, Path, Entry, Where, Key, Fingerprint string }
	var got []brief
	for _, f := range findings {
		got = append(got, brief{f.Client, f.Path, f.Entry, f.Where, f.Key, f.Fingerprint})
	}
	fp := keychain.Fingerprint(token1)
	want := []brief{
		{Cursor, cursorPath, "scispot-remote", "env", "AUTH", fp},
		{ClaudeCode, ccPath, "scispot", "headers", "Authorization", fp},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("findings (-want +got):\n%s", diff)
	}

	kc := keychain.NewMemory()
	state := filepath.Join(m.env.host(m.env.Home), ".local", "state", "scispot-mcp", "clients.json")
	var recorded []Change
	opts := Options{Executable: m.exe, StateFile: state, Record: func(_ context.Context, ch Change) error {
		recorded = append(recorded, ch)
		return nil
	}}

	ch, err := Migrate(ctx, findings[0], m.env, kc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Changed || ch.Action != ActionMigrate || ch.Backup != "" || ch.TokenFingerprint != fp {
		t.Errorf("cursor change = %+v", ch)
	}
	for _, want := range []string{"now in the keychain", "no backup", "Deleted 1 older backup"} {
		if !strings.Contains(ch.Note, want) {
			t.Errorf("note %q lacks %q", ch.Note, want)
		}
	}
	if stored, err := kc.Get(ctx, keychain.AccountToken); err != nil || stored != token1 {
		t.Fatalf("keychain holds %q, %v", stored, err)
	}

	ch, err = Migrate(ctx, findings[1], m.env, kc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Changed || !strings.Contains(ch.Note, "already holds this token") {
		t.Errorf("claude code change = %+v", ch)
	}

	if hits := grepTree(t, m.env.Root, token1); len(hits) != 0 {
		t.Errorf("the token is still in %v", hits)
	}
	for _, ch := range recorded {
		if strings.Contains(fmt.Sprintf("%+v", ch), token1) {
			t.Errorf("audit record holds the token: %+v", ch)
		}
	}
	if len(recorded) != 2 {
		t.Errorf("recorded %d changes, want 2", len(recorded))
	}

	// The entries are now the gateway; the unrelated ones survive.
	cur := m.read(t, cursor)["mcpServers"].(map[string]any)
	if _, ok := cur["scispot-remote"]; ok {
		t.Error("old Cursor entry still there")
	}
	if cur["scispot"].(map[string]any)["command"] != m.exe || cur["github"] == nil {
		t.Errorf("cursor servers = %v", cur)
	}
	raw, _ := os.ReadFile(m.env.host(cursorPath))
	if !strings.Contains(string(raw), "// Cursor servers") {
		t.Error("comment lost")
	}
	ccServers := m.read(t, cc)["mcpServers"].(map[string]any)
	if e := ccServers["scispot"].(map[string]any); e["type"] != "stdio" || e["url"] != nil || e["headers"] != nil {
		t.Errorf("claude code entry = %v", e)
	}

	// Nothing left to find; every client's status agrees.
	if again, err := Scan(ctx, m.env); err != nil || len(again) != 0 {
		t.Errorf("scan after migration: %v, %v", again, err)
	}
	for _, st := range Status(ctx, m.env, StatusOptions{Executable: m.exe, StateFile: state}) {
		if (st.Client == Cursor || st.Client == ClaudeCode) && st.State != Configured {
			t.Errorf("%s status = %+v", st.Client, st)
		}
	}

	// A stale finding (already migrated) changes nothing.
	ch, err = Migrate(ctx, findings[0], m.env, kc, opts)
	if err != nil || ch.Changed {
		t.Errorf("second migration: %+v, %v", ch, err)
	}
}

func TestMigrateKeepsStoredToken(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "darwin")
	c := mustLookup(t, Windsurf)
	writeConfig(t, m, c, `{"mcpServers":{"scispot":{"serverUrl":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer `+token1+`"}}}}`)
	kc := keychain.NewMemory()
	if err := kc.Set(ctx, keychain.AccountToken, token2); err != nil {
		t.Fatal(err)
	}
	fs, _ := Scan(ctx, m.env)
	if len(fs) != 1 {
		t.Fatalf("findings = %v", fs)
	}
	ch, err := Migrate(ctx, fs[0], m.env, kc, Options{Executable: m.exe})
	if err != nil {
		t.Fatal(err)
	}
	if stored, _ := kc.Get(ctx, keychain.AccountToken); stored != token2 {
		t.Error("stored token replaced")
	}
	if !strings.Contains(ch.Note, keychain.Fingerprint(token2)+"); it was kept") {
		t.Errorf("note = %q", ch.Note)
	}
	if hits := grepTree(t, m.env.Root, token1); len(hits) != 0 {
		t.Errorf("token left in %v", hits)
	}
}

func TestMigrateKeychainFailureLeavesFile(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	c := mustLookup(t, ClaudeDesktop)
	path := writeConfig(t, m, c, `{"mcpServers":{"scispot":{"command":"npx","args":["mcp-remote","https://mcp.scispot.io/","--header","Authorization: Bearer `+token1+`"]}}}`)
	before, _ := os.ReadFile(m.env.host(path))
	kc := keychain.NewMemory()
	kc.FailWith(keychain.ErrLocked)
	fs, _ := Scan(ctx, m.env)
	if len(fs) != 1 {
		t.Fatalf("findings = %v", fs)
	}
	_, err := Migrate(ctx, fs[0], m.env, kc, Options{Executable: m.exe})
	if !errors.Is(err, keychain.ErrLocked) || strings.Contains(err.Error(), token1) {
		t.Fatalf("err = %v", err)
	}
	if after, _ := os.ReadFile(m.env.host(path)); string(after) != string(before) {
		t.Error("file changed although the token could not be stored")
	}
}

func TestMigrateDryRun(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	c := mustLookup(t, ClaudeCode)
	path := writeConfig(t, m, c, "{\n  \"mcpServers\": {\n    \"lab\": {\"url\": \"https://mcp.scispot.io/\", \"headers\": {\"Authorization\": \"Bearer "+token1+"\"}}\n  }\n}\n")
	before, _ := os.ReadFile(m.env.host(path))
	kc := keychain.NewMemory()
	fs, _ := Scan(ctx, m.env)
	ch, err := Migrate(ctx, fs[0], m.env, kc, Options{Executable: m.exe, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Changed || strings.Contains(ch.Diff, token1) || !strings.Contains(ch.Diff, "[token "+fs[0].Fingerprint+"]") || !strings.HasPrefix(ch.Note, "Dry run") {
		t.Errorf("change = %+v", ch)
	}
	if _, err := kc.Get(ctx, keychain.AccountToken); !errors.Is(err, keychain.ErrNotFound) {
		t.Error("dry run stored the token")
	}
	if after, _ := os.ReadFile(m.env.host(path)); string(after) != string(before) {
		t.Error("dry run wrote")
	}
}

func TestMigrateTokenElsewhere(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "linux")
	c := mustLookup(t, Cursor)
	writeConfig(t, m, c, "{\n  // old: Bearer "+token1+"\n  \"mcpServers\": {\"scispot\": {\"url\": \"https://mcp.scispot.io/\", \"headers\": {\"Authorization\": \"Bearer "+token1+"\"}}}\n}\n")
	fs, _ := Scan(ctx, m.env)
	ch, err := Migrate(ctx, fs[0], m.env, keychain.NewMemory(), Options{Executable: m.exe})
	if !errors.Is(err, ErrTokenRemains) || !strings.Contains(err.Error(), "mcp.json:2:") || strings.Contains(err.Error(), token1) {
		t.Fatalf("err = %v", err)
	}
	if !ch.Changed {
		t.Error("the entry should still have been replaced")
	}
}

func TestMigrateProjectEntry(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "darwin")
	c := mustLookup(t, ClaudeCode)
	writeConfig(t, m, c, `{"projects":{"/Users/ann/lab":{"mcpServers":{"scispot-local":{"command":"npx","args":["scispot-mcp-server"],"env":{"SCISPOT_API_TOKEN":"`+token1+`"}}},"allowedTools":[]}}}`)
	fs, _ := Scan(ctx, m.env)
	if len(fs) != 1 || fs[0].Project != "/Users/ann/lab" {
		t.Fatalf("findings = %v", fs)
	}
	if _, err := Migrate(ctx, fs[0], m.env, keychain.NewMemory(), Options{Executable: m.exe}); err != nil {
		t.Fatal(err)
	}
	doc := m.read(t, c)
	proj := doc["projects"].(map[string]any)["/Users/ann/lab"].(map[string]any)
	if len(proj["mcpServers"].(map[string]any)) != 0 || proj["allowedTools"] == nil {
		t.Errorf("project = %v", proj)
	}
	if doc["mcpServers"].(map[string]any)["scispot"] == nil {
		t.Error("no user-level gateway entry")
	}
}

// A token in the classic Windows file while the Store app reads its own:
// the token leaves the classic file; the entry goes to the Store file.
func TestMigrateClaudeDesktopClassicFile(t *testing.T) {
	ctx := context.Background()
	m := newMachine(t, "windows")
	mkdirs(t, m.env, `C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc`)
	classic := `C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`
	mkdirs(t, m.env, m.env.dir(classic))
	if err := os.WriteFile(m.env.host(classic), []byte(`{"mcpServers":{"scispot":{"url":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer `+token1+`"}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, _ := Scan(ctx, m.env)
	if len(fs) != 1 || fs[0].Path != classic {
		t.Fatalf("findings = %v", fs)
	}
	ch, err := Migrate(ctx, fs[0], m.env, keychain.NewMemory(), Options{Executable: m.exe})
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Changed || !strings.Contains(ch.Note, `LocalCache\Roaming\Claude`) {
		t.Errorf("change = %+v", ch)
	}
	if hits := grepTree(t, m.env.Root, token1); len(hits) != 0 {
		t.Errorf("token left in %v", hits)
	}
	store := m.read(t, mustLookup(t, ClaudeDesktop))["mcpServers"].(map[string]any)["scispot"].(map[string]any)
	if store["command"] != m.exe {
		t.Errorf("store entry = %v", store)
	}
}

func TestMigrateNeedsScanFinding(t *testing.T) {
	m := newMachine(t, "linux")
	_, err := Migrate(context.Background(), Finding{Client: Cursor, Path: "/x"}, m.env, keychain.NewMemory(), Options{Executable: m.exe})
	if !errors.Is(err, ErrNoToken) {
		t.Errorf("err = %v", err)
	}
}

func TestScanReportsUnreadableAndContinues(t *testing.T) {
	m := newMachine(t, "linux")
	writeConfig(t, m, mustLookup(t, Cursor), "{ broken")
	writeConfig(t, m, mustLookup(t, Windsurf), `{"mcpServers":{"scispot":{"serverUrl":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer `+token1+`"}}}}`)
	fs, err := Scan(context.Background(), m.env)
	if !errors.Is(err, configfile.ErrUnparseable) {
		t.Errorf("err = %v", err)
	}
	if len(fs) != 1 || fs[0].Client != Windsurf {
		t.Errorf("findings = %v", fs)
	}
}

// FuzzScanContent feeds random documents to the token finder: it never
// panics, and every token it reports is a clean token whose fingerprint
// matches.
func FuzzScanContent(f *testing.F) {
	f.Add([]byte(`{"mcpServers":{"scispot":{"url":"https://mcp.scispot.io/","headers":{"Authorization":"Bearer ` + token1 + `"}}}}`))
	f.Add([]byte(`{"mcpServers":{"s":{"command":"scispot","args":["--header","Authorization: Bearer x","--token"],"env":{"TOKEN":7}}}}`))
	f.Add([]byte(`{"projects":{"/p":{"mcpServers":{"scispot":{"args":["-H"],"url":"http://a:b@scispot/?token=%zz"}}}}}`))
	f.Add([]byte(`[]`))
	c := mustLookup(f, ClaudeCode)
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, fd := range scanContent(c, "/f", doc) {
			tok, err := keychain.CleanToken(fd.secret.token)
			if err != nil || tok != fd.secret.token || keychain.Fingerprint(tok) != fd.Fingerprint {
				t.Fatalf("bad finding %v: %v", fd, err)
			}
			if strings.Contains(fd.String(), fd.secret.token) {
				t.Fatalf("finding text holds the token: %s", fd)
			}
		}
	})
}
