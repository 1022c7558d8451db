package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// TestTypeScriptSDKClient drives the binary with the official TypeScript
// MCP SDK (pinned in testdata/interop), which desktop AI clients are built on.
func TestTypeScriptSDKClient(t *testing.T) {
	dir, _ := filepath.Abs("testdata/interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the interop test's npm packages are missing: `make interop-deps` installs them")
		}
		t.Skip("npm packages not installed: run `make interop-deps`")
	}
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "client.mjs", binary, "serve", "--demo")
	cmd.Dir = dir
	cmd.Env = w.env()
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node client: %v\n%s", err, w.logs.String())
	}
	var got struct {
		Server struct{ Name string }
		Tools  []struct {
			Name     string
			ReadOnly *bool
		}
		Call, Denied struct {
			IsError bool
			Text    string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("client output %q: %v", stdout.String(), err)
	}
	var names []string
	for _, tl := range got.Tools {
		names = append(names, tl.Name)
		if tl.ReadOnly == nil || !*tl.ReadOnly {
			t.Errorf("tool %s is not annotated read-only", tl.Name)
		}
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
}
