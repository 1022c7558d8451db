//go:build unix

package configfile

import (
	"io/fs"
	"os"
	"syscall"
)

// keepOwner gives the new file the old file's owner and group. It only
// succeeds for an administrator (for example "sudo scispot-mcp setup"), and
// only then does it matter: without it the user's config would become
// root's and the client could no longer write it.
func keepOwner(f *os.File, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	if int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid() {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
