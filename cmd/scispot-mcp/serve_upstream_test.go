package main_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

func newToken(t *testing.T) string {
	b := make([]byte, 24)
	rand.Read(b)
	return "sst_" + hex.EncodeToString(b)
}

// TestServeAgainstLoopbackUpstream is the whole real-workspace path: an
// admin's root-owned policy names the upstream, the scientist stores the
// token with `token set`, a client calls through `serve`, and the token
// shows up only as the Bearer header upstream.
func TestServeAgainstLoopbackUpstream(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	token := newToken(t)
	up := upstreamtest.New(t, token)
	writePolicy(t, fmt.Sprintf(`{"UpstreamURL": %q, "ManagedBy": "Ansible"}`, up.URL))
	w := newWorld(t)
	t.Cleanup(func() { w.run("", "token", "remove") })
	var seen []string // every message a person could see, searched for the token

	// A wrong token is refused by Scispot and not stored.
	out, errOut, code := w.run("sst_wrong\n", "token", "set")
	seen = append(seen, out, errOut)
	if code != 1 || !strings.Contains(errOut, "not stored") || !strings.Contains(errOut, "token set") {
		t.Fatalf("token set (wrong) = %d %q %q", code, out, errOut)
	}
	out, errOut, code = w.run("  "+token+"\n", "token", "set")
	seen = append(seen, out, errOut)
	if code != 0 || !strings.Contains(out, "Scispot accepted the token") || !strings.Contains(out, keychain.Fingerprint(token)) {
		t.Fatalf("token set = %d %q %q", code, out, errOut)
	}
	out, _, _ = w.run("", "token", "status")
	seen = append(seen, out)
	if !strings.Contains(out, keychain.Fingerprint(token)) {
		t.Fatalf("token status = %q", out)
	}

	for name, proto := range protocols {
		t.Run(name, func(t *testing.T) {
			cs := w.connect(proto, "claude-ai")
			if got := toolNames(t, cs); len(got) != 16 || slices.Contains(got, "export_everything") {
				t.Fatalf("tools = %v", got)
			}
			before := len(up.Calls())
			args := map[string]any{"labsheet": "Cell Lines", "filter": map[string]any{"Status": "Frozen"}, "page": 2.0}
			res, text := callText(t, cs, "search_labsheet_rows", args)
			seen = append(seen, text)
			if res.IsError {
				t.Fatalf("allowed call failed: %q", text)
			}
			calls := up.Calls()
			if len(calls) != before+1 {
				t.Fatalf("upstream saw %d new calls, want 1", len(calls)-before)
			}
			last := calls[len(calls)-1]
			var gotArgs map[string]any
			json.Unmarshal(last.Args, &gotArgs)
			if last.Tool != "search_labsheet_rows" || last.Authorization != "Bearer "+token || fmt.Sprint(gotArgs) != fmt.Sprint(args) {
				t.Fatalf("upstream call = %s %v (auth ok: %v)", last.Tool, gotArgs, last.Authorization == "Bearer "+token)
			}
			for _, hidden := range []string{"update_labsheet_rows", "export_everything", "add_labsheet_rows"} {
				res, text := callText(t, cs, hidden, map[string]any{"labsheet": "Cell Lines"})
				seen = append(seen, text)
				if !res.IsError || !strings.Contains(text, "not available on this workstation") {
					t.Fatalf("%s = %v %q", hidden, res.IsError, text)
				}
			}
			if n := len(up.Calls()); n != before+1 {
				t.Fatalf("hidden tools reached the upstream: %v", up.Calls()[before+1:])
			}
		})
	}

	t.Run("upstream failures", func(t *testing.T) {
		cs := w.connect("", "claude-ai")
		toolNames(t, cs)
		cases := []struct {
			mode upstreamtest.Mode
			want string
		}{
			{upstreamtest.Status(401, ""), "scispot-mcp token set"},
			{upstreamtest.Status(403, ""), "scispot-mcp token set"},
			{upstreamtest.Status(429, "7"), "retry after 7 s"},
			{upstreamtest.Status(503, ""), "Scispot did not answer"},
			{upstreamtest.Garbage(), "cannot read"},
		}
		for _, c := range cases {
			up.SetMode(c.mode)
			res, text := callText(t, cs, "list_labsheets", nil)
			seen = append(seen, text)
			if !res.IsError || !strings.Contains(text, c.want) {
				t.Errorf("mode %+v: %v %q, want %q", c.mode, res.IsError, text, c.want)
			}
		}
		up.SetMode(upstreamtest.Normal())
		if res, text := callText(t, cs, "list_labsheets", nil); res.IsError {
			t.Fatalf("after recovery: %q", text)
		}
	})

	out, _, code = w.run("", "tools", "--all")
	seen = append(seen, out)
	if code != 0 || !strings.Contains(out, "export_everything") || !strings.Contains(out, "new tools stay hidden") {
		t.Fatalf("tools --all = %d %q", code, out)
	}
	out, errOut, code = w.run("", "call", "get_manifest", `{"id":"PLT-00142"}`)
	seen = append(seen, out, errOut)
	if code != 0 {
		t.Fatalf("call = %d %q %q", code, out, errOut)
	}
	if c := up.Calls(); c[len(c)-1].Tool != "get_manifest" {
		t.Fatalf("the CLI call did not reach the upstream: %v", c[len(c)-1])
	}
	_, errOut, code = w.run("", "call", "write_to_protocol", `{}`)
	if code != 3 {
		t.Fatalf("call of a hidden tool exited %d (%q), want 3", code, errOut)
	}

	w.assertNoSecret(token, seen...)
	_ = context.Background
}
