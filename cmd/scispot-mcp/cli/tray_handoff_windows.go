package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// handOff runs the tray binary (a GUI-subsystem program) with this
// console's streams and waits for it, so a command prompt sees its output
// and exit status; Windows has no exec.
func handOff(ctx context.Context, env Env, path string, args []string) error {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &exitCodeError{code: ee.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	return nil
}
