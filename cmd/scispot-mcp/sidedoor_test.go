//go:build linux

package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The managed-settings files the service keeps on Linux, where Claude
// Code and GitHub Copilot read them.
var clientSettingsDirs = []string{"/etc/claude-code", "/etc/github-copilot"}

// requirePrivateClientSettings skips unless every folder the service will
// write for BlockDirectConnections is a tmpfs of this test's own mount
// namespace, so that this machine's /etc is never touched:
//
//	mkdir -p /etc/scispot-mcp /etc/claude-code /etc/github-copilot
//	unshare -m --propagation private sh -c 'for d in /etc/scispot-mcp /etc/claude-code /etc/github-copilot; do mount -t tmpfs -o mode=0755 tmpfs $d; done && packaging/with-keyring.sh go test ./cmd/scispot-mcp/ -run TestClaudeCodeDeniesDirectEntries'
func requirePrivateClientSettings(t *testing.T) {
	t.Helper()
	requireRoot(t)
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	tmpfs := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options... - fstype source superopts
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && len(fields) > 4 {
				tmpfs[fields[4]] = fields[i+1] == "tmpfs"
			}
		}
	}
	for _, d := range clientSettingsDirs {
		if !tmpfs[d] {
			t.Skipf("%s is not a tmpfs of a private mount namespace: run this test under unshare -m with tmpfs on %s (see requirePrivateClientSettings)", d, strings.Join(clientSettingsDirs, ", "))
		}
	}
}

// TestClaudeCodeDeniesDirectEntries: with BlockDirectConnections (the
// default), the root service keeps Claude Code's root-owned
// /etc/claude-code/managed-settings.json denying Scispot's URL (here the
// policy's UpstreamURL, a loopback stand-in), merged into the admin's own
// settings. The real Claude Code then leaves a direct entry the person
// added out of `claude mcp list` and `claude mcp get`, while the gateway's
// entry connects; the person cannot change the file. With the key turned
// off, the service takes its entries out again and the admin's settings
// are as they were.
func TestClaudeCodeDeniesDirectEntries(t *testing.T) {
	dir := realClients(t)
	requirePrivateClientSettings(t)
	bin := filepath.Join(dir, "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe")
	const managed = "/etc/claude-code/managed-settings.json"

	// The admin's own managed settings, there before the service.
	adminDoc := "{\n  \"permissions\": {\"deny\": [\"Bash(curl:*)\"]},\n  \"env\": {\"LAB\": \"1\"}\n}\n"
	if err := os.WriteFile(managed, []byte(adminDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	// The stand-in for Scispot's endpoint (the direct entry's target).
	standIn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "stand-in", http.StatusUnauthorized)
	}))
	defer standIn.Close()
	writePolicy(t, fmt.Sprintf(`{"UpstreamURL": %q}`, standIn.URL+"/"))
	pattern := standIn.URL + "/*"

	w := newWorld(t)
	w.stopService(syscall.SIGTERM)
	w.clientSettingsAtSystemPaths = true
	w.runService()

	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			b, _ := os.ReadFile(managed)
			if ok(string(b)) {
				return string(b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s holds\n%s\n%s", what, managed, b, w.logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("the service did not add its deny entries", func(s string) bool {
		return strings.Contains(s, pattern) && strings.Contains(s, "https://mcp.scispot.io/*")
	})
	if fi, err := os.Stat(managed); err != nil || fi.Mode().Perm() != 0o644 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("%s: %v %v, want root's, mode 0644", managed, fi.Mode(), err)
	}

	// The person (or an agent with their shell) cannot take it out.
	for _, attack := range []string{
		`printf '{}' > ` + managed,
		`mv ` + managed + ` /tmp/x`,
		`rm -f ` + managed,
		`printf '{}' > /etc/claude-code/managed-settings.json.new && mv /etc/claude-code/managed-settings.json.new ` + managed,
	} {
		if out, err := w.command("sh", "-c", attack).CombinedOutput(); err == nil {
			t.Errorf("as the user, %q succeeded: %s", attack, out)
		}
	}

	if out, errOut, code := w.run("", "setup", "claude-code", "--demo"); code != 0 {
		t.Fatalf("setup = %d %s %s", code, out, errOut)
	}
	cc := newClaudeCode(t, w, bin)
	// Adding may itself be refused by Claude Code; either way the entry
	// must not be usable.
	// Claude Code refuses to add it ("server is explicitly blocked by
	// enterprise policy")...
	if out, errOut, err := cc.run(nil, "mcp", "add", "--transport", "http", "--scope", "user", "direct", standIn.URL+"/"); err == nil {
		t.Errorf("claude mcp add of the denied URL succeeded:\n%s%s", out, errOut)
	}
	// ...so an agent writes the entry into ~/.claude.json itself.
	cfgPath := filepath.Join(w.home, ".claude.json")
	cfgBytes, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(cfgBytes, &cfg); err != nil {
		t.Fatal(err)
	}
	servers, _ := cfg["mcpServers"].(map[string]any)
	servers["direct"] = map[string]any{"type": "http", "url": standIn.URL + "/"}
	cfgBytes, _ = json.MarshalIndent(cfg, "", "  ")
	w.writeOwned(cfgPath, cfgBytes, 0o600)

	listed := func() (scispot, direct string) {
		out, errOut, err := cc.run(nil, "mcp", "list")
		if err != nil {
			t.Fatalf("claude mcp list: %v\n%s%s", err, out, errOut)
		}
		for l := range strings.Lines(out) {
			switch {
			case strings.HasPrefix(l, "scispot: "):
				scispot = strings.TrimSpace(l)
			case strings.HasPrefix(l, "direct: "):
				direct = strings.TrimSpace(l)
			}
		}
		return scispot, direct
	}
	// ...and allows it in their own settings, which the managed deny list
	// overrides.
	w.writeOwned(filepath.Join(w.home, ".claude", "settings.json"),
		[]byte(fmt.Sprintf(`{"allowedMcpServers": [{"serverUrl": %q}, {"serverName": "direct"}, {"serverName": "scispot"}], "deniedMcpServers": []}`, pattern)), 0o600)
	scispot, direct := listed()
	if !strings.Contains(scispot, "✔ Connected") || direct != "" {
		t.Fatalf("claude mcp list: scispot %q, direct %q; want the gateway connected and no direct entry\n%s", scispot, direct, w.logs.String())
	}
	if out, errOut, err := cc.run(nil, "mcp", "get", "direct"); err == nil && !strings.Contains(out+errOut, "No MCP server named") {
		t.Fatalf("claude mcp get direct shows the denied entry:\n%s%s", out, errOut)
	}

	out, _, _ := w.run("", "status", "--json")
	var st struct {
		ClientSettings []struct {
			Client  string `json:"client"`
			File    string `json:"file"`
			Blocked bool   `json:"blocked"`
			Error   string `json:"error"`
		} `json:"client_settings"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	blocked := map[string]bool{}
	for _, c := range st.ClientSettings {
		blocked[c.Client] = c.Blocked && c.Error == ""
	}
	if !blocked["claude-code"] || !blocked["github-copilot"] {
		t.Errorf("status client_settings = %+v, want claude-code and github-copilot blocked", st.ClientSettings)
	}
	var report struct {
		Direct []struct {
			Client string `json:"client"`
			State  string `json:"state"`
		} `json:"direct_connection_protection"`
	}
	json.Unmarshal([]byte(out), &report)
	states := map[string]string{}
	for _, d := range report.Direct {
		states[d.Client] = d.State
	}
	if states["claude-code"] != "blocked" || states["github-copilot"] != "blocked" || states["cursor"] != "detected" {
		t.Errorf("status direct_connection_protection = %+v, want claude-code and github-copilot blocked, cursor detected", report.Direct)
	}
	if text, _, _ := w.run("", "status"); !strings.Contains(text, "direct entries   claude-code: blocked") {
		t.Errorf("status does not say Claude Code's direct entries are blocked:\n%s", text)
	}

	// The key off: the service's entries go, the admin's settings stay.
	writePolicy(t, fmt.Sprintf(`{"UpstreamURL": %q, "BlockDirectConnections": false}`, standIn.URL+"/"))
	after := waitFor("the service did not take its deny entries out", func(s string) bool {
		return s != "" && !strings.Contains(s, pattern) && !strings.Contains(s, "mcp.scispot.io")
	})
	var got, want any
	if err := json.Unmarshal([]byte(after), &got); err != nil {
		t.Fatalf("%s after: %v\n%s", managed, err, after)
	}
	json.Unmarshal([]byte(adminDoc), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the admin's managed settings changed (-before +after):\n%s", diff)
	}
	if !strings.HasPrefix(after, "{\n  \"permissions\": {\"deny\": [\"Bash(curl:*)\"]},\n  \"env\": {\"LAB\": \"1\"}") {
		t.Errorf("the admin's keys were rewritten:\n%s", after)
	}
	// The same entry is Claude Code's again: the deny entry was what
	// kept it out.
	if _, direct := listed(); direct == "" {
		t.Errorf("with the key off, claude mcp list still leaves the direct entry out")
	}
	if out, errOut, err := cc.run(nil, "mcp", "get", "direct"); err != nil || !strings.Contains(out, standIn.URL) {
		t.Errorf("with the key off, claude mcp get direct = %v:\n%s%s", err, out, errOut)
	}
}
