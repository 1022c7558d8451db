package main_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func trayBinary() string { return filepath.Join(filepath.Dir(binary), "scispot-mcp-tray") }

// TestNoGUIToolkit: scispot-mcp, which AI clients start for every session
// and admins run for kill, never links the GUI toolkit; its start-up is
// part of the kill switch's and serve's time budgets (design.md).
func TestNoGUIToolkit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "fyne.io/") {
			t.Fatalf("scispot-mcp depends on %s; the GUI belongs in cmd/scispot-mcp-tray", dep)
		}
	}
}

// TestTrayHandOff: tray command lines are checked by scispot-mcp, then
// handed to the tray binary beside it; without one the error says so.
func TestTrayHandOff(t *testing.T) {
	alone := filepath.Join(t.TempDir(), "scispot-mcp")
	body, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, body, 0o755); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	cases := []struct {
		bin    string
		args   []string
		code   int
		stderr string
	}{
		{alone, []string{"demo", "--window", "nope"}, 2, `unknown window "nope"`},
		{alone, []string{"--window=nope"}, 2, `unknown window "nope"`},
		{alone, []string{"demo", "extra"}, 2, `unexpected argument "extra"`},
		{alone, []string{"demo"}, 1, "the tray app is missing"},
		{alone, []string{"--window", "tool-changes"}, 1, "the tray app is missing"},
		{alone, nil, 1, "reinstall Scispot MCP"},
		// The tray binary answers every command too.
		{trayBinary(), []string{"version"}, 0, ""},
	}
	for _, c := range cases {
		cmd := exec.Command(c.bin, c.args...)
		cmd.Env = w.env()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%s %q: exit %d, stderr %q; want exit %d and %q", filepath.Base(c.bin), c.args, code, stderr.String(), c.code, c.stderr)
		}
	}
}
