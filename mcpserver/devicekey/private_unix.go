//go:build !windows

package devicekey

import (
	"fmt"
	"os"
	"syscall"
)

// checkPrivate refuses a key file that is not a regular file owned by this
// process's user with no access for group or others.
func checkPrivate(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("checking the device signing key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the device signing key %s is not a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("the device signing key %s can be read or written by other accounts (mode %v); it must be 0600", path, fi.Mode().Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("the device signing key %s belongs to uid %d, not to the service (uid %d)", path, st.Uid, os.Geteuid())
	}
	return nil
}
