//go:build !windows

package statedir

import (
	"io/fs"
	"os"
)

// tighten narrows an existing folder to 0700; MkdirAll only sets the mode of
// folders it creates, so one made earlier with a looser umask stays open.
func tighten(dir string, fi fs.FileInfo) error {
	if fi.Mode().Perm() == 0o700 {
		return nil
	}
	return os.Chmod(dir, 0o700)
}
