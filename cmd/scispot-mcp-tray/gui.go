package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/activity"
	confirmui "github.com/scispot/mcp-desktop/app/confirm"
	"github.com/scispot/mcp-desktop/app/connect"
	"github.com/scispot/mcp-desktop/app/diagnostics"
	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/app/token"
	"github.com/scispot/mcp-desktop/app/toolchanges"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/app/validationrun"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
)

// runTray starts the tray app, or hands the request to the one running.
// It runs on the main goroutine: the GUI toolkit's loop lives there.
func runTray(ctx context.Context, env cli.Env, req cli.TrayRequest) error {
	host, err := cli.NewTrayHost(env)
	if err != nil {
		return err
	}
	srv, err := instance.Claim(ctx, host.StateDir, req.Window)
	if err != nil {
		return fmt.Errorf("starting the tray: %w", err)
	}
	if srv == nil {
		fmt.Fprintln(env.Stdout, "Scispot MCP is already running; it has been asked to show its window.")
		return nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := fyneapp.NewWithID(cli.AppID)
	a.SetIcon(tray.AppIcon())
	// The workstation service (for the demo, this account's demo instance,
	// started now). Without it the tray still starts, says the service is
	// not running, and connects once it is.
	dial := func(ctx context.Context) (app.Service, error) {
		c, err := host.Service(ctx, req.Demo)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	var first app.Service
	if c, err := dial(ctx); err != nil {
		env.Logger.Warn("the Scispot MCP service does not answer; the tray shows it as not running and keeps trying", "err", err)
	} else {
		first = c
	}
	d := &app.Deps{
		App:        a,
		Demo:       req.Demo,
		StateDir:   host.StateDir,
		Service:    app.Reconnect(dial, first),
		Keychain:   env.Keychain,
		Executable: host.Executable,
		Version:    env.Build.Version,
		Logger:     env.Logger,
	}
	act := activity.New(d, activity.Options{})
	windows := trayWindows(d, act, validateRun(host, env.Build))
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
	// A desktop without a tray host (vanilla GNOME, a bare X session)
	// never shows the icon: run in the activity window instead of
	// invisibly. The toolkit would register the icon if a host came later,
	// but this launch has already shown its window by then.
	systemTray := tray.Available(os.Getenv, runtime.GOOS)
	noHost := false
	if systemTray {
		shown, err := tray.HostRunning(ctx, os.Getenv)
		if err != nil {
			env.Logger.Warn("cannot tell whether this desktop shows tray icons; running without one", "err", err)
		}
		noHost, systemTray = !shown, shown
	}
	quit := guardedQuit(a, env)
	// Notifications whose click opens their window, where the desktop
	// reports clicks (Linux); otherwise the toolkit's.
	notifier, err := tray.NewDesktopNotifier(ctx, os.Getenv, tray.DesktopNotifierOptions{
		AppName: "Scispot MCP", DesktopEntry: cli.AppID, Do: fyne.Do, Fallback: tray.AppNotifier{App: a}, Logger: env.Logger})
	if err != nil {
		env.Logger.Debug("notifications cannot open windows on this desktop", "err", err)
	}
	tr := tray.New(tray.Config{
		Deps:        d,
		Open:        open,
		SystemTray:  systemTray,
		Quit:        quit,
		LocalServer: &localServer{serve: host.ServeHTTP, d: d},
		Notifier:    notifier,
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
		case req.Window != "":
			open(req.Window)
		case !systemTray:
			// Without a tray there is no other way in: show the activity.
			open(app.WindowActivity)
		}
		switch {
		case systemTray:
			fmt.Fprintln(env.Stdout, "Scispot MCP is running in the system tray.")
		case noHost:
			fmt.Fprintln(env.Stdout, "Scispot MCP is running; this desktop shows no tray icons (on GNOME, the AppIndicator extension adds them), so closing its last window quits it.")
		default:
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
func runGUI(a fyne.App, env cli.Env) {
	defer func() {
		if r := recover(); r != nil {
			env.Logger.Warn("the GUI toolkit panicked while quitting", "panic", r)
		}
	}()
	a.Run()
}

// trayWindows maps --window names (and the tray menu's items) to windows.
// Each opens its window or brings it forward; call them on the UI thread.
// validate is the Diagnostics window's "Run validation…".
func trayWindows(d *app.Deps, act *activity.Activity, validate validationrun.RunFunc) map[string]func() {
	return map[string]func(){
		app.WindowActivity:    act.Open,
		app.WindowSetup:       func() { connect.Open(d) },
		app.WindowToken:       func() { token.Open(d) },
		app.WindowDiagnostics: func() { diagnostics.Open(d, func() { validationrun.Open(d, validate) }) },
		app.WindowToolChanges: func() { toolchanges.Open(d) },
	}
}

// guardedQuit quits the toolkit at most once and survives its panics:
// Fyne 2.7.1 can panic while quitting when no D-Bus session bus exists, and
// quitting must always end the process cleanly.
func guardedQuit(a fyne.App, env cli.Env) func() {
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
