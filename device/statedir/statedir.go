// Package statedir finds and prepares the per-user folder where Scispot MCP
// Desktop keeps its state: the audit trail, the kill-switch file and the
// usage counters.
//
// The folder is per OS account and never shared between accounts:
//
//	macOS    ~/Library/Application Support/Scispot MCP/
//	Windows  %LOCALAPPDATA%\Scispot\MCP\
//	Linux    $XDG_STATE_HOME/scispot-mcp/ (default ~/.local/state/scispot-mcp/)
//
// Dir only computes the path; Ensure creates it. Callers pass an Env so
// tests never depend on the real home folder.
package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoHome means the state folder cannot be placed because the user's home
// folder (or the OS variable that replaces it) is unknown or not absolute.
var ErrNoHome = errors.New("home folder unknown")

// Env is how the folder is found. FromOS gives the real one; tests pass
// their own.
type Env struct {
	// Home is the user's home folder; it must be absolute to be used.
	Home string
	// Getenv looks up an environment variable; nil means none are set.
	Getenv func(string) string
}

// FromOS returns the Env of the running process. A home folder the OS
// cannot report is left empty, which Dir turns into ErrNoHome.
func FromOS() Env {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return Env{Home: home, Getenv: os.Getenv}
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// Dir returns the state folder for this OS (see the package doc). It does not
// create it; see Ensure.
func Dir(env Env) (string, error) {
	dir, err := platformDir(env)
	if err != nil {
		return "", fmt.Errorf("finding the Scispot MCP state folder: %w", err)
	}
	return dir, nil
}

// Ensure creates dir (and its parents) if needed and makes sure only the
// owner can enter it: the audit trail and the kill switch must not be
// readable or replaceable by other accounts. An existing folder with a wider
// mode is tightened to 0700. On Windows the folder inherits the per-user
// ACL of %LOCALAPPDATA% and its mode is left alone.
func Ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the state folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking the state folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("checking the state folder: %s is not a folder", dir)
	}
	if err := tighten(dir, fi); err != nil {
		return fmt.Errorf("restricting the state folder to its owner: %w", err)
	}
	return nil
}

// AuditDir is the folder of per-session audit files inside the state folder.
func AuditDir(state string) string { return filepath.Join(state, "audit") }

// ControlFile is the kill-switch file inside the state folder.
func ControlFile(state string) string { return filepath.Join(state, "control.json") }

// ServiceDir is the workstation service's own state folder (design.md,
// "Where things live"): readable and writable by root (SYSTEM) only.
func ServiceDir() string { return serviceDir }

// DemoServiceDir is where the unprivileged demo instance of the service
// keeps its state, inside the person's state folder.
func DemoServiceDir(state string) string { return filepath.Join(state, "demo-service") }

// LocalHTTPHeaderFile holds the local HTTP server's Authorization header
// for mcp-remote's --header-file, so the secret stays out of client configs.
func LocalHTTPHeaderFile(state string) string { return filepath.Join(state, "local-http.header") }

// The per-OS formulas below are pure so that every platform's rule is
// tested on any platform; the _GOOS files only pick one and feed it.

// xdgDir is the Linux (and other Unix) rule. The XDG Base Directory spec
// says a relative $XDG_STATE_HOME is invalid and must be ignored.
func xdgDir(xdgStateHome, home string) (string, error) {
	if xdgStateHome != "" && strings.HasPrefix(xdgStateHome, "/") {
		return filepath.Join(xdgStateHome, "scispot-mcp"), nil
	}
	if !strings.HasPrefix(home, "/") {
		return "", ErrNoHome
	}
	return filepath.Join(home, ".local", "state", "scispot-mcp"), nil
}

// darwinDir is the macOS rule.
func darwinDir(home string) (string, error) {
	if !strings.HasPrefix(home, "/") {
		return "", ErrNoHome
	}
	return filepath.Join(home, "Library", "Application Support", "Scispot MCP"), nil
}

// windowsDir is the Windows rule. It builds the path with backslashes
// itself so that it can be tested off Windows. %LOCALAPPDATA% is preferred;
// without it the default location under the profile folder is used.
func windowsDir(localAppData, home string) (string, error) {
	base := ""
	switch {
	case winIsAbs(localAppData):
		base = localAppData
	case winIsAbs(home):
		base = winJoin(home, "AppData", "Local")
	default:
		return "", ErrNoHome
	}
	return winJoin(base, "Scispot", "MCP"), nil
}

// winIsAbs reports whether p is a drive-absolute (C:\…) or UNC (\\host\…)
// Windows path. A drive-relative path such as "C:foo" is not absolute.
func winIsAbs(p string) bool {
	isSep := func(c byte) bool { return c == '\\' || c == '/' }
	if len(p) >= 3 && p[1] == ':' && isSep(p[2]) {
		c := p[0] | 0x20 // lower-case ASCII letters
		return c >= 'a' && c <= 'z'
	}
	return len(p) >= 3 && isSep(p[0]) && isSep(p[1]) && !isSep(p[2])
}

func winJoin(base string, elems ...string) string {
	base = strings.TrimRight(base, `\/`)
	if len(base) == 2 && base[1] == ':' {
		base += `\` // keep "C:\" drive-absolute rather than "C:" drive-relative
	} else {
		base += `\`
	}
	return base + strings.Join(elems, `\`)
}
