package control

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

const isWindows = true

// openRead opens with FILE_SHARE_DELETE so that a reader (every watching
// serve reads the file the moment it changes) never makes the next writer's
// rename fail; os.Open does not share delete.
func openRead(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// replaceFile renames over the target (MoveFileEx with REPLACE_EXISTING).
// Other programs (an antivirus scanner, a reader that does not share
// delete) can hold the target open for a moment, so access and sharing
// errors are retried for about a second before giving up.
func replaceFile(from, to string) error {
	delays := [...]time.Duration{1, 2, 5, 10, 20, 50, 100, 200, 300, 300}
	var err error
	for _, d := range delays {
		if err = os.Rename(from, to); err == nil || !transient(err) {
			return err
		}
		time.Sleep(d * time.Millisecond)
	}
	return err
}

func transient(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)
}

// syncDir does nothing: Windows cannot open a folder for fsync, and NTFS
// journals the rename itself.
func syncDir(string) error { return nil }
