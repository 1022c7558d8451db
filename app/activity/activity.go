package activity

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

// DefaultHistory is how many of the latest audit records the window reads
// at start, before following the feed.
const DefaultHistory = 20_000

// Options tune an Activity; the zero value is ready to use.
type Options struct {
	// MaxRows caps the rows kept (DefaultMaxRows when 0).
	MaxRows int
	// History is how many past records to read at start (DefaultHistory
	// when 0).
	History int
	// Location shows times in this zone (time.Local when nil).
	Location *time.Location
	// Now is the clock for the chart (time.Now when nil).
	Now func() time.Time
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
	return &Activity{deps: d, opts: opts, model: NewModel(opts.MaxRows, opts.Location)}
}

// Model is the window's view model.
func (a *Activity) Model() *Model { return a.model }

// Run reads the recent history, then follows d.Feed until ctx is done or
// the feed stops. The feed must be running (or about to be): Run waits for
// its Ready.
func (a *Activity) Run(ctx context.Context) error {
	feed := a.deps.Feed
	ch, cancel := feed.Subscribe(256)
	defer cancel()
	select {
	case <-feed.Ready():
	case <-ctx.Done():
		return nil
	}
	recs, err := audit.Read(ctx, statedir.AuditDir(a.deps.StateDir), audit.Filter{Limit: a.opts.History})
	if err != nil && !errors.Is(err, audit.ErrUnreadable) {
		err = fmt.Errorf("reading the audit trail: %w", err)
	} else if err != nil {
		err = fmt.Errorf("some audit lines could not be read; run `scispot-mcp audit verify`: %w", err)
	}
	a.model.SetError(err)
	a.model.Add(recs...)
	a.model.SetSessions(feed.Sessions())
	a.refresh()

	batch := make([]audit.Record, 0, 512)
	for {
		select {
		case <-ctx.Done():
			return nil
		case r, ok := <-ch:
			if !ok {
				if ctx.Err() == nil {
					a.model.SetError(errors.New("the live activity feed stopped; reopen the app to follow new calls"))
					a.refresh()
				}
				return nil
			}
			// Take what is already queued too: one refresh per burst.
			batch = append(batch[:0], r)
		drain:
			for len(batch) < cap(batch) {
				select {
				case r, ok := <-ch:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			a.model.Add(batch...)
			a.model.SetSessions(feed.Sessions())
			a.refresh()
		}
	}
}

// refresh redraws the open window, on the UI thread.
func (a *Activity) refresh() {
	fyne.Do(func() {
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

// stopSession asks one session to end through the kill switch file.
func (a *Activity) stopSession(id string) error {
	err := control.Update(statedir.ControlFile(a.deps.StateDir), func(s *control.State) error {
		s.StopSession(id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("stopping session %s: %w", id, err)
	}
	return nil
}

// chainStatus verifies the file of a record's session.
func (a *Activity) chainStatus(ctx context.Context, session string) string {
	dir := statedir.AuditDir(a.deps.StateDir)
	matches, err := filepath.Glob(filepath.Join(dir, "*-"+globEscape(session)+audit.FileExt))
	if err != nil || len(matches) == 0 {
		return "unknown: the session's audit file was not found"
	}
	rep, err := audit.VerifyFile(ctx, matches[0])
	if err != nil {
		return "not checked: " + err.Error()
	}
	return ChainStatus(rep)
}

func globEscape(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '*', '?', '[', '\\':
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}
