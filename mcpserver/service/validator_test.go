package service

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/scispot/mcp-desktop/device/peercred"
)

// TestIsValidator: only the installed programs, as the files themselves
// (not another file at their path), and the CLI only as `validate`, are
// exempt from the launcher checks on the demo.
func TestIsValidator(t *testing.T) {
	dir := t.TempDir()
	cli, tray, other := filepath.Join(dir, "scispot-mcp"), filepath.Join(dir, "scispot-mcp-tray"), filepath.Join(dir, "other")
	for _, p := range []string{cli, tray, other} {
		if err := os.WriteFile(p, []byte(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stat := func(p string) fs.FileInfo {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	tests := []struct {
		name    string
		exe     string      // the path the kernel names
		running fs.FileInfo // the file the process runs
		args    []string
		want    bool
	}{
		{"validate", cli, stat(cli), []string{"scispot-mcp", "validate", "--json"}, true},
		{"the tray", tray, stat(tray), []string{"scispot-mcp-tray"}, true},
		{"serve, the relay AI clients start", cli, stat(cli), []string{"scispot-mcp", "serve", "--demo"}, false},
		{"the CLI with no command", cli, stat(cli), []string{"scispot-mcp"}, false},
		{"another file shown at the CLI's path", cli, stat(other), []string{"scispot-mcp", "validate"}, false},
		{"another file shown at the tray's path", tray, stat(other), nil, false},
		{"another program", other, stat(other), []string{"other", "validate"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Service{cfg: Config{
				Validators:     Validators{CLI: cli, Tray: tray},
				ProcessExe:     func(int) (string, error) { return tt.exe, nil },
				ProcessExeFile: func(int) (fs.FileInfo, error) { return tt.running, nil },
				ProcessArgs:    func(int) ([]string, error) { return tt.args, nil },
			}}
			if got := s.isValidator(&caller{cred: peercred.Cred{PID: 42}}); got != tt.want {
				t.Fatalf("isValidator = %v, want %v", got, tt.want)
			}
		})
	}
	// Without the means to tell, nobody is.
	s := &Service{cfg: Config{Validators: Validators{CLI: cli, Tray: tray},
		ProcessExe:     func(int) (string, error) { return "", errors.New("gone") },
		ProcessExeFile: func(int) (fs.FileInfo, error) { return stat(cli), nil }}}
	if s.isValidator(&caller{cred: peercred.Cred{PID: 42}}) {
		t.Fatal("a process whose executable cannot be read passed as validate")
	}
}
