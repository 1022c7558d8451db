package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// AppID is the tray app's id (FyneApp.toml, notifications, preferences).
const AppID = "io.scispot.mcp"

// TrayBinary is the tray app's executable, installed beside scispot-mcp.
// The GUI toolkit lives only there: the commands AI clients and admins
// run (serve, kill, status…) start in milliseconds without loading it.
const TrayBinary = "scispot-mcp-tray"

// TrayRequest is a command line that starts the tray app: no command, only
// --window, or `demo`.
type TrayRequest struct {
	// Args is the whole command line, to hand to the tray binary as is.
	Args   []string
	Demo   bool
	Window string // "" or one of instance.Windows()
}

// isTrayArgs reports whether a command line without a command starts the
// tray: no arguments, or only --window.
func isTrayArgs(args []string) bool {
	return len(args) == 0 || args[0] == "--window" || strings.HasPrefix(args[0], "--window=") ||
		args[0] == "-window" || strings.HasPrefix(args[0], "-window=")
}

func runTrayCommand(ctx context.Context, env Env, args []string) error {
	return runTray(ctx, env, "", args, false)
}

func runDemo(ctx context.Context, env Env, args []string) error {
	return runTray(ctx, env, "demo", args, true)
}

// runTray checks a tray command line and hands it to env.Tray, which runs
// the GUI (the tray binary) or starts the tray binary (this one). The GUI
// must run on the main goroutine: the toolkit's loop lives there.
func runTray(ctx context.Context, env Env, name string, args []string, demo bool) error {
	usage := "[--window " + strings.Join(instance.Windows(), "|") + "]"
	if name != "" {
		usage = name + " " + usage
	}
	fs := newFlags(env, name, usage)
	window := fs.String("window", "", "also open this window at start: "+strings.Join(instance.Windows(), ", "))
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *window != "" && !slices.Contains(instance.Windows(), *window) {
		return usagef("unknown window %q (choose %s)", *window, strings.Join(instance.Windows(), ", "))
	}
	if env.Tray == nil {
		return errors.New("this build of scispot-mcp has no tray app; the other commands work: run `scispot-mcp help`")
	}
	line := slices.Clone(args)
	if name != "" {
		line = append([]string{name}, line...)
	}
	return env.Tray(ctx, env, TrayRequest{Args: line, Demo: demo, Window: *window})
}

// TrayHost is what the tray app shares with the commands: the per-user
// state folder, this program's path for client configs, and the way to the
// workstation service.
type TrayHost struct {
	env        Env
	StateDir   string
	Executable string // scispot-mcp's absolute, symlink-resolved path
}

// NewTrayHost finds the state folder and the CLI binary client configs
// launch: scispot-mcp beside the tray binary.
func NewTrayHost(env Env) (*TrayHost, error) {
	state, err := env.stateDir()
	if err != nil {
		return nil, err
	}
	h := &TrayHost{env: env, StateDir: state}
	if exe, err := env.cliExecutable(); err == nil {
		h.Executable = exe
	}
	return h, nil
}

// Service connects to the workstation service; for the demo workspace
// where none is installed, to this account's demo instance (started now).
// A refusal comes back as an error whose text is its sentence.
func (h *TrayHost) Service(ctx context.Context, demo bool) (*localapi.Client, error) {
	c, err := h.env.service(ctx, demo)
	var re *refusedError
	if errors.As(err, &re) {
		return nil, errors.New(re.r.Sentence)
	}
	if c != nil {
		tc := *c
		tc.Name = trayClientName
		tc.Approves = true
		c = &tc
	}
	return c, err
}

// StoredToken is the keychain's token item, and why it could not be read,
// as `validate` reads them: the tray's validation runs the same checks.
func (h *TrayHost) StoredToken(ctx context.Context) (token, problem string) {
	return storedToken(ctx, h.env)
}

// trayClientName labels the tray's own actions in the audit trail.
const trayClientName = "scispot-mcp-tray"

// cliExecutable is scispot-mcp's absolute path with symbolic links
// resolved, which client configs launch (GUI clients start servers with a
// bare PATH). Run from the tray binary, it is the scispot-mcp beside it.
func (env Env) cliExecutable() (string, error) {
	if env.Executable == nil {
		return "", errors.New("finding this program's path: not known in this environment")
	}
	exe, err := env.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return "", fmt.Errorf("finding this program's path: %w", err)
	}
	return cliBeside(exe), nil
}

// cliBeside maps the tray binary's path to scispot-mcp's beside it (client
// configs must launch the console program, not the GUI one).
func cliBeside(exe string) string {
	dir, base := filepath.Split(exe)
	ext := filepath.Ext(base)
	if strings.TrimSuffix(base, ext) == TrayBinary {
		return filepath.Join(dir, "scispot-mcp"+ext)
	}
	return exe
}

// ServeHTTP runs the local HTTP relay (serve --http) in the tray process
// until ctx ends; ready gets its URL and the local secret. A policy
// refusal comes back as an error whose text is the refusal's sentence.
func (h *TrayHost) ServeHTTP(ctx context.Context, demo bool, addr string, ready func(url, secret string)) error {
	err := runHTTPRelay(ctx, h.env, demo, addr, func(url, secret string) error { ready(url, secret); return nil })
	var re *refusedError
	if errors.As(err, &re) {
		return errors.New(re.r.Sentence)
	}
	return err
}
