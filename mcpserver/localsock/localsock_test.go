package localsock

import (
	"runtime"
	"testing"
)

func TestDefaultPath(t *testing.T) {
	want := map[string]string{
		"linux":   "/run/scispot-mcp/mcpd.sock",
		"darwin":  "/var/run/scispot-mcp.sock",
		"windows": `\\.\pipe\scispot-mcp`,
	}[runtime.GOOS]
	if want == "" {
		t.Skipf("no contract path for %s", runtime.GOOS)
	}
	if got := DefaultPath(); got != want {
		t.Errorf("DefaultPath() = %q, want %q", got, want)
	}
}
