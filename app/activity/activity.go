package activity

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// DefaultHistory is how many of the latest audit records the window keeps
// from the trail at start, before following the service's events.
const DefaultHistory = 20_000

// Options tune an Activity; the zero value is ready to use.
type Options struct {
	// MaxRows caps the rows kept (DefaultMaxRows when 0).
	MaxRows int
	// History is how many past records to keep at start (DefaultHistory
	// when 0).
	History int
	// Location shows times in this zone (time.Local when nil).
	Location *time.Location
	// Now is the clock for the chart (time.Now when nil).
	Now func() time.Time
	// Do runs a function on the UI goroutine (fyne.Do when nil).
	Do func(func())
}

// Activity owns the window's model for the app's whole life, so calls are
// collected while the window is closed, and opens the window on demand.
type Activity struct {
	deps  *app.Deps
	opts  Options
	model *Model
	// view is the open window, or nil; touched only on the UI thread.
	view *view
	// shown mirrors the open window's row count for other goroutines; -1
	// while no window is open.
	shown atomic.Pointer[atomic.Int64]
	// redraw is set while a refresh waits for the UI thread, so a burst
	// of records costs one.
	redraw atomic.Bool
	live   app.LiveSessions
}

// Shown is the number of rows the open window displayed at its last
// refresh, or the model's total when no window is open. The
// single-instance socket reports it, so tests can wait for the screen.
func (a *Activity) Shown() int {
	if p := a.shown.Load(); p != nil {
		return int(p.Load())
	}
	return a.model.Total()
}

// New returns the Activity of the tray app in d. Run feeds it.
func New(d *app.Deps, opts Options) *Activity {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Do == nil {
		opts.Do = fyne.Do
	}
	return &Activity{deps: d, opts: opts, model: NewModel(opts.MaxRows, opts.Location)}
}

// Model is the window's view model.
func (a *Activity) Model() *Model { return a.model }

// Run follows the service until ctx is done: each time it connects (at
// start and after the service restarted) it reads the account's trail and
// live sessions, then takes every new record and session change from the
// service's events. While the service cannot be reached the window says
// so.
func (a *Activity) Run(ctx context.Context) error {
	return app.Follow(ctx, a.deps.Service, app.Follower{
		Connected: func(ctx context.Context) {
			a.model.SetError(a.history(ctx))
			a.sessions(ctx)
			a.refresh()
		},
		Event: func(ctx context.Context, e localapi.Event) {
			switch e.Kind {
			case localapi.EventRecord:
				if e.Record == nil {
					return
				}
				changed := a.model.Add(*e.Record) > 0
				if a.live.Record(*e.Record) {
					a.sessions(ctx)
					changed = true
				}
				if changed {
					a.refresh()
				}
			case localapi.EventStatus:
				a.sessions(ctx)
				a.refresh()
			}
		},
		Down: func(err error) {
			msg := app.NotRunning(a.deps.Demo) + " New calls appear here once it is back."
			if !app.Unreachable(err) {
				msg = fmt.Sprintf("The live activity cannot be followed: %v", err)
			}
			a.model.SetError(errors.New(msg))
			a.live.Set(nil)
			a.model.SetSessions(nil)
			a.refresh()
		},
	})
}

// history reads the account's trail from the service; the model skips
// what it already has.
func (a *Activity) history(ctx context.Context) error {
	recs, err := a.deps.Service.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		return fmt.Errorf("reading the audit trail: %w", err)
	}
	if len(recs) > a.opts.History {
		recs = recs[len(recs)-a.opts.History:]
	}
	a.model.Add(recs...)
	return nil
}

// sessions re-reads the live sessions.
func (a *Activity) sessions(ctx context.Context) {
	st, err := app.ReadStatus(ctx, a.deps.Service, localapi.StatusRequest{})
	if err == nil {
		a.live.Set(st.Sessions)
	}
	a.model.SetSessions(a.live.List())
}

// refresh redraws the open window, on the UI thread; a burst of calls
// before the UI thread gets to it costs one redraw.
func (a *Activity) refresh() {
	if !a.redraw.CompareAndSwap(false, true) {
		return
	}
	a.opts.Do(func() {
		a.redraw.Store(false)
		if a.view != nil {
			a.view.refresh()
		}
	})
}

// Open shows the window, creating it if needed. Call it on the UI thread.
func (a *Activity) Open() {
	if a.view != nil {
		a.view.win.Show()
		a.view.win.RequestFocus()
		return
	}
	w := a.deps.App.NewWindow("Scispot MCP — Activity")
	a.view = newView(a, w)
	a.shown.Store(&a.view.shown)
	w.SetOnClosed(func() {
		a.view = nil
		a.shown.Store(nil)
	})
	w.Resize(fyne.NewSize(1200, 720))
	w.Show()
}

// Window is the open window, or nil; call it on the UI thread.
func (a *Activity) Window() fyne.Window {
	if a.view == nil {
		return nil
	}
	return a.view.win
}

// stopSession asks the service to end one session.
func (a *Activity) stopSession(ctx context.Context, id string) error {
	err := a.deps.Service.StopSession(ctx, id)
	switch {
	case err == nil:
		return nil
	case app.Unreachable(err):
		return fmt.Errorf("stopping session %s: %s", id, app.NotRunning(a.deps.Demo))
	}
	return fmt.Errorf("stopping session %s: %w", id, err)
}

// chainStatus is the service's verdict on the file of a record's session.
func (a *Activity) chainStatus(ctx context.Context, session string) string {
	res, err := a.deps.Service.Verify(ctx, false)
	if err != nil {
		return "not checked: " + err.Error()
	}
	for _, f := range res.Report.Files {
		if f.Session == session {
			return ChainStatus(f)
		}
	}
	return "unknown: the session's audit file was not found"
}
