package clients

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// envOf returns a Getenv for a fixed set of variables.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// mkdirs creates folders under root, given as paths in the fake OS's syntax.
func mkdirs(t *testing.T, env Env, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(env.host(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigPath(t *testing.T) {
	winVars := map[string]string{
		"APPDATA":      `C:\Users\ann\AppData\Roaming`,
		"LOCALAPPDATA": `C:\Users\ann\AppData\Local`,
		"USERPROFILE":  `C:\Users\ann`,
	}
	tests := []struct {
		name   string
		goos   string
		home   string
		vars   map[string]string
		dirs   []string // folders that exist on the fake machine
		client string
		want   string
	}{
		// Claude Desktop
		{name: "claude desktop macOS", goos: "darwin", home: "/Users/ann", client: ClaudeDesktop,
			want: "/Users/ann/Library/Application Support/Claude/claude_desktop_config.json"},
		{name: "claude desktop Windows classic", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: ClaudeDesktop,
			want: `C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`},
		{name: "claude desktop Windows APPDATA elsewhere", goos: "windows", home: `C:\Users\ann`,
			vars: map[string]string{"APPDATA": `D:\Roaming`}, client: ClaudeDesktop,
			want: `D:\Roaming\Claude\claude_desktop_config.json`},
		{name: "claude desktop Windows no APPDATA", goos: "windows", home: `C:\Users\ann`, client: ClaudeDesktop,
			want: `C:\Users\ann\AppData\Roaming\Claude\claude_desktop_config.json`},
		{name: "claude desktop Windows Store", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: ClaudeDesktop,
			dirs: []string{`C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc`, `C:\Users\ann\AppData\Local\Packages\ClaudeOther`},
			want: `C:\Users\ann\AppData\Local\Packages\Claude_pzs8sxrjxfjjc\LocalCache\Roaming\Claude\claude_desktop_config.json`},
		{name: "claude desktop Windows Store, the package that ran wins", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: ClaudeDesktop,
			dirs: []string{`C:\Users\ann\AppData\Local\Packages\Claude_aaa`, `C:\Users\ann\AppData\Local\Packages\Claude_zzz\LocalCache\Roaming\Claude`},
			want: `C:\Users\ann\AppData\Local\Packages\Claude_zzz\LocalCache\Roaming\Claude\claude_desktop_config.json`},
		{name: "claude desktop Linux", goos: "linux", home: "/home/ann", client: ClaudeDesktop,
			want: "/home/ann/.config/Claude/claude_desktop_config.json"},
		{name: "claude desktop Linux XDG", goos: "linux", home: "/home/ann", vars: map[string]string{"XDG_CONFIG_HOME": "/xdg"}, client: ClaudeDesktop,
			want: "/xdg/Claude/claude_desktop_config.json"},
		{name: "claude desktop Linux relative XDG ignored", goos: "linux", home: "/home/ann", vars: map[string]string{"XDG_CONFIG_HOME": "xdg"}, client: ClaudeDesktop,
			want: "/home/ann/.config/Claude/claude_desktop_config.json"},
		// Claude Code
		{name: "claude code", goos: "linux", home: "/home/ann", client: ClaudeCode, want: "/home/ann/.claude.json"},
		{name: "claude code macOS", goos: "darwin", home: "/Users/ann", client: ClaudeCode, want: "/Users/ann/.claude.json"},
		{name: "claude code CLAUDE_CONFIG_DIR", goos: "darwin", home: "/Users/ann", vars: map[string]string{"CLAUDE_CONFIG_DIR": "/Users/ann/work-claude"},
			client: ClaudeCode, want: "/Users/ann/work-claude/.claude.json"},
		{name: "claude code Windows", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: ClaudeCode, want: `C:\Users\ann\.claude.json`},
		// Cursor
		{name: "cursor", goos: "linux", home: "/home/ann", client: Cursor, want: "/home/ann/.cursor/mcp.json"},
		{name: "cursor Windows USERPROFILE", goos: "windows", home: `C:\Other`, vars: winVars, client: Cursor, want: `C:\Users\ann\.cursor\mcp.json`},
		// VS Code
		{name: "vscode macOS", goos: "darwin", home: "/Users/ann", client: VSCode, want: "/Users/ann/Library/Application Support/Code/User/mcp.json"},
		{name: "vscode Windows", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: VSCode, want: `C:\Users\ann\AppData\Roaming\Code\User\mcp.json`},
		{name: "vscode Linux", goos: "linux", home: "/home/ann", client: VSCode, want: "/home/ann/.config/Code/User/mcp.json"},
		{name: "vscode Linux XDG", goos: "linux", home: "/home/ann", vars: map[string]string{"XDG_CONFIG_HOME": "/cfg"}, client: VSCode, want: "/cfg/Code/User/mcp.json"},
		// Windsurf
		{name: "windsurf", goos: "darwin", home: "/Users/ann", client: Windsurf, want: "/Users/ann/.codeium/windsurf/mcp_config.json"},
		{name: "windsurf Windows", goos: "windows", home: `C:\Users\ann`, vars: winVars, client: Windsurf, want: `C:\Users\ann\.codeium\windsurf\mcp_config.json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{GOOS: tt.goos, Home: tt.home, Getenv: envOf(tt.vars), Root: t.TempDir()}
			mkdirs(t, env, tt.dirs...)
			c, err := Lookup(tt.client)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ConfigPath(c, env)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ConfigPath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigPathNoHome(t *testing.T) {
	for _, env := range []Env{{GOOS: "linux"}, {GOOS: "linux", Home: "relative"}, {GOOS: "windows", Home: "/not/windows"}} {
		for _, c := range All() {
			if _, err := ConfigPath(c, env); !errors.Is(err, ErrNoHome) {
				t.Errorf("%+v %s: err = %v, want ErrNoHome", env, c.ID, err)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	for _, c := range All() {
		got, err := Lookup(c.ID)
		if err != nil || got != c {
			t.Errorf("Lookup(%q) = %v, %v", c.ID, got, err)
		}
	}
	if _, err := Lookup("all"); !errors.Is(err, ErrUnknownClient) {
		t.Errorf("Lookup(all) err = %v", err)
	}
}

func TestInstalled(t *testing.T) {
	tests := []struct {
		name   string
		goos   string
		home   string
		vars   map[string]string
		dirs   []string
		files  []string
		client string
		want   bool
	}{
		{name: "nothing", goos: "linux", home: "/home/ann", client: ClaudeDesktop, want: false},
		{name: "claude desktop config folder", goos: "linux", home: "/home/ann", dirs: []string{"/home/ann/.config/Claude"}, client: ClaudeDesktop, want: true},
		{name: "claude desktop mac app", goos: "darwin", home: "/Users/ann", dirs: []string{"/Applications/Claude.app"}, client: ClaudeDesktop, want: true},
		{name: "claude desktop Store package", goos: "windows", home: `C:\Users\ann`, dirs: []string{`C:\Users\ann\AppData\Local\Packages\Claude_x`}, client: ClaudeDesktop, want: true},
		{name: "claude code needs more than a home", goos: "linux", home: "/home/ann", dirs: []string{"/home/ann"}, client: ClaudeCode, want: false},
		{name: "claude code ~/.claude", goos: "linux", home: "/home/ann", dirs: []string{"/home/ann/.claude"}, client: ClaudeCode, want: true},
		{name: "claude code ~/.claude.json", goos: "linux", home: "/home/ann", files: []string{"/home/ann/.claude.json"}, client: ClaudeCode, want: true},
		{name: "cursor folder", goos: "windows", home: `C:\Users\ann`, dirs: []string{`C:\Users\ann\.cursor`}, client: Cursor, want: true},
		{name: "vscode mac app", goos: "darwin", home: "/Users/ann", dirs: []string{"/Users/ann/Applications/Visual Studio Code.app"}, client: VSCode, want: true},
		{name: "windsurf folder", goos: "linux", home: "/home/ann", dirs: []string{"/home/ann/.codeium/windsurf"}, client: Windsurf, want: true},
		{name: "windsurf other codeium", goos: "linux", home: "/home/ann", dirs: []string{"/home/ann/.codeium"}, client: Windsurf, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := Env{GOOS: tt.goos, Home: tt.home, Getenv: envOf(tt.vars), Root: t.TempDir()}
			mkdirs(t, env, tt.dirs...)
			for _, f := range tt.files {
				mkdirs(t, env, env.dir(f))
				if err := os.WriteFile(env.host(f), []byte("{}"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c, _ := Lookup(tt.client)
			if got := Installed(c, env); got != tt.want {
				t.Errorf("Installed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnvPaths(t *testing.T) {
	win := Env{GOOS: "windows", Root: "/r"}
	if got := win.host(`C:\Users\ann\x.json`); got != filepath.Join("/r", "Users", "ann", "x.json") {
		t.Errorf("host = %q", got)
	}
	if got := win.dir(`C:\x.json`); got != `C:\` {
		t.Errorf("dir = %q", got)
	}
	if !win.isAbs(`\\server\share\x`) || win.isAbs(`x\y`) || win.isAbs("/x") {
		t.Error("isAbs wrong for Windows")
	}
	unix := Env{GOOS: "linux"}
	if got := unix.join("/", "a", "b/"); got != "/a/b/" {
		t.Errorf("join = %q", got)
	}
}
