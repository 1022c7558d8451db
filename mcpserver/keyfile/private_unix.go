//go:build !windows

package keyfile

import (
	"fmt"
	"os"
	"syscall"
)

// CheckPrivate refuses a key file that is not a regular file owned by this
// process's user with no access for group or others; what names the key
// in the error ("the service key").
func CheckPrivate(path, what string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("checking %s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s is not a regular file", what, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s %s can be read or written by other accounts (mode %v); it must be 0600", what, path, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s %s belongs to uid %d, not to the service (uid %d)", what, path, st.Uid, os.Geteuid())
	}
	return nil
}
