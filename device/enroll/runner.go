package enroll

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// toolEnv is the whole environment a checked tool runs with. The user's own
// environment is not passed on: PYTHONPATH, DYLD_* or PATH entries the user
// controls could otherwise steer a tool's answer. The C locale keeps the
// output in the English this package parses.
func toolEnv() []string {
	return []string{
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"LC_ALL=C",
		"LANG=C",
	}
}

// execRunner is the default CommandRunner.
func execRunner(ctx context.Context, path string, args ...string) (CommandOutput, error) {
	// Never a PATH search: a user-writable directory early in PATH could
	// shadow the real tool.
	if !filepath.IsAbs(path) {
		return CommandOutput{}, fmt.Errorf("refusing to run %q: not an absolute path", path)
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = toolEnv()
	cmd.Dir = "/"
	stdout := &limitedBuffer{max: maxOutputBytes}
	stderr := &limitedBuffer{max: maxOutputBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A grandchild that keeps the pipes open must not hold us past the kill.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	out := CommandOutput{Stdout: stdout.buf, Stderr: stderr.buf}
	if ctx.Err() != nil {
		return out, fmt.Errorf("running %s: %w", path, ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		out.ExitCode = exitErr.ExitCode()
		err = nil
	}
	if err != nil {
		return out, fmt.Errorf("running %s: %w", path, err)
	}
	if stdout.cut || stderr.cut {
		return out, fmt.Errorf("running %s: more than %d bytes of output: %w", path, maxOutputBytes, ErrUnrecognized)
	}
	return out, nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest,
// without failing the writer (a tool that gets EPIPE may exit differently).
type limitedBuffer struct {
	buf []byte
	max int
	cut bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - len(b.buf)
	if len(p) > room {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		b.cut = true
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// readFileBounded is the default Options.ReadFile: it reads at most one byte
// more than any file this package accepts, so an oversize file is reported
// rather than read whole.
func readFileBounded(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxOutputBytes+1))
}
