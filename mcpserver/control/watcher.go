package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// FallbackPollInterval is how often a Watcher reads the file when the OS
// cannot notify it of changes (for example when the per-user inotify limit
// is used up). It keeps the worst-case kill latency well under 100 ms.
const FallbackPollInterval = 20 * time.Millisecond

// damagedGrace is how long a Watcher waits before reporting a damaged read.
// Atomic writers never produce one; a person or script writing the file in
// place does, for an instant between truncate and write, and that instant
// must not stop every session. A file still damaged after the grace is
// reported. Valid content is always delivered at once.
const damagedGrace = 20 * time.Millisecond

// ErrWatcherRunning is returned by Run on a Watcher that was already run:
// a Watcher has one owning goroutine, for its whole life.
var ErrWatcherRunning = errors.New("kill switch watcher already running")

// Snapshot is the kill switch as read at one moment.
type Snapshot struct {
	State State
	// Err is set when the file could not be read or is damaged (ErrCorrupt).
	// The snapshot then counts as killed: fail closed.
	Err error
}

// Killed reports whether all sessions must stop: the switch is on or the
// file cannot be trusted.
func (s Snapshot) Killed() bool { return s.Err != nil || s.State.Killed }

// Stops reports whether the session with this id must stop.
func (s Snapshot) Stops(sessionID string) bool { return s.Err != nil || s.State.Stops(sessionID) }

// Option configures a Watcher.
type Option func(*Watcher)

// WithLogger sets where the Watcher reports trouble (falling back to
// polling, notification errors). Nil means discard.
func WithLogger(l *slog.Logger) Option {
	return func(w *Watcher) {
		if l != nil {
			w.log = l
		}
	}
}

// WithPolling makes the Watcher read the file every interval instead of
// using OS notifications, for file systems that send none. Intervals of
// zero or less are ignored.
func WithPolling(interval time.Duration) Option {
	return func(w *Watcher) {
		if interval > 0 {
			w.poll = interval
		}
	}
}

// Watcher follows one control file and delivers a Snapshot whenever its
// content changes.
type Watcher struct {
	path, dir string
	log       *slog.Logger
	poll      time.Duration // > 0: poll instead of notifications
	grace     time.Duration

	// changes holds at most the newest undelivered Snapshot.
	changes chan Snapshot
	started atomic.Bool

	// Owned by the Run goroutine.
	lastKey    string           // identifies the last delivered content
	graceTimer *time.Timer      // runs while a damaged read waits to be confirmed
	graceC     <-chan time.Time // graceTimer.C while waiting, else nil
}

// NewWatcher returns a Watcher for the control file at path. Nothing
// happens until Run.
func NewWatcher(path string, opts ...Option) *Watcher {
	path = filepath.Clean(path)
	w := &Watcher{
		path:    path,
		dir:     filepath.Dir(path),
		log:     slog.New(slog.DiscardHandler),
		grace:   damagedGrace,
		changes: make(chan Snapshot, 1),
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Changes delivers snapshots. The first one is the state once watching
// has begun, so no change after it can be missed. Later ones come only
// when the content changed. Bursts coalesce and a slow receiver gets the
// newest snapshot, not a backlog: a kill that is resumed before it is
// received may never be seen, which is what the person asked for. The
// channel is never closed; Run returning is the end.
func (w *Watcher) Changes() <-chan Snapshot { return w.changes }

// Run watches until ctx is done, then returns nil. It creates the folder
// (0700) if missing so there is something to watch, and watches the folder
// rather than the file because writers replace the file by rename. If the
// OS cannot notify (or the folder is deleted and cannot be watched again)
// Run falls back to polling every FallbackPollInterval. Run may be called
// once.
func (w *Watcher) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return ErrWatcherRunning
	}
	w.graceTimer = time.NewTimer(time.Hour)
	w.graceTimer.Stop()
	defer w.graceTimer.Stop()

	var (
		events <-chan fsnotify.Event
		errs   <-chan error
		tick   <-chan time.Time
	)
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	startPolling := func(interval time.Duration) {
		ticker = time.NewTicker(interval)
		events, errs, tick = nil, nil, ticker.C
	}

	fw, err := w.notify()
	switch {
	case w.poll > 0:
		startPolling(w.poll)
	case err != nil:
		w.log.Warn("kill switch: no change notifications, polling instead", "path", w.path, "err", err)
		startPolling(FallbackPollInterval)
	default:
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
	}

	w.refresh(true, false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				startPolling(FallbackPollInterval)
				continue
			}
			relevant, lost := w.classify(ev)
			// Coalesce what is already queued: one read covers it all,
			// and waiting for more would only add latency.
		drain:
			for range cap(events) {
				select {
				case ev, ok := <-events:
					if !ok {
						break drain
					}
					r, l := w.classify(ev)
					relevant, lost = relevant || r, lost || l
				default:
					break drain
				}
			}
			if lost {
				relevant = true
				if err := w.rewatch(fw); err != nil {
					w.log.Warn("kill switch: cannot watch the state folder again, polling instead", "dir", w.dir, "err", err)
					_ = fw.Close()
					startPolling(FallbackPollInterval)
				}
			}
			if relevant {
				w.refresh(false, true)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// Typically an event queue overflow: something may have been
			// missed, so read again.
			w.log.Warn("kill switch: change notification error", "path", w.path, "err", err)
			w.refresh(false, true)
		case <-tick:
			w.refresh(false, true)
		case <-w.graceC:
			w.graceC = nil
			w.refresh(false, false)
		}
	}
}

// notify starts OS notifications on the folder. The poll option still
// creates the folder so that writers and the watcher agree on it.
func (w *Watcher) notify() (*fsnotify.Watcher, error) {
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the state folder: %w", err)
	}
	if w.poll > 0 {
		return nil, nil
	}
	// A small buffer lets a burst (temp file created, written, renamed)
	// queue up so that one read covers it.
	fw, err := fsnotify.NewBufferedWatcher(32)
	if err != nil {
		return nil, fmt.Errorf("starting change notifications: %w", err)
	}
	if err := fw.Add(w.dir); err != nil {
		_ = fw.Close()
		return nil, fmt.Errorf("watching the state folder: %w", err)
	}
	return fw, nil
}

// classify says whether ev may have changed the control file, and whether
// the folder itself went away (deleted or renamed), which ends the watch.
// Events for the temp and lock files beside it are ignored.
func (w *Watcher) classify(ev fsnotify.Event) (relevant, lost bool) {
	switch filepath.Clean(ev.Name) {
	case w.path:
		return true, false
	case w.dir:
		// kqueue reports changes to the folder's entries on the folder.
		return true, ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	}
	return false, false
}

// rewatch recreates a deleted folder and watches it again.
func (w *Watcher) rewatch(fw *fsnotify.Watcher) error {
	_ = fw.Remove(w.dir) // the OS usually dropped it already
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		return fmt.Errorf("creating the state folder: %w", err)
	}
	return fw.Add(w.dir)
}

// refresh reads the file and delivers a snapshot if the content differs
// from the last one delivered (always, if force). With grace, a damaged
// read is held back for the grace period to see if valid content follows.
func (w *Watcher) refresh(force, grace bool) {
	st, raw, exists, err := readFile(w.path)
	var key string
	switch {
	case !exists:
		key = "missing"
	case errors.Is(err, ErrCorrupt):
		key = "damaged:" + string(raw)
	case err != nil:
		key = "error:" + err.Error()
	default:
		key = "ok:" + string(raw)
	}
	damaged := errors.Is(err, ErrCorrupt)
	if !force && key == w.lastKey {
		w.stopGrace()
		return
	}
	if damaged && grace && w.grace > 0 {
		if w.graceC == nil {
			w.graceTimer.Reset(w.grace)
			w.graceC = w.graceTimer.C
		}
		return
	}
	w.stopGrace()
	w.lastKey = key
	w.deliver(Snapshot{State: st, Err: err})
}

func (w *Watcher) stopGrace() {
	if w.graceC != nil {
		w.graceTimer.Stop()
		w.graceC = nil
	}
}

// deliver replaces any undelivered snapshot with s. Run is the only sender,
// so after the drain there is room.
func (w *Watcher) deliver(s Snapshot) {
	select {
	case <-w.changes:
	default:
	}
	select {
	case w.changes <- s:
	default:
	}
}
