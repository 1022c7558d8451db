package main_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMakeDemoLeavesHomeUntouched runs `make demo` the way a newcomer does
// on a machine without a display, under a fresh HOME, and lists what it
// left there: a demo must never write the person's files (an earlier
// Makefile ran `setup all --demo` by accident and edited ~/.claude.json).
func TestMakeDemoLeavesHomeUntouched(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries with make")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	// Where no service is installed the demo starts this account's demo
	// instance of scispot-mcpd; it listens in XDG_RUNTIME_DIR and is
	// stopped at the end.
	runtime := t.TempDir()
	t.Cleanup(func() { exec.Command("pkill", "-f", runtime).Run() })
	env := []string{
		"HOME=" + home,
		"XDG_RUNTIME_DIR=" + runtime,
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		// An empty bus address: nothing in the demo may need the keychain.
		"DBUS_SESSION_BUS_ADDRESS=",
	}
	// Go's caches default to folders under HOME; point them where they
	// are now so the build neither starts cold nor lands in the fresh HOME.
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOTOOLCHAIN", "GOPROXY"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		env = append(env, v+"="+strings.TrimSpace(string(out)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "-C", root, "demo")
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("make demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"No display here", "PLT-00142", "AllowWriteTools", "setup all --demo"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("make demo's output lacks %q:\n%s", want, out.String())
		}
	}
	var left []string
	filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		rel := strings.TrimPrefix(path, home+"/")
		switch {
		case err != nil || path == home:
		case rel == ".config" || rel == ".config/go":
		case strings.HasPrefix(rel, ".config/go/"):
			// The go command's own telemetry counters, written by the
			// build, not by the demo.
			return fs.SkipDir
		default:
			left = append(left, rel)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("make demo changed the fresh HOME; it left:\n  %s\n\noutput:\n%s", strings.Join(left, "\n  "), out.String())
	}
}
