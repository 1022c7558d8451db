package cli

import (
	"path/filepath"
	"testing"
)

// TestCLIBeside: client configs written from the tray launch scispot-mcp,
// never the GUI binary the tray runs as.
func TestCLIBeside(t *testing.T) {
	cases := []struct{ exe, want string }{
		{"/usr/bin/scispot-mcp-tray", "/usr/bin/scispot-mcp"},
		{`C:\Program Files\Scispot MCP\scispot-mcp-tray.exe`, `C:\Program Files\Scispot MCP\scispot-mcp.exe`},
		{"/opt/scispot/scispot-mcp", "/opt/scispot/scispot-mcp"},
		{"/tmp/other-name", "/tmp/other-name"},
	}
	for _, c := range cases {
		exe, want := filepath.FromSlash(c.exe), filepath.FromSlash(c.want)
		if filepath.Separator == '/' && c.exe[0] != '/' {
			continue // a Windows path only splits on Windows
		}
		if got := cliBeside(exe); got != want {
			t.Errorf("cliBeside(%q) = %q, want %q", exe, got, want)
		}
	}
}
