package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// TestTypeScriptSDKClient drives the binary with the official TypeScript
// MCP SDK (pinned in testdata/interop), which desktop AI clients are built
// on: the v1 SDK (@modelcontextprotocol/sdk) and the v2 split client
// (@modelcontextprotocol/client) as it negotiates out of the box and in its
// "auto" mode, which prefers protocol 2026-07-28 as Claude Code 2.1 does.
func TestTypeScriptSDKClient(t *testing.T) {
	dir, _ := filepath.Abs("testdata/interop")
	clients := []struct {
		name, pkg string
		args      []string
		protocol  string // what the client settles on with this gateway
	}{
		{"sdk-v1", "sdk", []string{"client.mjs"}, "2025-11-25"},
		{"client-v2", "client", []string{"client-v2.mjs"}, "2025-11-25"},
		{"client-v2-auto", "client", []string{"client-v2.mjs", "--auto"}, "2026-07-28"},
	}
	states := []struct {
		name string
		args []string
		says string // the refusal's sentence, "" when access is allowed
	}{
		{"demo", []string{"--demo"}, ""},
		// The default policy on a workstation with no MDM signal.
		{"not enrolled", nil, "not enrolled in your organisation's device management"},
	}
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", c.pkg)); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("the interop test's npm packages are missing: `make interop-deps` installs them")
				}
				t.Skip("npm packages not installed: run `make interop-deps`")
			}
			for _, st := range states {
				t.Run(st.name, func(t *testing.T) {
					got := runInteropClient(t, dir, c.args, st.args)
					if got.ProtocolVersion != c.protocol {
						t.Errorf("negotiated protocol %q, want %q", got.ProtocolVersion, c.protocol)
					}
					if got.ListError != "" {
						t.Fatalf("the client rejected tools/list (protocol %s): %s", got.ProtocolVersion, got.ListError)
					}
					for _, step := range []struct {
						tool string
						res  interopCall
					}{{"get_manifest", got.Call}, {"update_labsheet_rows", got.Denied}} {
						if step.res.Error != "" {
							t.Fatalf("the client rejected the result of tools/call %s (protocol %s): %s", step.tool, got.ProtocolVersion, step.res.Error)
						}
					}
					var names []string
					for _, tl := range got.Tools {
						names = append(names, tl.Name)
						if tl.ReadOnly == nil || !*tl.ReadOnly {
							t.Errorf("tool %s is not annotated read-only", tl.Name)
						}
					}
					if st.says != "" {
						if !slices.Equal(names, []string{"scispot_access_status"}) || !strings.Contains(got.Tools[0].Description, st.says) {
							t.Fatalf("refused tools = %+v, want scispot_access_status alone, its description saying %q", got.Tools, st.says)
						}
						if !strings.Contains(got.Instructions, st.says) {
							t.Errorf("instructions %q lack %q", got.Instructions, st.says)
						}
						if !got.Call.IsError || !strings.Contains(got.Call.Text, st.says) {
							t.Fatalf("call while refused = %+v", got.Call)
						}
						return
					}
					slices.Sort(names)
					want := catalog.ReadOnlyNames()
					slices.Sort(want)
					if !slices.Equal(names, want) {
						t.Fatalf("tools = %v", names)
					}
					if got.Call.IsError || !strings.Contains(got.Call.Text, "PLT-00142") {
						t.Fatalf("call = %+v", got.Call)
					}
					if !got.Denied.IsError || !strings.Contains(got.Denied.Text, "AllowWriteTools") {
						t.Fatalf("write call = %+v", got.Denied)
					}
				})
			}
		})
	}
}

type interopResult struct {
	ProtocolVersion string
	Server          struct{ Name string }
	Instructions    string
	// ListError is the client's own error when it rejected tools/list.
	ListError string
	Tools     []struct {
		Name, Description string
		ReadOnly          *bool
	}
	Call, Denied interopCall
}

type interopCall struct {
	IsError bool
	Text    string
	// Error is the client's own error when it rejected the result.
	Error string
}

// runInteropClient runs `node SCRIPT [flags] BINARY serve ARGS` in dir and
// decodes its summary line; a client that throws fails the test with its
// own error text.
func runInteropClient(t *testing.T, dir string, script, serveArgs []string) interopResult {
	t.Helper()
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(append(slices.Clone(script), binary, "serve"), serveArgs...)
	cmd := w.commandContext(ctx, "node", args...)
	cmd.Dir = dir
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(script, " "), err, w.logs.String())
	}
	var got interopResult
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("client output %q: %v", stdout.String(), err)
	}
	return got
}
