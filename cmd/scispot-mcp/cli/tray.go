package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/activity"
	confirmui "github.com/scispot/mcp-desktop/app/confirm"
	"github.com/scispot/mcp-desktop/app/connect"
	"github.com/scispot/mcp-desktop/app/diagnostics"
	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/app/token"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

// AppID is the tray app's id (FyneApp.toml, notifications, preferences).
const AppID = "io.scispot.mcp"

// windowNames are the values of --window.
var windowNames = []string{app.WindowActivity, app.WindowSetup, app.WindowToken, app.WindowDiagnostics}

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

// runTray starts the tray app, or hands the request to the one running.
// It must run on the main goroutine: the GUI toolkit's loop lives there.
func runTray(ctx context.Context, env Env, name string, args []string, demo bool) error {
	usage := "[--window activity|setup|token|diagnostics]"
	if name != "" {
		usage = name + " " + usage
	}
	fs := newFlags(env, name, usage)
	window := fs.String("window", "", "also open this window at start: "+strings.Join(windowNames, ", "))
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *window != "" && !slices.Contains(windowNames, *window) {
		return usagef("unknown window %q (choose %s)", *window, strings.Join(windowNames, ", "))
	}
	if env.NewApp == nil {
		return errors.New("this build of scispot-mcp has no tray app (it was built without cgo); the other commands work: run `scispot-mcp help`")
	}
	state, err := env.stateDir()
	if err != nil {
		return err
	}
	srv, err := instance.Claim(ctx, state, *window)
	if err != nil {
		return fmt.Errorf("starting the tray: %w", err)
	}
	if srv == nil {
		fmt.Fprintln(env.Stdout, "Scispot MCP is already running; it has been asked to show its window.")
		return nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := env.NewApp()
	a.SetIcon(tray.AppIcon())
	d := &app.Deps{
		App:      a,
		Demo:     demo,
		StateDir: state,
		Sources:  env.sources(state),
		Keychain: env.Keychain,
		Feed:     audit.NewFeed(statedir.AuditDir(state), audit.FeedOptions{Logger: env.Logger}),
		Device:   env.deviceID(),
		Version:  env.Build.Version,
		Logger:   env.Logger,
	}
	if exe, err := env.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		d.Executable = exe
	}
	act := activity.New(d, activity.Options{})
	windows := trayWindows(d, act)
	open := func(name string) {
		if name == "" {
			name = app.WindowActivity
		}
		if f, ok := windows[name]; ok {
			f()
			return
		}
		a.SendNotification(fyne.NewNotification("Scispot MCP", "The "+name+" window is not available in this version."))
	}
	systemTray := tray.Available(os.Getenv, runtime.GOOS)
	quit := guardedQuit(a, env)
	tr := tray.New(tray.Config{
		Deps: d,
		Open: open,
		SetKill: func(ctx context.Context, kill bool) error {
			return switchKill(ctx, env, kill, "", control.SourceTray)
		},
		SystemTray:  systemTray,
		Quit:        quit,
		LocalServer: &localServer{env: env, d: d},
	})

	tr.Init(ctx)

	var wg sync.WaitGroup
	run := func(what string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil {
				env.Logger.Error("tray: "+what+" stopped", "err", err)
			}
		})
	}
	run("audit feed", d.Feed.Run)
	run("activity", act.Run)
	run("tray", tr.Run)
	run("write confirmations", func(ctx context.Context) error { return confirmui.Run(ctx, d) })
	run("client configs", func(ctx context.Context) error {
		return connect.WatchRemoved(ctx, d, func(id, name string) {
			fyne.Do(func() {
				a.SendNotification(fyne.NewNotification("Scispot entry removed from "+name,
					name+" no longer has the Scispot entry (clients sometimes rewrite their config on update). Open Connect AI clients… to reconnect it."))
			})
		})
	})
	run("single-instance endpoint", func(ctx context.Context) error {
		return srv.Serve(ctx, instanceHandler{open: open, rows: act.Shown}, env.Logger)
	})
	// SIGTERM / Ctrl-C end the toolkit's loop like Quit does.
	wg.Go(func() {
		<-ctx.Done()
		fyne.Do(quit)
	})
	a.Lifecycle().SetOnStarted(func() {
		switch {
		case *window != "":
			open(*window)
		case !systemTray:
			// Without a tray there is no other way in: show the activity.
			open(app.WindowActivity)
		}
		if systemTray {
			fmt.Fprintln(env.Stdout, "Scispot MCP is running in the system tray.")
		} else {
			fmt.Fprintln(env.Stdout, "Scispot MCP is running; closing its last window quits it.")
		}
	})
	runGUI(a, env)
	cancel()
	wg.Wait()
	return nil
}

// runGUI runs the toolkit's loop. Fyne 2.7.1 can panic inside its loop
// while quitting (its system tray closes a D-Bus connection it never
// opened when no tray host answered); the app is ending then anyway, and
// it must end cleanly.
func runGUI(a fyne.App, env Env) {
	defer func() {
		if r := recover(); r != nil {
			env.Logger.Warn("the GUI toolkit panicked while quitting", "panic", r)
		}
	}()
	a.Run()
}

// trayWindows maps --window names (and the tray menu's items) to windows.
// Each opens its window or brings it forward; call them on the UI thread.
func trayWindows(d *app.Deps, act *activity.Activity) map[string]func() {
	return map[string]func(){
		app.WindowActivity:    act.Open,
		app.WindowSetup:       func() { connect.Open(d) },
		app.WindowToken:       func() { token.Open(d) },
		app.WindowDiagnostics: func() { diagnostics.Open(d) },
	}
}

// guardedQuit quits the toolkit at most once and survives its panics:
// Fyne 2.7.1 can panic while quitting when no D-Bus session bus exists, and
// quitting must always end the process cleanly.
func guardedQuit(a fyne.App, env Env) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			defer func() {
				if r := recover(); r != nil {
					env.Logger.Warn("the GUI toolkit panicked while quitting", "panic", r)
				}
			}()
			a.Quit()
		})
	}
}

// instanceHandler answers a second launch (or the smoke test).
type instanceHandler struct {
	open func(string)
	rows func() int
}

func (h instanceHandler) Show(name string) { fyne.Do(func() { h.open(name) }) }
func (h instanceHandler) Rows() int        { return h.rows() }
