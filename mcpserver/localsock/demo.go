package localsock

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// UserDemoPath is where a person's unprivileged demo instance of the
// service listens (used only where no system service is installed): in
// $XDG_RUNTIME_DIR when it is set (a folder only that account can enter),
// otherwise in a folder of the temporary directory named for the account,
// which Listen refuses if another account could swap the socket there.
func UserDemoPath(getenv func(string) string) string {
	if runtime.GOOS == "windows" {
		return `\\.\pipe\scispot-mcp-demo-` + strings.ReplaceAll(getenv("USERNAME"), `\`, "-")
	}
	if dir := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "scispot-mcp", "demo.sock")
	}
	return filepath.Join(os.TempDir(), "scispot-mcp-"+strconv.Itoa(os.Getuid()), "demo.sock")
}
