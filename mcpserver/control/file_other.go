//go:build !windows

package control

import (
	"errors"
	"os"
	"syscall"
)

const isWindows = false

func openRead(path string) (*os.File, error) { return os.Open(path) }

// replaceFile renames over the target, which POSIX makes atomic for readers.
func replaceFile(from, to string) error { return os.Rename(from, to) }

// syncDir makes the rename itself durable. Some file systems cannot fsync a
// folder; the data is already synced there, so that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
