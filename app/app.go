// Package app holds what the tray app's windows share: the dependencies
// built once at start-up and the names of the windows. Each window lives in
// its own package under app/ (tray, activity, connect, token, diagnostics,
// confirm) as a view model with the logic, tested without a display, and a
// thin Fyne view that renders it.
//
// Only cmd/ imports fyne.io/fyne/v2/app (the GL driver); everything here
// uses Fyne's toolkit packages, so it builds and tests with CGO_ENABLED=0.
package app

import (
	"log/slog"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// Window names, as given to `scispot-mcp --window NAME`; the launch
// protocol (app/instance) owns them so the fyne-free CLI can check them.
const (
	WindowActivity    = instance.WindowActivity
	WindowSetup       = instance.WindowSetup
	WindowToken       = instance.WindowToken
	WindowDiagnostics = instance.WindowDiagnostics
)

// Deps are built once by cmd/ and passed to every window.
type Deps struct {
	App fyne.App
	// Demo is true for `scispot-mcp demo`: the tray runs on the demo
	// workspace and client configs launch `serve --demo`.
	Demo bool
	// StateDir holds audit/ and control.json.
	StateDir string
	// Sources are where access facts come from (policy, kill switch,
	// account, enrollment, keychain), shared with serve.
	Sources  access.Sources
	Keychain keychain.Store
	// Feed follows the audit folder; cmd/ runs it.
	Feed *audit.Feed
	// Executable is this binary's absolute, symlink-resolved path.
	Executable string
	Device     string
	Version    string
	Logger     *slog.Logger
}

// Opener shows a window by name (creating it or bringing it forward).
type Opener func(name string)

// Observable holds a window's view-model state and tells one listener
// about every change; the view registers the listener and re-renders.
// The zero value is ready to use and safe for concurrent use.
type Observable[S any] struct {
	mu       sync.Mutex
	st       S
	onChange func(S)
}

// OnChange registers f, called on the changing goroutine with every new
// state.
func (o *Observable[S]) OnChange(f func(S)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onChange = f
}

// State returns the current state.
func (o *Observable[S]) State() S {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.st
}

// Update changes the state with f and tells the listener, outside the lock.
func (o *Observable[S]) Update(f func(*S)) {
	o.mu.Lock()
	f(&o.st)
	st, cb := o.st, o.onChange
	o.mu.Unlock()
	if cb != nil {
		cb(st)
	}
}
