package main_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

func TestServeHTTPRefusals(t *testing.T) {
	w := newWorld(t)
	if _, errOut, code := w.run("", "serve", "--http", "0.0.0.0:8765", "--demo"); code != 2 || !strings.Contains(errOut, "loopback") {
		t.Fatalf("non-loopback address = %d %q", code, errOut)
	}
	requireRoot(t)
	if _, errOut, code := w.run("", "serve", "--http", "127.0.0.1:0", "--demo"); code != 3 || !strings.Contains(errOut, "AllowLocalHTTP is false") {
		t.Fatalf("without AllowLocalHTTP = %d %q", code, errOut)
	}
}

// startHTTP runs `serve --http 127.0.0.1:0 --demo --print-config
// claude-code` and returns its URL and the local secret, read from the
// printed entry as a person would.
func startHTTP(t *testing.T, w *world) (string, string) {
	t.Helper()
	cmd := w.command(binary, "serve", "--http", "127.0.0.1:0", "--demo", "--print-config", "claude-code")
	cmd.Stderr = w.logWriter()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	found := make(chan map[string]any, 1)
	go func() {
		var entry struct {
			MCPServers map[string]map[string]any `json:"mcpServers"`
		}
		if err := json.NewDecoder(stdout).Decode(&entry); err == nil {
			found <- entry.MCPServers["scispot"]
		}
		close(found)
	}()
	var server map[string]any
	select {
	case server = <-found:
	case <-time.After(30 * time.Second):
	}
	if server == nil {
		t.Fatalf("serve --http --print-config printed no entry:\n%s", w.logs.String())
	}
	u, _ := server["url"].(string)
	headers, _ := server["headers"].(map[string]any)
	auth, _ := headers["Authorization"].(string)
	secret, ok := strings.CutPrefix(auth, "Bearer ")
	if server["type"] != "http" || !strings.HasPrefix(u, "http://127.0.0.1:") || !ok {
		t.Fatalf("printed entry %v", server)
	}
	return u, secret
}

type bearer struct {
	secret string
	base   http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.secret)
	return b.base.RoundTrip(r)
}

func TestServeHTTP(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	writePolicy(t, `{"AllowLocalHTTP": true}`)
	w := newWorld(t)
	u, secret := startHTTP(t, w)

	for name, proto := range protocols {
		t.Run(name, func(t *testing.T) {
			client := mcp.NewClient(&mcp.Implementation{Name: "http-client", Version: "2"}, nil)
			cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: u, HTTPClient: &http.Client{Transport: bearer{secret, http.DefaultTransport}}}, &mcp.ClientSessionOptions{ProtocolVersion: proto})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(toolNames(t, cs)); n != 16 {
				t.Fatalf("%d tools", n)
			}
			if res, text := callText(t, cs, "get_manifest", map[string]any{"id": "PLT-00142"}); res.IsError {
				t.Fatalf("call: %q", text)
			}
			cs.Close()
		})
	}
	cases := []struct {
		name       string
		auth, host string
		origin     string
		want       int
	}{
		{"no secret", "", "", "", 400},
		{"the Scispot token is not the secret", "Bearer sst_something", "", "", 400},
		{"DNS rebinding host", "Bearer " + secret, "evil.example", "", 403},
		{"web page origin", "Bearer " + secret, "", "https://evil.example", 403},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest("POST", u, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	// 2026-07-28 is offered over HTTP too (mcp-remote --protocol auto
	// needs it), while the legacy clients above keep their sessions.
	req, _ := http.NewRequest("POST", u, strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", "server/discover")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"supportedVersions":["2026-07-28"`) {
		t.Fatalf("server/discover at 2026-07-28 over HTTP: %d %s", resp.StatusCode, body)
	}

	var httpCalls int
	for _, r := range records(t, w) {
		if r.Transport == audit.TransportHTTP && r.Event == audit.EventToolCall && r.Client.Name == "http-client" {
			httpCalls++
		}
	}
	if httpCalls != 2 {
		t.Fatalf("%d audited HTTP calls, want 2", httpCalls)
	}
	w.assertNoSecret(secret)
}

// TestConformanceSuite runs the official MCP conformance scenarios against
// serve --http, through a proxy that adds the local secret (the suite
// cannot send headers).
func TestConformanceSuite(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	dir, _ := filepath.Abs("testdata/conformance")
	node := filepath.Join(dir, "node_modules", ".bin", "node")
	if _, err := os.Stat(node); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the conformance suite's npm packages are missing: `make interop-deps` installs them")
		}
		t.Skip("npm packages not installed: run `make interop-deps`")
	}
	writePolicy(t, `{"AllowLocalHTTP": true}`)
	w := newWorld(t)
	u, secret := startHTTP(t, w)
	target, _ := url.Parse(u)
	proxy := httputil.NewSingleHostReverseProxy(target)
	base := proxy.Director
	proxy.Director = func(r *http.Request) {
		host := r.Host // keep the suite's Host so rebinding checks see it
		base(r)
		r.Host = host
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	for _, scenario := range []string{"server-initialize", "ping", "tools-list", "dns-rebinding-protection"} {
		t.Run(scenario, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js"),
				"server", "--url", front.URL+"/", "--scenario", scenario)
			cmd.Dir = t.TempDir()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("conformance %s failed: %v\n%s", scenario, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
