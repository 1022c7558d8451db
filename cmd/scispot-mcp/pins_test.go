package main_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// TestRugPull is issue 14's rug pull end to end: Scispot changes the
// definition of a tool the lab allowed while an AI client runs `serve` as
// the scientist's account against a root scispot-mcpd. The tool is
// withheld (the client is told its list changed), a call is refused with
// what to do, the change is in the trail; `tools accept` shows old and
// new and takes the account password, which a process of the account
// does not know; the account cannot write the record of approved
// definitions.
func TestRugPull(t *testing.T) {
	w, up, token := managedWorld(t)
	changed := make(chan struct{}, 8)
	cs := w.connectWith("", "claude-ai", &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	})
	waitChanged := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("no tools/list_changed %s", what)
		}
	}
	if !slices.Contains(toolNames(t, cs), "get_experiment") {
		t.Fatal("get_experiment not listed")
	}
	if res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"}); res.IsError {
		t.Fatalf("before the change: %q", text)
	}
	var seen []string

	def := upstreamtest.Definition("get_experiment")
	def.Description += " Returns its attachments and viewing history too."
	up.SetTool(def)
	t.Run("the changed tool is withheld", func(t *testing.T) {
		waitChanged("after Scispot changed get_experiment")
		if slices.Contains(toolNames(t, cs), "get_experiment") {
			t.Fatal("the changed tool is still listed")
		}
		calls := len(up.Calls())
		res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"})
		seen = append(seen, text)
		if r := lastRecord(t, w, "get_experiment"); !res.IsError || r.Event != audit.EventToolDenied || r.Rule != gateway.RuleToolChanged ||
			!strings.Contains(text, "Scispot changed its definition (description)") || !strings.Contains(text, "`scispot-mcp tools accept get_experiment`") {
			t.Fatalf("call of the changed tool: %v %q, record %+v", res.IsError, text, r)
		}
		if len(up.Calls()) != calls {
			t.Fatal("a call of the withheld tool reached Scispot")
		}
		var rec *audit.Record
		for _, r := range records(t, w) {
			if r.Event == audit.EventToolChanged {
				rec = &r
			}
		}
		if rec == nil || rec.Tool != "get_experiment" || !strings.Contains(string(rec.Args), "viewing history") || !strings.Contains(string(rec.Args), `"before"`) {
			t.Fatalf("tool.changed record: %+v", rec)
		}
	})
	t.Run("status and tools --all say so", func(t *testing.T) {
		out, errOut, _ := w.run("", "status")
		seen = append(seen, out, errOut)
		if !strings.Contains(out, "tool withheld    get_experiment: definition changed (description)") {
			t.Fatalf("status:\n%s%s", out, errOut)
		}
		out, errOut, code := w.run("", "tools", "--all")
		seen = append(seen, out, errOut)
		if code != 0 || !strings.Contains(out, "withheld: definition changed since "+time.Now().UTC().Format("2006-01-02")+" (description)") {
			t.Fatalf("tools --all (%d):\n%s%s", code, out, errOut)
		}
	})
	t.Run("the account cannot write the record of approved definitions", func(t *testing.T) {
		path := filepath.Join(w.svcDir, "var", "tool-pins.json")
		// stat(1), not syscall.Stat_t: the package vets for every OS.
		if out, err := exec.Command("stat", "-c", "%u %a", path).Output(); err != nil || strings.TrimSpace(string(out)) != "0 600" {
			t.Fatalf("%s: owner and mode %q, %v; want root's, 600", path, out, err)
		}
		for _, attack := range []string{
			"cat " + path,
			"echo '{}' > " + path,
			"mv " + path + " " + path + ".x",
			"ln -sf /dev/null " + filepath.Join(w.svcDir, "var", "tool-pins.json.tmp"),
		} {
			if out, err := w.shell(attack); err == nil {
				t.Errorf("%q worked as the account: %s", attack, out)
			}
		}
	})
	t.Run("a wrong password accepts nothing", func(t *testing.T) {
		for _, pw := range []string{"", "not-the-password"} {
			out, errOut, code := w.run(pw+"\n", "tools", "accept", "get_experiment")
			seen = append(seen, out, errOut)
			if code != 3 || !strings.Contains(errOut, "password") {
				t.Fatalf("tools accept with %q = %d\n%s%s", pw, code, out, errOut)
			}
			if !strings.Contains(out, "--- approved") || !strings.Contains(out, "viewing history too.") {
				t.Fatalf("tools accept did not show the change:\n%s", out)
			}
		}
		if slices.Contains(toolNames(t, cs), "get_experiment") {
			t.Fatal("a wrong password brought the tool back")
		}
	})
	t.Run("the person's password accepts it", func(t *testing.T) {
		out, errOut, code := w.run(w.password()+"\n", "tools", "accept", "get_experiment")
		seen = append(seen, out, errOut)
		if code != 0 || !strings.Contains(out, "is accepted for "+w.account()) {
			t.Fatalf("tools accept with the password = %d\n%s%s", code, out, errOut)
		}
		waitChanged("after the person accepted the change")
		if !slices.Contains(toolNames(t, cs), "get_experiment") {
			t.Fatal("the accepted tool is not back")
		}
		if res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"}); res.IsError {
			t.Fatalf("call after acceptance: %q", text)
		}
		var denied, ok int
		for _, r := range records(t, w) {
			if r.Event == audit.EventToolAccepted {
				switch r.Outcome {
				case audit.OutcomeDenied:
					denied++
				case audit.OutcomeOK:
					ok++
					if !strings.Contains(r.Reason, "password checked by the service") || r.User != w.account() {
						t.Fatalf("tool.accepted: %+v", r)
					}
				}
			}
		}
		if denied != 2 || ok != 1 {
			t.Fatalf("%d refused and %d accepted tool.accepted records", denied, ok)
		}
		if _, _, code := w.run(w.password()+"\n", "tools", "accept", "get_experiment"); code != 1 {
			t.Fatalf("accepting again = %d, want 1 (nothing to accept)", code)
		}
	})
	w.assertNoSecret(token, seen...)
}
