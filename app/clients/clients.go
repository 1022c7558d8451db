// Package clients connects AI clients to the local gateway: it writes this
// app's entry into each client's MCP config, notices when the entry goes
// stale or disappears, and moves plaintext Scispot tokens out of client
// configs into the keychain.
//
// The CLI ("scispot-mcp setup") and the tray use the same calls:
//
//	env := clients.FromOS()
//	exe := "/usr/bin/scispot-mcp" // absolute: GUI clients start servers with a bare PATH
//	for _, c := range clients.All() {
//		if !clients.Installed(c, env) {
//			continue
//		}
//		change, err := clients.Apply(ctx, c, env, clients.Options{Executable: exe})
//		// show change.Note: the client must be restarted to see the entry
//	}
//
// Every client's entry is named "scispot" and launches this app's binary by
// absolute path with args ["serve"] (plus "--demo"); see docs/clients.md for
// the files and entry shapes. No token, header or secret is ever written.
//
// Config files are edited through package configfile, which keeps comments,
// formatting and every other key, locks, backs up and replaces atomically.
//
// Everything here takes an Env instead of reading the process environment,
// so the macOS and Windows rules are tested on any machine.
package clients

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// EntryName is the name of this app's entry in every client config.
const EntryName = "scispot"

// Sentinel errors; test for them with errors.Is.
var (
	// ErrUnknownClient means a client ID is not one of All's.
	ErrUnknownClient = errors.New("unknown AI client")
	// ErrNoHome means the home folder (or the OS variable standing in for a
	// config folder) is unknown, so no config path can be computed.
	ErrNoHome = errors.New("home folder unknown")
	// ErrExecutable means the executable given in Options is not an
	// absolute path to an existing file.
	ErrExecutable = errors.New("unusable executable path")
	// ErrPlaintextToken means a Scispot entry in a client config holds a
	// plaintext API token, so it is not replaced or removed without moving
	// the token to the keychain first (see Scan and Migrate).
	ErrPlaintextToken = errors.New("plaintext API token in a client config")
	// ErrTokenRemains means that after a migration the config file still
	// contains the token somewhere outside the migrated entry.
	ErrTokenRemains = errors.New("token still in the config file")
	// ErrNoToken means a Finding does not carry a token: it was not made by
	// Scan.
	ErrNoToken = errors.New("finding carries no token")
)

// Env is the environment the config paths are computed in. FromOS gives the
// running process's; tests build their own.
type Env struct {
	// GOOS is "darwin", "windows" or "linux" (other values use the Linux
	// rules); empty means runtime.GOOS.
	GOOS string
	// Home is the user's home folder in GOOS's path syntax.
	Home string
	// Getenv looks up APPDATA, LOCALAPPDATA, USERPROFILE, XDG_CONFIG_HOME,
	// CLAUDE_CONFIG_DIR, ProgramData and ProgramFiles; nil means none is set.
	Getenv func(string) string
	// Root, when not empty, is a host folder that stands for the root of
	// GOOS's file system: every path is looked up and written under it
	// ("C:\Users\ann" becomes Root/Users/ann). Tests use it to lay out a
	// fake Windows or macOS machine; production leaves it empty.
	Root string
}

// FromOS returns the running process's Env.
func FromOS() Env {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	return Env{GOOS: runtime.GOOS, Home: home, Getenv: os.Getenv}
}

func (e Env) goos() string {
	if e.GOOS == "" {
		return runtime.GOOS
	}
	return e.GOOS
}

func (e Env) windows() bool { return e.goos() == "windows" }

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// native reports whether paths can be used on this machine as they are.
func (e Env) native() bool { return e.Root == "" && e.goos() == runtime.GOOS }

// join joins path elements with GOOS's separator.
func (e Env) join(elem ...string) string {
	if !e.windows() {
		return pathJoin("/", elem)
	}
	return pathJoin(`\`, elem)
}

func pathJoin(sep string, elem []string) string {
	var b strings.Builder
	for i, el := range elem {
		if i > 0 {
			el = strings.TrimLeft(el, `\/`)
			if !strings.HasSuffix(b.String(), sep) {
				b.WriteString(sep)
			}
		}
		if i < len(elem)-1 {
			el = strings.TrimRight(el, `\/`)
			if el == "" && i == 0 {
				el = sep
			}
		}
		b.WriteString(el)
	}
	return b.String()
}

// dir returns the folder part of p in GOOS's syntax.
func (e Env) dir(p string) string {
	i := strings.LastIndexAny(p, e.separators())
	switch {
	case i < 0:
		return "."
	case i == 0:
		return p[:1]
	case e.windows() && i == 2 && p[1] == ':':
		return p[:3]
	}
	return p[:i]
}

// base returns the last element of p in GOOS's syntax.
func (e Env) base(p string) string {
	return p[strings.LastIndexAny(p, e.separators())+1:]
}

func (e Env) separators() string {
	if e.windows() {
		return `\/`
	}
	return "/"
}

// isAbs reports whether p is absolute in GOOS's syntax.
func (e Env) isAbs(p string) bool {
	if !e.windows() {
		return strings.HasPrefix(p, "/")
	}
	if strings.HasPrefix(p, `\\`) {
		return true // UNC
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(('a' <= p[0] && p[0] <= 'z') || ('A' <= p[0] && p[0] <= 'Z'))
}

// host maps a GOOS path to the path to use on this machine (see Root).
func (e Env) host(p string) string {
	if e.Root == "" {
		return p
	}
	if e.windows() {
		if len(p) >= 2 && p[1] == ':' {
			p = p[2:]
		}
		p = strings.ReplaceAll(p, `\`, "/")
	}
	return filepath.Join(e.Root, filepath.FromSlash(p))
}

func (e Env) stat(p string) (fs.FileInfo, error) { return os.Stat(e.host(p)) }

func (e Env) exists(p string) bool {
	_, err := e.stat(p)
	return err == nil
}

func (e Env) isDir(p string) bool {
	info, err := e.stat(p)
	return err == nil && info.IsDir()
}

// globDirs returns the folders in dir whose names start with prefix, as
// GOOS paths, sorted.
func (e Env) globDirs(dir, prefix string) []string {
	entries, err := os.ReadDir(e.host(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, ent := range entries {
		if ent.IsDir() && strings.HasPrefix(ent.Name(), prefix) {
			out = append(out, e.join(dir, ent.Name()))
		}
	}
	slices.Sort(out)
	return out
}

// home returns the home folder; on Windows %USERPROFILE% wins, as the
// clients themselves use it.
func (e Env) home() (string, error) {
	h := e.Home
	if e.windows() {
		if p := e.getenv("USERPROFILE"); e.isAbs(p) {
			h = p
		}
	}
	if !e.isAbs(h) {
		return "", fmt.Errorf("finding the AI client configs: %w", ErrNoHome)
	}
	return h, nil
}

// dirVar returns an environment variable naming a folder, or the default
// below home when it is unset or not absolute.
func (e Env) dirVar(name string, def ...string) (string, error) {
	if p := e.getenv(name); e.isAbs(p) {
		return p, nil
	}
	h, err := e.home()
	if err != nil {
		return "", err
	}
	return e.join(append([]string{h}, def...)...), nil
}

// Client is one AI client whose MCP config this package edits.
type Client struct {
	// ID is what "scispot-mcp setup" takes: "claude-desktop", "cursor",
	// "claude-code", "vscode" or "windsurf".
	ID string
	// Name is the client's product name, for people.
	Name string
	// Key is the top-level member holding the MCP servers: "mcpServers",
	// or "servers" for VS Code.
	Key string
	// Restart tells the person how to make the client load a changed config.
	Restart string
	// ReportsAs is the name the client gives itself in the MCP handshake
	// (clientInfo.name), which the policy's AllowedClients matches; empty
	// when it is not known.
	ReportsAs string
}

// Client IDs.
const (
	ClaudeDesktop = "claude-desktop"
	Cursor        = "cursor"
	ClaudeCode    = "claude-code"
	VSCode        = "vscode"
	Windsurf      = "windsurf"
)

// All returns the supported clients in a stable order.
func All() []Client {
	return []Client{
		{ID: ClaudeDesktop, Name: "Claude Desktop", Key: "mcpServers", ReportsAs: "claude-ai",
			Restart: "Fully quit Claude Desktop (Quit from its menu or tray icon — closing the window is not enough) and open it again to load the change."},
		{ID: Cursor, Name: "Cursor", Key: "mcpServers", ReportsAs: "cursor-vscode",
			Restart: "Quit and reopen Cursor (or toggle the server in Cursor Settings → MCP) to load the change."},
		{ID: ClaudeCode, Name: "Claude Code", Key: "mcpServers", ReportsAs: "claude-code",
			Restart: "Exit running Claude Code sessions and start a new one to load the change."},
		{ID: VSCode, Name: "VS Code", Key: "servers", ReportsAs: "Visual Studio Code",
			Restart: "Reload VS Code (Command Palette → Developer: Reload Window) to load the change."},
		{ID: Windsurf, Name: "Windsurf", Key: "mcpServers",
			Restart: "Quit and reopen Windsurf (or press Refresh in its MCP panel) to load the change."},
	}
}

// Lookup returns the client with the given ID.
func Lookup(id string) (Client, error) {
	for _, c := range All() {
		if c.ID == id {
			return c, nil
		}
	}
	ids := make([]string, 0, 5)
	for _, c := range All() {
		ids = append(ids, c.ID)
	}
	return Client{}, fmt.Errorf("%w %q: choose one of %s", ErrUnknownClient, id, strings.Join(ids, ", "))
}

// ConfigPath returns the config file the client reads, in env.GOOS's path
// syntax. For a Microsoft Store (MSIX) install of Claude Desktop on Windows
// that is the file inside the app's package folder, which the app reads
// instead of %APPDATA%\Claude\claude_desktop_config.json.
func ConfigPath(c Client, env Env) (string, error) {
	paths, err := configPaths(c, env)
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

// configPaths returns the file the client reads first, then other files the
// client may have read before (checked for plaintext tokens only).
func configPaths(c Client, env Env) ([]string, error) {
	h, err := env.home()
	if err != nil {
		return nil, err
	}
	goos := env.goos()
	switch c.ID {
	case ClaudeDesktop:
		const name = "claude_desktop_config.json"
		switch goos {
		case "darwin":
			return []string{env.join(h, "Library", "Application Support", "Claude", name)}, nil
		case "windows":
			appData, err := env.dirVar("APPDATA", "AppData", "Roaming")
			if err != nil {
				return nil, err
			}
			classic := env.join(appData, "Claude", name)
			if pkg := claudeStorePackage(env); pkg != "" {
				return []string{env.join(pkg, "LocalCache", "Roaming", "Claude", name), classic}, nil
			}
			return []string{classic}, nil
		default:
			cfg, err := env.dirVar("XDG_CONFIG_HOME", ".config")
			if err != nil {
				return nil, err
			}
			return []string{env.join(cfg, "Claude", name)}, nil
		}
	case ClaudeCode:
		if d := env.getenv("CLAUDE_CONFIG_DIR"); env.isAbs(d) {
			return []string{env.join(d, ".claude.json")}, nil
		}
		return []string{env.join(h, ".claude.json")}, nil
	case Cursor:
		return []string{env.join(h, ".cursor", "mcp.json")}, nil
	case VSCode:
		switch goos {
		case "darwin":
			return []string{env.join(h, "Library", "Application Support", "Code", "User", "mcp.json")}, nil
		case "windows":
			appData, err := env.dirVar("APPDATA", "AppData", "Roaming")
			if err != nil {
				return nil, err
			}
			return []string{env.join(appData, "Code", "User", "mcp.json")}, nil
		default:
			cfg, err := env.dirVar("XDG_CONFIG_HOME", ".config")
			if err != nil {
				return nil, err
			}
			return []string{env.join(cfg, "Code", "User", "mcp.json")}, nil
		}
	case Windsurf:
		return []string{env.join(h, ".codeium", "windsurf", "mcp_config.json")}, nil
	}
	_, err = Lookup(c.ID)
	return nil, err
}

// claudeStorePackage returns the package folder of a Microsoft Store install
// of Claude Desktop (%LOCALAPPDATA%\Packages\Claude_<publisher id>), or "".
// With several, the one the app has already run from (it has LocalCache)
// wins.
func claudeStorePackage(env Env) string {
	local, err := env.dirVar("LOCALAPPDATA", "AppData", "Local")
	if err != nil {
		return ""
	}
	pkgs := env.globDirs(env.join(local, "Packages"), "Claude_")
	for _, p := range pkgs {
		if env.isDir(env.join(p, "LocalCache", "Roaming", "Claude")) {
			return p
		}
	}
	if len(pkgs) > 0 {
		return pkgs[0]
	}
	return ""
}

// Installed reports whether the client seems to be installed: its config
// folder exists, or its app is where it is normally installed. "setup all"
// only touches installed clients.
func Installed(c Client, env Env) bool {
	paths, err := configPaths(c, env)
	if err != nil {
		return false
	}
	for _, p := range paths {
		// ~/.claude.json sits in the home folder, which always exists.
		if env.exists(p) || (c.ID != ClaudeCode && env.isDir(env.dir(p))) {
			return true
		}
	}
	h, _ := env.home()
	var marks []string
	switch env.goos() {
	case "darwin":
		app := map[string]string{ClaudeDesktop: "Claude.app", Cursor: "Cursor.app", VSCode: "Visual Studio Code.app", Windsurf: "Windsurf.app"}[c.ID]
		if app != "" {
			marks = append(marks, env.join("/Applications", app), env.join(h, "Applications", app))
		}
	case "windows":
		local, err := env.dirVar("LOCALAPPDATA", "AppData", "Local")
		if err != nil {
			break
		}
		switch c.ID {
		case ClaudeDesktop:
			marks = append(marks, env.join(local, "AnthropicClaude"))
			if pkg := claudeStorePackage(env); pkg != "" {
				marks = append(marks, pkg)
			}
		case Cursor:
			marks = append(marks, env.join(local, "Programs", "cursor"))
		case VSCode:
			marks = append(marks, env.join(local, "Programs", "Microsoft VS Code"))
		case Windsurf:
			marks = append(marks, env.join(local, "Programs", "Windsurf"))
		}
	}
	if c.ID == ClaudeCode {
		marks = append(marks, env.join(h, ".claude"))
		if d := env.getenv("CLAUDE_CONFIG_DIR"); env.isAbs(d) {
			marks = append(marks, d)
		}
	}
	for _, m := range marks {
		if env.exists(m) {
			return true
		}
	}
	return false
}
