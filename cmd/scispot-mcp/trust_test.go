package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// storeToken puts a token in the real keychain through the CLI.
func (w *world) storeToken(token string) {
	w.t.Helper()
	if out, errOut, code := w.run(token+"\n", "token", "set", "--no-verify"); code != 0 {
		w.t.Fatalf("token set: %d %s %s", code, out, errOut)
	}
	w.t.Cleanup(func() { w.run("", "token", "remove") })
}

// TestWorkstationTrustRefusals: each rule of issue 3 reaches a real MCP
// client as one sentence, and nothing reaches the upstream.
func TestWorkstationTrustRefusals(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	token := newToken(t)
	up := upstreamtest.New(t, token)
	w := newWorld(t)
	w.storeToken(token)
	managed := fmt.Sprintf(`"UpstreamURL": %q, "ManagedBy": "Ansible"`, up.URL)
	cases := []struct {
		name   string
		policy string
		mode   os.FileMode
		demo   bool
		says   string
	}{
		{"no policy: not enrolled", "", 0, false, "not enrolled in your organisation's device management (MDM); ask IT to enroll it"},
		{"world-writable policy is invalid", `{` + managed + `}`, 0o666, false, "is writable by other accounts (mode 0666)"},
		{"unknown key", `{` + managed + `, "Foo": 1}`, 0o644, false, `The admin policy for Scispot MCP is invalid, so access is blocked: `},
		{"wrong type", `{` + managed + `, "Enabled": "yes"}`, 0o644, false, `"Enabled"`},
		{"unauthorised user", `{` + managed + `, "AuthorizedUsers": ["bob"]}`, 0o644, false, `is not authorised to use Scispot MCP on this device`},
		{"disabled by admin", `{` + managed + `, "Enabled": false}`, 0o644, false, "turned off AI access"},
		{"demo disabled", `{"AllowDemo": false}`, 0o644, true, "does not allow the demo workspace"},
		{"unapproved client", `{` + managed + `, "AllowedClients": ["cursor*"]}`, 0o644, false, `The AI client "claude-ai" is not approved`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.policy != "" {
				writePolicy(t, tc.policy)
				if err := os.Chmod(policyPath, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			before := len(up.Calls())
			for name, proto := range protocols {
				args := []string{}
				if tc.demo {
					args = append(args, "--demo")
				}
				cs := w.connect(proto, "claude-ai", args...)
				if got := cs.InitializeResult().Instructions; !strings.Contains(got, tc.says) {
					t.Fatalf("%s: instructions %q lack %q", name, got, tc.says)
				}
				if got := toolNames(t, cs); !slices.Equal(got, []string{"scispot_access_status"}) {
					t.Fatalf("%s: tools = %v", name, got)
				}
				res, text := callText(t, cs, "list_labsheets", nil)
				if !res.IsError || !strings.Contains(text, tc.says) {
					t.Fatalf("%s: call = %v %q", name, res.IsError, text)
				}
			}
			if n := len(up.Calls()); n != before {
				t.Fatalf("a refused session reached the upstream")
			}
			_, errOut, code := w.run("", "status")
			if tc.demo || strings.Contains(tc.name, "client") {
				return // status is about the workstation, not one client
			}
			if code != 3 || !strings.Contains(errOut, tc.says) {
				t.Fatalf("status = %d %q", code, errOut)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	token := newToken(t)
	writePolicy(t, `{"ManagedBy": "Puppet", "DeniedTools": ["get_manifest"]}`)
	w := newWorld(t)
	w.storeToken(token)
	out, errOut, code := w.run("", "status", "--json")
	if code != 0 {
		t.Fatalf("status --json = %d %s %s", code, out, errOut)
	}
	var got struct {
		Enrollment *struct {
			Managed *bool
			Method  *string
			Detail  *string
		}
		Policy *struct {
			Valid     *bool
			Sources   []string
			Error     *string
			Effective map[string]any
		}
		User *struct {
			Name       *string
			Authorized *bool
		}
		Device *string
		Token  *struct {
			Present     *bool
			Fingerprint *string
		}
		Killed   *bool
		Sessions []any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out)
	}
	if got.Enrollment == nil || !*got.Enrollment.Managed || *got.Enrollment.Method != "linux-policy-managedby" ||
		got.Policy == nil || !*got.Policy.Valid || !slices.Equal(got.Policy.Sources, []string{policyPath}) ||
		fmt.Sprint(got.Policy.Effective["DeniedTools"]) != "[get_manifest]" ||
		got.User == nil || *got.User.Name != w.account() || !*got.User.Authorized ||
		got.Device == nil || len(*got.Device) != 64 ||
		got.Token == nil || !*got.Token.Present || len(*got.Token.Fingerprint) != 12 ||
		got.Killed == nil || *got.Killed || got.Sessions == nil {
		t.Fatalf("status --json has the wrong shape:\n%s", out)
	}
	w.assertNoSecret(token, out)
}

// TestLivePolicyChange: a policy edit reaches a running session, the tool
// disappears with tools/list_changed, and Enabled:false ends the session.
func TestLivePolicyChange(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	token := newToken(t)
	up := upstreamtest.New(t, token)
	w := newWorld(t)
	w.storeToken(token)
	base := fmt.Sprintf(`"UpstreamURL": %q, "ManagedBy": "Ansible"`, up.URL)
	writePolicy(t, `{`+base+`}`)
	for name, proto := range protocols {
		t.Run(name, func(t *testing.T) {
			writePolicy(t, `{`+base+`}`)
			changed := make(chan struct{}, 8)
			cmdArgs := []string{}
			cs := w.connectWith(proto, "claude-ai", &mcp.ClientOptions{
				ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
					select {
					case changed <- struct{}{}:
					default:
					}
				},
			}, cmdArgs...)
			if !slices.Contains(toolNames(t, cs), "get_manifest") {
				t.Fatal("get_manifest not listed")
			}
			writePolicy(t, `{`+base+`, "DeniedTools": ["get_manifest"]}`)
			select {
			case <-changed:
			case <-time.After(2 * time.Second):
				t.Fatal("no tools/list_changed within 2 s of the policy change")
			}
			if slices.Contains(toolNames(t, cs), "get_manifest") {
				t.Fatal("get_manifest still listed")
			}
			before := len(up.Calls())
			if res, text := callText(t, cs, "get_manifest", map[string]any{"id": "PLT-00142"}); !res.IsError || !strings.Contains(text, "DeniedTools") {
				t.Fatalf("call = %v %q", res.IsError, text)
			}
			if len(up.Calls()) != before {
				t.Fatal("a newly hidden tool reached the upstream")
			}
			writePolicy(t, `{`+base+`, "Enabled": false}`)
			done := make(chan error, 1)
			go func() { done <- cs.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Enabled:false did not end the running session")
			}
		})
	}
}

// TestStatusNamesRefusedClientEntries: status judges each AI client entry
// that launches this app the way the gateway will judge that client when
// it connects, so a "Connected" in the client's own list does not hide a
// blocked gateway.
func TestStatusNamesRefusedClientEntries(t *testing.T) {
	requireKeyring(t)
	w := newWorld(t)
	w.run("", "token", "remove")
	for _, args := range [][]string{{"setup", "claude-code", "--demo"}, {"setup", "cursor"}} {
		if out, errOut, code := w.run("", args...); code != 0 {
			t.Fatalf("%v = %d %s %s", args, code, out, errOut)
		}
	}
	entries := func() map[string]map[string]any {
		t.Helper()
		out, _, _ := w.run("", "status", "--json")
		var got struct{ Clients []map[string]any }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		m := map[string]map[string]any{}
		for _, c := range got.Clients {
			m[fmt.Sprint(c["client"])] = c
		}
		if len(m) != 2 {
			t.Fatalf("clients = %v, want the two entries", got.Clients)
		}
		return m
	}
	got := entries()
	if got["claude-code"]["refused"] != false || got["claude-code"]["demo"] != true {
		t.Errorf("the demo entry needs no token: %v", got["claude-code"])
	}
	if got["cursor"]["refused"] != true || got["cursor"]["reason"] == "" {
		t.Errorf("the Scispot entry without a token or enrollment: %v", got["cursor"])
	}
	if out, _, _ := w.run("", "status"); !strings.Contains(out, "cursor in ") || !strings.Contains(out, "would be refused") {
		t.Errorf("status does not name the refused entry:\n%s", out)
	}

	if os.Geteuid() == 0 {
		writePolicy(t, `{"ManagedBy": "Ansible", "AllowedClients": ["cursor-*"]}`)
		got = entries()
		if got["claude-code"]["rule"] != "client-not-approved" || !strings.Contains(fmt.Sprint(got["claude-code"]["reason"]), `"claude-code"`) {
			t.Errorf("claude-code outside AllowedClients: %v", got["claude-code"])
		}
	}
	w.run("", "kill", "--reason", "test")
	for name, c := range entries() {
		if c["refused"] != true || c["rule"] != "kill-switch" {
			t.Errorf("%s with the kill switch on: %v", name, c)
		}
	}
}
