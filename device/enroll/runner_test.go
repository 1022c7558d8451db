//go:build unix

package enroll

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func requireSh(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
}

func TestExecRunner(t *testing.T) {
	requireSh(t)
	out, err := execRunner(context.Background(), "/bin/sh", "-c", "echo out; echo err >&2; exit 5")
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Stdout) != "out\n" || string(out.Stderr) != "err\n" || out.ExitCode != 5 {
		t.Fatalf("output = %q, %q, exit %d", out.Stdout, out.Stderr, out.ExitCode)
	}
}

func TestExecRunnerEnvironment(t *testing.T) {
	requireSh(t)
	t.Setenv("PYTHONPATH", "/home/someone/evil")
	out, err := execRunner(context.Background(), "/bin/sh", "-c", "env")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(out.Stdout)), "\n")
	for _, v := range got {
		// Shells add a few of their own (PWD, SHLVL, _); nothing of ours may leak.
		if strings.HasPrefix(v, "PYTHONPATH=") {
			t.Errorf("the caller's environment leaked: %s", v)
		}
	}
	for _, want := range toolEnv() {
		if !slices.Contains(got, want) {
			t.Errorf("environment lacks %s: %q", want, got)
		}
	}
}

func TestExecRunnerRefusesRelativePath(t *testing.T) {
	if _, err := execRunner(context.Background(), "profiles", "status"); err == nil {
		t.Fatal("ran a program found through PATH")
	}
}

func TestExecRunnerMissingTool(t *testing.T) {
	_, err := execRunner(context.Background(), "/nonexistent/profiles", "status")
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

func TestExecRunnerDeadline(t *testing.T) {
	requireSh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The program would run far longer than the deadline: the runner must
	// kill it and say so.
	_, err := execRunner(ctx, "/bin/sh", "-c", "exec sleep 60")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
}

func TestExecRunnerBoundsOutput(t *testing.T) {
	requireSh(t)
	out, err := execRunner(context.Background(), "/bin/sh", "-c", "exec head -c 100000 /dev/zero")
	if !errors.Is(err, ErrUnrecognized) {
		t.Fatalf("err = %v, want ErrUnrecognized", err)
	}
	if len(out.Stdout) != maxOutputBytes {
		t.Fatalf("kept %d bytes, want %d", len(out.Stdout), maxOutputBytes)
	}
}

func TestReadFileBounded(t *testing.T) {
	path := t.TempDir() + "/big"
	if err := os.WriteFile(path, make([]byte, maxOutputBytes+100), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := readFileBounded(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != maxOutputBytes+1 {
		t.Fatalf("read %d bytes, want %d", len(data), maxOutputBytes+1)
	}
}
