//go:build !unix

package enroll

import "io/fs"

// fileOwner cannot tell a file's owner here; the only signals that need it
// are Linux's, so on these systems no file ever counts as root's.
func fileOwner(fs.FileInfo) (uint32, bool) { return 0, false }
