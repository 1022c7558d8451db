package clients

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// checkExecutable returns exe as it goes into a config: absolute in GOOS's
// syntax and, on this machine, resolved through symbolic links and present.
func checkExecutable(env Env, exe string) (string, error) {
	if exe == "" || !env.isAbs(exe) {
		return "", fmt.Errorf("%w %q: client configs need the absolute path of scispot-mcp", ErrExecutable, exe)
	}
	if !env.native() {
		if _, err := env.stat(exe); err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrExecutable, exe, err)
		}
		return exe, nil
	}
	resolved, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrExecutable, exe, err)
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrExecutable, exe, err)
	}
	if info.IsDir() {
		return "", fmt.Errorf("%w %q: it is a folder", ErrExecutable, exe)
	}
	return resolved, nil
}

// windowsClaudeEnv are the variables Claude Desktop on Windows must pass
// on: it starts servers with a stripped environment, and the gateway needs
// them to find its state folder and system paths.
var windowsClaudeEnv = []string{"LOCALAPPDATA", "ProgramData", "ProgramFiles"}

// serverEntry is the gateway entry. Field order is the order in the file.
type serverEntry struct {
	Type    string             `json:"type,omitempty"`
	Command string             `json:"command"`
	Args    []string           `json:"args"`
	Env     *map[string]string `json:"env,omitempty"`
}

// entry returns the client's gateway entry. Clients whose documented shape
// has "env" get one — empty except for Claude Desktop on Windows — so the
// entry looks like the examples people compare it with; VS Code's shape
// has none. Claude Code and VS Code also want "type": "stdio".
func entry(c Client, env Env, exe string, demo bool) json.RawMessage {
	e := serverEntry{Command: exe, Args: args(demo)}
	switch c.ID {
	case ClaudeCode:
		e.Type = "stdio"
		e.Env = &map[string]string{}
	case VSCode:
		e.Type = "stdio"
	case ClaudeDesktop:
		vars := map[string]string{}
		if env.windows() {
			for _, k := range windowsClaudeEnv {
				if v := env.getenv(k); v != "" {
					vars[k] = v
				}
			}
		}
		e.Env = &vars
	default:
		e.Env = &map[string]string{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		panic(fmt.Sprintf("clients: encoding the entry: %v", err)) // strings only
	}
	return bytes.TrimSpace(b.Bytes())
}

func args(demo bool) []string {
	if demo {
		return []string{"serve", "--demo"}
	}
	return []string{"serve"}
}

// entryPath is where the gateway entry lives in the client's config.
func entryPath(c Client) []string { return []string{c.Key, EntryName} }
