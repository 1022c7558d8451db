// Package app holds what the tray app's windows share: the dependencies
// built once at start-up, the small interface to the workstation service
// they all talk to, and the names of the windows. Each window lives in its
// own package under app/ (tray, activity, connect, token, diagnostics,
// confirm) as a view model with the logic, tested without a display, and a
// thin Fyne view that renders it.
//
// The tray holds no policy of its own: access, the kill switch, sessions,
// the audit trail and write approvals all live in the workstation service
// (scispot-mcpd); the windows ask it and display what it says.
//
//	tray ─┐
//	activity ─┼─ app.Service (a *localapi.Client) ─▶ scispot-mcpd
//	confirm ─┤    Status, Events, Kill, Resume, Records, Answer, SealToken…
//	token, diagnostics, connect ─┘
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
)

// Window names, as given to `scispot-mcp --window NAME`; the launch
// protocol (app/instance) owns them so the fyne-free CLI can check them.
const (
	WindowActivity    = instance.WindowActivity
	WindowSetup       = instance.WindowSetup
	WindowToken       = instance.WindowToken
	WindowDiagnostics = instance.WindowDiagnostics
	WindowToolChanges = instance.WindowToolChanges
)

// TrayClient is how the tray names itself to the service and in the audit
// trail.
const TrayClient = "scispot-mcp-tray"

// Deps are built once by cmd/ and passed to every window.
type Deps struct {
	App fyne.App
	// Demo is true for `scispot-mcp demo`: the tray runs on the demo
	// workspace and client configs launch `serve --demo`.
	Demo bool
	// StateDir is the person's own state folder (client-config records,
	// when the token was set); nothing security-relevant lives there.
	StateDir string
	// Service is the workstation service (scispot-mcpd, or for the demo
	// this account's demo instance). It is never nil: when the service
	// cannot be reached its calls fail, and the windows say so.
	Service Service
	// Keychain holds the sealed token; the tray passes the item to the
	// service and never opens it.
	Keychain keychain.Store
	// Executable is scispot-mcp's absolute, symlink-resolved path, which
	// client configs launch.
	Executable string
	Version    string
	Logger     *slog.Logger
}

// Log is d.Logger, or a logger that discards.
func (d *Deps) Log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
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
