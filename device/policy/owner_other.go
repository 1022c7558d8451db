//go:build !unix

package policy

import "io/fs"

// fileOwner cannot tell a file's owner here (Windows keeps policy in the
// registry), so a FileStore never trusts a file on these systems.
func fileOwner(fs.FileInfo) (uint32, bool) { return 0, false }
