//go:build !windows

package validation

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// systemOwner is the account the service must run as.
const systemOwner = "uid 0"

// checkEndpoint: the socket and the folder holding it belong to root and
// no one else can write the folder (so no one can put another socket there).
func checkEndpoint(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("inspecting %s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("inspecting %s: no owner information", p)
		}
		if st.Uid != 0 {
			return fmt.Errorf("%s is owned by uid %d, not root", p, st.Uid)
		}
		if p != path && fi.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%s is writable by group or others (%v)", p, fi.Mode().Perm())
		}
		if p == path && fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("%s is not a socket (%v)", p, fi.Mode())
		}
	}
	return nil
}
