package localhttp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Connection is what an AI client needs to reach the local server: its URL
// and the local secret (never the Scispot token).
type Connection struct {
	URL    string
	Secret string
	// HeaderFile is where the Authorization header is kept for clients
	// that can only bridge stdio to HTTP with mcp-remote, so that the
	// secret is not written into their config.
	HeaderFile string
}

// Clients that Entry knows, in the order `--print-config` lists them.
var entryClients = []string{"claude-code", "cursor", "vscode", "windsurf", "claude-desktop", "mcp-remote", "inspector"}

// EntryClients lists the names Entry accepts.
func EntryClients() []string { return slices.Clone(entryClients) }

// mcpRemote pins the bridge the printed entries launch.
const mcpRemote = "mcp-remote@0.15.1"

// Entry is a ready configuration for one client: the JSON fragment its
// config file takes (with the header for clients that send one), or the
// command line for the MCP Inspector and mcp-remote. Stdio-only clients
// (Claude Desktop) bridge with mcp-remote, which reads the header from
// HeaderFile: write it with WriteHeaderFile first.
func (c Connection) Entry(client string) (string, error) {
	headers := map[string]string{"Authorization": "Bearer " + c.Secret}
	bridge := []string{"-y", mcpRemote, c.URL, "--allow-http", "--header-file", c.HeaderFile}
	var v any
	switch client {
	case "claude-code":
		v = map[string]any{"mcpServers": map[string]any{"scispot": map[string]any{"type": "http", "url": c.URL, "headers": headers}}}
	case "cursor":
		v = map[string]any{"mcpServers": map[string]any{"scispot": map[string]any{"url": c.URL, "headers": headers}}}
	case "vscode":
		v = map[string]any{"servers": map[string]any{"scispot": map[string]any{"type": "http", "url": c.URL, "headers": headers}}}
	case "windsurf":
		v = map[string]any{"mcpServers": map[string]any{"scispot": map[string]any{"serverUrl": c.URL, "headers": headers}}}
	case "claude-desktop":
		v = map[string]any{"mcpServers": map[string]any{"scispot": map[string]any{"command": "npx", "args": bridge}}}
	case "mcp-remote":
		return shellLine(append([]string{"npx"}, bridge...)), nil
	case "inspector":
		return shellLine([]string{"npx", "@modelcontextprotocol/inspector", "--cli", c.URL, "--transport", "http", "--header", "Authorization: Bearer " + c.Secret}), nil
	default:
		return "", fmt.Errorf("no connection entry for %q; choose one of %s", client, strings.Join(entryClients, ", "))
	}
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}

// WriteHeaderFile writes the Authorization header for mcp-remote's
// --header-file, readable by this account only.
func (c Connection) WriteHeaderFile() error {
	if c.HeaderFile == "" {
		return fmt.Errorf("no header file is named")
	}
	if err := os.MkdirAll(filepath.Dir(c.HeaderFile), 0o700); err != nil {
		return fmt.Errorf("creating the folder of %s: %w", c.HeaderFile, err)
	}
	tmp := c.HeaderFile + ".tmp"
	body := "# The local Scispot MCP server's secret (never the Scispot token); written by scispot-mcp serve --http.\nAuthorization: Bearer " + c.Secret + "\n"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", c.HeaderFile, err)
	}
	if err := os.Rename(tmp, c.HeaderFile); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", c.HeaderFile, err)
	}
	return nil
}

// shellLine quotes each argument that a POSIX shell would split or expand.
func shellLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
