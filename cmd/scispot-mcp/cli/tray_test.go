package cli

import (
	"os"
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

// TestCLIExecutable: what client configs launch and where the tray binary
// is looked for — resolved through symbolic links, and scispot-mcp even
// when the tray binary runs the command (`scispot-mcp-tray setup`).
func TestCLIExecutable(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scispot-mcp", "scispot-mcp-tray"} {
		if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link")
	symlinks := os.Symlink(filepath.Join(bin, "scispot-mcp"), link) == nil
	cli := filepath.Join(bin, "scispot-mcp")
	if resolved, err := filepath.EvalSymlinks(cli); err == nil {
		cli = resolved // a temp folder behind a link (macOS /var)
	}
	cases := []struct {
		name, exe, want string
		fails           bool
	}{
		{"the CLI", filepath.Join(bin, "scispot-mcp"), cli, false},
		{"the tray binary", filepath.Join(bin, "scispot-mcp-tray"), cli, false},
		{"through a link", link, cli, false},
		{"gone", filepath.Join(dir, "gone"), "", true},
	}
	for _, c := range cases {
		if c.exe == link && !symlinks {
			continue
		}
		env := Env{Executable: func() (string, error) { return c.exe, nil }}
		got, err := env.cliExecutable()
		if got != c.want || (err != nil) != c.fails {
			t.Errorf("%s: cliExecutable() = %q, %v; want %q (fails %v)", c.name, got, err, c.want, c.fails)
		}
	}
	if _, err := (Env{}).cliExecutable(); err == nil {
		t.Error("cliExecutable without Env.Executable: no error")
	}
}
