package statedir

import (
	"io/fs"
	"path/filepath"
)

func platformDir(env Env) (string, error) {
	dir, err := windowsDir(env.getenv("LOCALAPPDATA"), env.Home)
	if err != nil {
		return "", err
	}
	return filepath.Clean(dir), nil
}

// tighten leaves the folder alone: it inherits the per-user ACL of
// %LOCALAPPDATA%, and Unix mode bits mean nothing here.
func tighten(string, fs.FileInfo) error { return nil }
