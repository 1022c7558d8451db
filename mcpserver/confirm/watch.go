package confirm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher delivers the requests that appear in a confirm folder, to the
// tray. It owns one goroutine (Run's caller); its callbacks run there, in
// order, and must not block for long.
type Watcher struct {
	Dir string
	// OnRequest is called once per pending request, including those
	// already in the folder when Run starts.
	OnRequest func(Request)
	// OnGone is called when a delivered request's file disappears: it was
	// answered, or its asker gave up.
	OnGone func(id string)
	// MaxAge skips requests older than this (their asker has given up);
	// 0 means Timeout.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// ready, if set, is closed once the folder is watched and the
	// requests already there are delivered (for tests).
	ready chan struct{}
}

// Watch runs a Watcher that calls fn for each pending request in dir.
func Watch(ctx context.Context, dir string, fn func(Request)) error {
	return (&Watcher{Dir: dir, OnRequest: fn}).Run(ctx)
}

// Run watches until ctx ends, then returns nil. It returns an error only
// when watching cannot start.
func (w *Watcher) Run(ctx context.Context) error {
	if err := ensureDir(w.Dir); err != nil {
		return err
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching for confirmation requests: %w", err)
	}
	defer fw.Close()
	if err := fw.Add(w.Dir); err != nil {
		return fmt.Errorf("watching for confirmation requests: %w", err)
	}
	delivered := map[string]bool{}
	w.rescan(delivered)
	if w.ready != nil {
		close(w.ready)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			id, isReq := idOf(filepath.Base(ev.Name))
			if id == "" || !isReq {
				continue
			}
			if _, err := os.Stat(ev.Name); err != nil {
				w.gone(delivered, id)
				continue
			}
			w.consider(delivered, id)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.log().Warn("confirmation folder watch lost events; rescanning", "err", err)
			w.rescan(delivered)
		}
	}
}

func (w *Watcher) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return w.Logger
}

func (w *Watcher) gone(delivered map[string]bool, id string) {
	if !delivered[id] {
		return
	}
	delete(delivered, id)
	if w.OnGone != nil {
		w.OnGone(id)
	}
}

// rescan delivers what is in the folder and reports what has left it.
func (w *Watcher) rescan(delivered map[string]bool) {
	entries, err := os.ReadDir(w.Dir)
	if err != nil {
		w.log().Warn("reading the confirmation folder", "err", err)
		return
	}
	present := map[string]bool{}
	for _, e := range entries {
		if id, isReq := idOf(e.Name()); id != "" && isReq {
			present[id] = true
			w.consider(delivered, id)
		}
	}
	var left []string
	for id := range delivered {
		if !present[id] {
			left = append(left, id)
		}
	}
	slices.Sort(left)
	for _, id := range left {
		w.gone(delivered, id)
	}
}

func (w *Watcher) consider(delivered map[string]bool, id string) {
	if delivered[id] {
		return
	}
	b, err := readFile(requestPath(w.Dir, id))
	if err != nil {
		return // gone already
	}
	req, err := ParseRequest(b)
	if err == nil && req.ID != id {
		err = fmt.Errorf("%w: file %s holds request %q", ErrInvalid, id, req.ID)
	}
	if err != nil {
		w.log().Warn("skipping an unusable confirmation request", "id", id, "err", err)
		return
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	maxAge := w.MaxAge
	if maxAge <= 0 {
		maxAge = Timeout
	}
	if now().Sub(req.Time) > maxAge {
		return // its asker has given up
	}
	if _, err := os.Stat(answerPath(w.Dir, id)); err == nil {
		return // already answered
	}
	delivered[id] = true
	if w.OnRequest != nil {
		w.OnRequest(req)
	}
}
