package statedir

import (
	"io/fs"
	"os"
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

// serviceDir is %ProgramData%\Scispot\MCP; ProgramData is C:\ProgramData
// unless an installer moved it, which the service reads at start.
var serviceDir = func() string {
	if pd := os.Getenv("ProgramData"); winIsAbs(pd) {
		return winJoin(pd, "Scispot", "MCP")
	}
	return `C:\ProgramData\Scispot\MCP`
}()
