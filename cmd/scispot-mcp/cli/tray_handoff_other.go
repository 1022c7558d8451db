//go:build !windows

package cli

import (
	"context"
	"fmt"
	"os"
	"syscall"
)

// handOff replaces this process with the tray binary: same pid, terminal,
// signals and exit status, as if it had been started directly.
func handOff(_ context.Context, _ Env, path string, args []string) error {
	err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
	return fmt.Errorf("starting %s: %w", path, err)
}
