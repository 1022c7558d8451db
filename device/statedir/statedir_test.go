package statedir

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestXDGDir(t *testing.T) {
	tests := []struct {
		name, xdg, home, want string
		err                   error
	}{
		{name: "default", home: "/home/ada", want: "/home/ada/.local/state/scispot-mcp"},
		{name: "xdg set", xdg: "/data/state", home: "/home/ada", want: "/data/state/scispot-mcp"},
		{name: "xdg trailing slash", xdg: "/data/state/", home: "/home/ada", want: "/data/state/scispot-mcp"},
		{name: "xdg without home", xdg: "/data/state", want: "/data/state/scispot-mcp"},
		{name: "relative xdg ignored", xdg: "state", home: "/home/ada", want: "/home/ada/.local/state/scispot-mcp"},
		{name: "dot xdg ignored", xdg: "./state", home: "/home/ada", want: "/home/ada/.local/state/scispot-mcp"},
		{name: "no home", err: ErrNoHome},
		{name: "relative home", home: "ada", err: ErrNoHome},
		{name: "relative xdg and no home", xdg: "state", err: ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xdgDir(tt.xdg, tt.home)
			check(t, got, err, filepath.FromSlash(tt.want), tt.err)
		})
	}
}

func TestDarwinDir(t *testing.T) {
	tests := []struct {
		name, home, want string
		err              error
	}{
		{name: "home", home: "/Users/ada", want: "/Users/ada/Library/Application Support/Scispot MCP"},
		{name: "home trailing slash", home: "/Users/ada/", want: "/Users/ada/Library/Application Support/Scispot MCP"},
		{name: "no home", err: ErrNoHome},
		{name: "relative home", home: "Users/ada", err: ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := darwinDir(tt.home)
			check(t, got, err, filepath.FromSlash(tt.want), tt.err)
		})
	}
}

func TestWindowsDir(t *testing.T) {
	tests := []struct {
		name, local, home, want string
		err                     error
	}{
		{name: "localappdata", local: `C:\Users\ada\AppData\Local`, home: `C:\Users\ada`, want: `C:\Users\ada\AppData\Local\Scispot\MCP`},
		{name: "localappdata trailing slash", local: `D:\Local\`, want: `D:\Local\Scispot\MCP`},
		{name: "localappdata forward slashes", local: `c:/Local`, want: `c:/Local\Scispot\MCP`},
		{name: "drive root", local: `E:\`, want: `E:\Scispot\MCP`},
		{name: "unc", local: `\\files\ada\Local`, want: `\\files\ada\Local\Scispot\MCP`},
		{name: "no localappdata uses profile", home: `C:\Users\ada`, want: `C:\Users\ada\AppData\Local\Scispot\MCP`},
		{name: "relative localappdata ignored", local: `AppData\Local`, home: `C:\Users\ada`, want: `C:\Users\ada\AppData\Local\Scispot\MCP`},
		{name: "drive-relative localappdata ignored", local: `C:Local`, home: `C:\Users\ada`, want: `C:\Users\ada\AppData\Local\Scispot\MCP`},
		{name: "unix-style path is not absolute", local: `/tmp`, err: ErrNoHome},
		{name: "nothing", err: ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := windowsDir(tt.local, tt.home)
			check(t, got, err, tt.want, tt.err)
		})
	}
}

func check(t *testing.T, got string, err error, want string, wantErr error) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("error = %v, want %v", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got != want {
		t.Fatalf("dir = %q, want %q", got, want)
	}
}

func TestDirNoHome(t *testing.T) {
	_, err := Dir(Env{})
	if !errors.Is(err, ErrNoHome) {
		t.Fatalf("Dir(Env{}) error = %v, want ErrNoHome", err)
	}
}

func TestFromOS(t *testing.T) {
	env := FromOS()
	if env.Getenv == nil {
		t.Fatal("FromOS().Getenv is nil")
	}
	if env.Home == "" {
		t.Skip("this machine reports no home folder")
	}
	dir, err := Dir(env)
	if err != nil {
		t.Fatalf("Dir(FromOS()): %v", err)
	}
	if !filepath.IsAbs(dir) {
		t.Fatalf("Dir(FromOS()) = %q, not absolute", dir)
	}
}

func TestFilesInsideState(t *testing.T) {
	state := filepath.Join("x", "state")
	if got, want := AuditDir(state), filepath.Join(state, "audit"); got != want {
		t.Errorf("AuditDir = %q, want %q", got, want)
	}
	if got, want := ControlFile(state), filepath.Join(state, "control.json"); got != want {
		t.Errorf("ControlFile = %q, want %q", got, want)
	}
}

func TestEnsure(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr bool
	}{
		{name: "missing with missing parents", prepare: func(t *testing.T, dir string) {}},
		{name: "existing 0700", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o700) }},
		{name: "existing 0755 is tightened", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o755) }},
		{name: "existing 0777 is tightened", prepare: func(t *testing.T, dir string) { mkdir(t, dir, 0o777) }},
		{name: "a file in the way", wantErr: true, prepare: func(t *testing.T, dir string) {
			mkdir(t, filepath.Dir(dir), 0o700)
			if err := os.WriteFile(dir, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "b", "scispot-mcp")
			tt.prepare(t, dir)
			err := Ensure(dir)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Ensure succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.IsDir() {
				t.Fatalf("%s is not a folder", dir)
			}
			if runtime.GOOS != "windows" {
				if got := fi.Mode().Perm(); got != 0o700 {
					t.Fatalf("mode = %o, want 700", got)
				}
			}
			// Ensure is idempotent.
			if err := Ensure(dir); err != nil {
				t.Fatalf("second Ensure: %v", err)
			}
		})
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	// Chmod because MkdirAll's mode passes through the umask.
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}
