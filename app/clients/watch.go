package clients

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long a Watcher waits for a burst of file events
// to settle before it checks the clients again.
const DefaultDebounce = 200 * time.Millisecond

// StatusChange is one client's state before and after a change on disk.
type StatusChange struct {
	Client   string
	From, To ClientStatus
}

// Watcher reports changes in the clients' states as they happen, so the
// tray can say "the Scispot entry was removed from Claude Desktop —
// Reconnect?". It watches the folders holding the config files (editors and
// clients replace files by renaming, which a watch on the file itself would
// lose), waits for events to settle, and compares Status before and after.
type Watcher struct {
	Env     Env
	Options StatusOptions
	// Debounce is the settling time; 0 means DefaultDebounce.
	Debounce time.Duration
	// OnChange is called from Run's goroutine: once with every client's
	// status when watching has started (changed is nil), then whenever a
	// client's status differs from the last call. It must not block for
	// long; events are held while it runs.
	OnChange func(ctx context.Context, all []ClientStatus, changed []StatusChange)
}

// Run watches until ctx is done, then returns nil. It returns an error only
// when watching cannot start.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the AI client configs: %w", err)
	}
	defer fw.Close()

	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	watched := map[string]bool{}
	interesting := w.watch(fw, watched)
	cur := Status(ctx, w.Env, w.Options)
	w.notify(ctx, cur, nil)

	var timer *time.Timer
	var settle <-chan time.Time // set while a check is pending
	poke := func() {
		if timer == nil {
			timer = time.NewTimer(debounce)
		} else {
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			timer.Reset(debounce)
		}
		settle = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			name := filepath.Clean(ev.Name)
			if watched[name] && ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 {
				delete(watched, name) // its watch is gone; re-added if it comes back
				poke()
			}
			if interesting[name] {
				poke()
			}
		case _, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			poke() // events may have been lost (queue overflow): check anyway
		case <-settle:
			settle = nil
			// Folders may have appeared (a client was installed) or a link
			// may point elsewhere now.
			interesting = w.watch(fw, watched)
			next := Status(ctx, w.Env, w.Options)
			if ctx.Err() != nil {
				return nil
			}
			var changed []StatusChange
			for i := range next {
				if i >= len(cur) || !sameStatus(next[i], cur[i]) {
					from := ClientStatus{}
					if i < len(cur) {
						from = cur[i]
					}
					changed = append(changed, StatusChange{Client: next[i].Client, From: from, To: next[i]})
				}
			}
			cur = next
			if len(changed) > 0 {
				w.notify(ctx, cur, changed)
			}
		}
	}
}

func (w *Watcher) notify(ctx context.Context, all []ClientStatus, changed []StatusChange) {
	if w.OnChange != nil {
		w.OnChange(ctx, all, changed)
	}
}

// maxClimb bounds how far above a missing config folder the watcher looks
// for an existing folder to watch (~/.codeium/windsurf → ~).
const maxClimb = 4

// watch adds watches on the folders of every config file and of the state
// file (or on their nearest existing ancestor), and returns the paths whose
// events matter: the files themselves, the targets of linked files and the
// missing folders on the way to them.
func (w *Watcher) watch(fw *fsnotify.Watcher, watched map[string]bool) map[string]bool {
	var files []string
	for _, c := range All() {
		paths, err := configPaths(c, w.Env)
		if err != nil {
			continue
		}
		for _, p := range paths {
			files = append(files, w.Env.host(p))
		}
	}
	if w.Options.StateFile != "" {
		files = append(files, w.Options.StateFile)
	}
	interesting := map[string]bool{}
	for _, f := range files {
		f = filepath.Clean(f)
		interesting[f] = true
		if target, err := filepath.EvalSymlinks(f); err == nil && target != f {
			interesting[target] = true
			w.watchDir(fw, watched, interesting, filepath.Dir(target))
		}
		w.watchDir(fw, watched, interesting, filepath.Dir(f))
	}
	return interesting
}

// watchDir watches dir, or its nearest existing ancestor when it does not
// exist yet; the missing folders become interesting so that their creation
// is noticed.
func (w *Watcher) watchDir(fw *fsnotify.Watcher, watched, interesting map[string]bool, dir string) {
	for range maxClimb {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			if !watched[dir] {
				if fw.Add(dir) == nil {
					watched[dir] = true
				}
			}
			return
		}
		interesting[dir] = true
		parent := filepath.Dir(dir)
		if parent == dir {
			return
		}
		dir = parent
	}
}
