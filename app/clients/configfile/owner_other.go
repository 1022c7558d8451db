//go:build !unix

package configfile

import (
	"io/fs"
	"os"
)

// keepOwner does nothing here: on Windows a new file inherits its folder's
// permissions, which is what the old file had too.
func keepOwner(*os.File, fs.FileInfo) {}
