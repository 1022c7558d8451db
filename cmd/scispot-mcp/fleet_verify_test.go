package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// runAdmin runs scispot-mcp as the admin, outside any world: fleet-verify
// needs no service.
func runAdmin(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestFleetVerifyCommand: the exit codes and the two outputs of `audit
// fleet-verify` over a trail written by the real writer.
func TestFleetVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	device := strings.Repeat("ab", 32)
	skey, vkey, err := note.GenerateKey(rand.Reader, audit.SignerName(device))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	w, err := audit.Open(filepath.Join(dir, "trails"), audit.SessionInfo{User: "alice", Device: device, Token: "fp1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w.Append(ctx, audit.Record{Event: audit.EventSessionStart, Client: audit.Client{Name: "claude-ai"}})
	w.Append(ctx, audit.Record{Event: audit.EventToolCall, Tool: "list_labsheets", Outcome: audit.OutcomeOK, ResultBytes: 10})
	w.Append(ctx, audit.Record{Event: audit.EventSessionEnd})
	w.Checkpoint(signer)
	w.Close()
	trail := w.Path()
	keys := filepath.Join(dir, "keys.txt")
	os.WriteFile(keys, []byte("# the lab\n\n"+vkey+"\n"), 0o600)
	badKeys := filepath.Join(dir, "bad-keys.txt")
	os.WriteFile(badKeys, []byte("not a key\n"), 0o600)
	edited := filepath.Join(dir, "edited", filepath.Base(trail))
	os.MkdirAll(filepath.Dir(edited), 0o755)
	data, _ := os.ReadFile(trail)
	os.WriteFile(edited, bytes.Replace(data, []byte(`"result_bytes":10`), []byte(`"result_bytes":11`), 1), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"clean", []string{"--keys", keys, trail}, 0, "verdict: every trail verifies; nothing found"},
		{"a folder", []string{"--keys", keys, filepath.Join(dir, "trails")}, 0, "1 ok, 0 broken"},
		{"no keys: signatures not checked, not a finding", []string{trail}, 0, "1 signatures not checked"},
		{"edited record", []string{"--keys", keys, edited}, 1, filepath.Base(edited) + ":2  hash-mismatch"},
		{"client outside the list", []string{"--keys", keys, "--allowed-clients", "cursor", trail}, 1, "claude-ai"},
		{"no paths", nil, 2, "name the files"},
		{"missing file", []string{filepath.Join(dir, "nope")}, 2, "no such file"},
		{"bad keys file", []string{"--keys", badKeys, trail}, 2, "line 1 is not a verifier key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runAdmin(t, append([]string{"audit", "fleet-verify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("exit %d (want %d), output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
	out, _, code := runAdmin(t, "audit", "fleet-verify", "--json", "--keys", keys, edited, trail)
	var rep struct {
		Totals struct {
			Records, Duplicates int
		} `json:"totals"`
		Problems []struct {
			Problem, File string
			Line          int
		} `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("--json (exit %d): %v\n%s", code, err, out)
	}
	if rep.Totals.Records != 4 || rep.Totals.Duplicates != 3 || len(rep.Problems) != 1 || rep.Problems[0].Line != 2 || rep.Problems[0].File != edited {
		t.Fatalf("--json report %+v", rep)
	}
}
