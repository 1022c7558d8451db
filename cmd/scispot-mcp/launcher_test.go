package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// TestClientKnownByExecutable: with AllowedClientExecutables set, the root
// service admits a session whose relay was launched by an allowed program
// and refuses the same client name from another launcher, naming the
// program it saw; status lists both programs. The launcher comes from the
// kernel (the relay's parent process), so the name the client reports
// changes nothing. The demo workspace needs no token, and the rule holds
// for it as for Scispot.
func TestClientKnownByExecutable(t *testing.T) {
	requireRoot(t)
	w := newWorld(t)
	// connect starts the relay straight from this test program (setpriv
	// execs it): this program is the allowed AI client.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		t.Fatal(err)
	}
	// A launcher script that stays the relay's parent: the shell is then
	// the program the kernel names, whatever the client calls itself.
	shell, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := json.Marshal(map[string]any{"AllowedClientExecutables": []string{"/usr/bin/claude", filepath.Dir(self) + "/*"}})
	writePolicy(t, string(policy))

	t.Run("allowed launcher", func(t *testing.T) {
		cs := w.connect("", "claude-code", "--demo")
		if names := toolNames(t, cs); slices.Contains(names, "scispot_access_status") || !slices.Contains(names, "list_labsheets") {
			t.Fatalf("tools = %v, want the demo's tools", names)
		}
	})

	t.Run("same client name from another program", func(t *testing.T) {
		cmd := w.command("sh", "-c", `"$0" serve --demo; exit $?`, binary)
		cmd.Stderr = w.logWriter()
		client := mcp.NewClient(&mcp.Implementation{Name: "claude-code", Version: "1.0.0"}, nil)
		cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatalf("connecting: %v\n%s", err, w.logs.String())
		}
		defer cs.Close()
		tools, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := `The program that started this Scispot connection, "` + shell + `", is not an approved AI client on this workstation`
		if len(tools.Tools) != 1 || tools.Tools[0].Name != "scispot_access_status" || !strings.Contains(tools.Tools[0].Description, want) {
			t.Fatalf("tools = %+v, want scispot_access_status alone saying %q", tools.Tools, want)
		}
		if _, text := callText(t, cs, "list_labsheets", map[string]any{}); !strings.Contains(text, want) {
			t.Errorf("calling a Scispot tool said %q, want %q", text, want)
		}
		_, text := callText(t, cs, "scispot_access_status", map[string]any{})
		if !strings.Contains(text, want) || !strings.Contains(text, "AllowedClientExecutables") {
			t.Errorf("scispot_access_status said %q, want %q and the policy key", text, want)
		}
	})

	t.Run("a copy of the allowed program elsewhere", func(t *testing.T) {
		// test-helper is this very program, copied beside the binaries:
		// the same bytes at a path the policy does not name.
		cmd := w.command(testHelper(), "-test.run=^TestHelperLauncher$")
		cmd.Env = append(cmd.Env, "SCISPOT_HELPER=launch", "SCISPOT_RELAY="+binary)
		cmd.Stderr = w.logWriter()
		client := mcp.NewClient(&mcp.Implementation{Name: "claude-code", Version: "1.0.0"}, nil)
		cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatalf("connecting: %v\n%s", err, w.logs.String())
		}
		defer cs.Close()
		want := `The program that started this Scispot connection, "` + testHelper() + `", is not an approved AI client`
		if _, text := callText(t, cs, "scispot_access_status", map[string]any{}); !strings.Contains(text, want) {
			t.Errorf("scispot_access_status said %q, want %q", text, want)
		}
	})

	var refused *audit.Record
	for _, r := range records(t, w) {
		if r.Event == audit.EventRefused {
			refused = &r
		}
		if r.Event == audit.EventToolCall && r.Outcome == audit.OutcomeOK && r.Client.Exe == shell {
			t.Errorf("a call from the refused launcher went through: %+v", r)
		}
	}
	if refused == nil || refused.Rule != access.RuleClientExecutable || refused.Client.Exe == "" || refused.Client.Name != "claude-code" {
		t.Fatalf("refused record = %+v, want rule %s for %s", refused, access.RuleClientExecutable, shell)
	}

	out, _, _ := w.run("", "status", "--json")
	var st struct {
		ExecutablesSeen []string `json:"executables_seen"`
		SignersSeen     []string `json:"signers_seen"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if !slices.Contains(st.ExecutablesSeen, self) || !slices.Contains(st.ExecutablesSeen, shell) || !slices.Contains(st.ExecutablesSeen, testHelper()) || st.SignersSeen == nil {
		t.Errorf("status executables_seen %q signers_seen %q, want %s and %s", st.ExecutablesSeen, st.SignersSeen, self, shell)
	}

	t.Run("validate started from a shell", func(t *testing.T) {
		// The shell is not an approved launcher, but validate is the
		// product's own program on the demo: its cases run (no password
		// on stdin, so the kill switch case skips).
		out := w.mkdirOwned("scispot-validate-", 0o700)
		cmd := w.command("sh", "-c", `"$0" validate --json --out "$1" </dev/null; exit $?`, binary, out)
		var stdout bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
		_ = cmd.Run() // IQ cases fail in this world; the OQ cases matter
		rep, err := validation.Parse(stdout.Bytes())
		if err != nil {
			t.Fatalf("validate from a shell printed no report: %v\n%s\n%s", err, stdout.String(), w.logs.String())
		}
		for _, c := range rep.OQ {
			switch c.ID {
			case "OQ-01", "OQ-02", "OQ-03", "OQ-04", "OQ-07":
				if c.Result != validation.Pass {
					t.Errorf("%s %s = %s: %s", c.ID, c.Title, c.Result, c.Actual)
				}
			}
		}
		for _, r := range records(t, w) {
			if r.Event == audit.EventRefused && r.Rule == access.RuleClientExecutable && r.Client.Name == validation.ClientName {
				t.Errorf("a validation session was refused by AllowedClientExecutables: %+v", r)
			}
		}
	})
}

// TestHelperLauncher is an AI client of its own in a helper process: it
// launches the relay SCISPOT_RELAY (serve --demo) on its own stdio and
// stays its parent until it ends.
func TestHelperLauncher(t *testing.T) {
	if os.Getenv("SCISPOT_HELPER") != "launch" {
		t.Skip("a helper process for TestClientKnownByExecutable")
	}
	cmd := exec.Command(os.Getenv("SCISPOT_RELAY"), "serve", "--demo")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	// Nothing of the test framework's may follow on stdout.
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}
