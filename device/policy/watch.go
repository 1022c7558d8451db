package policy

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the Watcher waits after the first sign of a
// change before re-reading, so that a burst of writes (an editor's save, a
// configuration tool's rename) becomes one reload.
const DefaultDebounce = 150 * time.Millisecond

// Watcher re-loads the policy whenever a store's source may have changed
// and reports each snapshot that differs from the one before.
//
// File stores (PathWatcher) are watched through their folders with
// fsnotify: admins and tools replace policy files by rename, which a watch
// on the file itself would lose. A folder that does not exist yet is
// covered by watching its nearest existing ancestor until it appears.
// Stores that announce changes themselves (ChangeNotifier) are asked to.
//
// Set the fields, then call Run once.
type Watcher struct {
	// Stores are re-read in order of precedence, as by Load.
	Stores []Store
	// Current is the snapshot the caller already holds. OnChange sees only
	// snapshots that differ from it and then from each other; the zero
	// Snapshot differs from any loaded one, so leaving it zero delivers the
	// first load (taken once the watches are armed).
	Current Snapshot
	// OnChange receives each new snapshot, on Run's goroutine. It should
	// return promptly: changes wait while it runs.
	OnChange func(Snapshot)
	// Debounce is the delay from a change to the reload; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Logger receives watch problems that Run survives; nil discards them.
	Logger *slog.Logger
}

// Run watches until ctx is done, then returns nil after stopping every
// goroutine it started. It returns an error early if it cannot watch: the
// file watcher cannot start, or a ChangeNotifier fails.
//
// Run's goroutine alone reloads and calls OnChange; fsnotify and the
// notifiers only signal it.
func (w *Watcher) Run(ctx context.Context) error {
	logger := w.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}

	var (
		paths     []string
		notifiers []ChangeNotifier
	)
	for _, st := range w.Stores {
		if pw, ok := st.(PathWatcher); ok {
			for _, p := range pw.WatchPaths() {
				paths = append(paths, filepath.Clean(p))
			}
		}
		if cn, ok := st.(ChangeNotifier); ok {
			notifiers = append(notifiers, cn)
		}
	}

	var (
		fsw    *fsnotify.Watcher
		events chan fsnotify.Event
		errs   chan error
	)
	if len(paths) > 0 {
		var err error
		fsw, err = fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watching managed policy files: %w", err)
		}
		defer fsw.Close()
		events, errs = fsw.Events, fsw.Errors
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	// signals carries "something may have changed" from the notifiers; one
	// pending signal is enough, so senders never block.
	signals := make(chan struct{}, 1)
	signal := func() {
		select {
		case signals <- struct{}{}:
		default:
		}
	}
	// notifyErrs carries a notifier's failure to Run's goroutine.
	notifyErrs := make(chan error, len(notifiers))
	for _, cn := range notifiers {
		wg.Go(func() {
			if err := cn.NotifyChanges(ctx, signal); err != nil && ctx.Err() == nil {
				notifyErrs <- err
			}
		})
	}

	last := w.Current
	reload := func() {
		if fsw != nil {
			armWatches(fsw, paths, logger)
		}
		snap := Load(ctx, w.Stores...)
		if ctx.Err() != nil {
			return // a load cut short by shutdown is not a policy change
		}
		if snap.Equal(last) {
			return
		}
		last = snap
		if w.OnChange != nil {
			w.OnChange(snap)
		}
	}
	reload()

	var timer <-chan time.Time // non-nil while a reload is pending
	schedule := func() {
		if timer == nil {
			timer = time.After(debounce)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("watching managed policy files: the watcher stopped")
			}
			if affects(ev.Name, paths) {
				schedule()
			}
		case err, ok := <-errs:
			if !ok {
				return fmt.Errorf("watching managed policy files: the watcher stopped")
			}
			// Usually an event-queue overflow: changes may have been
			// missed, so re-read.
			logger.Warn("managed policy watch error", "err", err)
			schedule()
		case <-signals:
			schedule()
		case err := <-notifyErrs:
			return fmt.Errorf("watching managed policy: %w", err)
		case <-timer:
			timer = nil
			reload()
		}
	}
}

// armWatches makes fsw watch, for each path, its folder or, while that does
// not exist, the nearest ancestor that does, and drops watches no longer
// needed (an ancestor, once the folder itself exists).
func armWatches(fsw *fsnotify.Watcher, paths []string, logger *slog.Logger) {
	want := map[string]bool{}
	for _, p := range paths {
		if dir := nearestDir(filepath.Dir(p)); dir != "" {
			want[dir] = true
		}
	}
	have := map[string]bool{}
	for _, dir := range fsw.WatchList() {
		have[dir] = true
		if !want[dir] {
			// The folder may be gone already; nothing to undo then.
			_ = fsw.Remove(dir)
		}
	}
	for dir := range want {
		if have[dir] {
			continue
		}
		if err := fsw.Add(dir); err != nil {
			logger.Warn("cannot watch managed policy folder", "dir", dir, "err", err)
		}
	}
}

// nearestDir returns dir, or its nearest ancestor that exists, or "".
func nearestDir(dir string) string {
	for {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// affects reports whether an event on name can change one of paths: the
// file itself, or a folder on the way to it (created, removed, renamed).
func affects(name string, paths []string) bool {
	name = filepath.Clean(name)
	for _, p := range paths {
		if name == p || strings.HasPrefix(p, name+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
