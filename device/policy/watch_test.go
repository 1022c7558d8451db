package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/policy"
)

// watchHarness runs a Watcher and hands its snapshots to the test.
type watchHarness struct {
	t     *testing.T
	ctx   context.Context
	snaps chan policy.Snapshot
	last  *policy.Snapshot

	stop     context.CancelFunc
	done     chan struct{} // closed when Run has returned
	runErr   error         // Run's result, once done is closed
	stopOnce sync.Once
}

func startWatcher(t *testing.T, w *policy.Watcher) *watchHarness {
	t.Helper()
	// The deadline only turns a hang into a clear failure; nothing here
	// asserts how fast a change arrives.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	runCtx, stop := context.WithCancel(ctx)
	h := &watchHarness{t: t, ctx: ctx, snaps: make(chan policy.Snapshot, 64), stop: stop, done: make(chan struct{})}
	w.OnChange = func(s policy.Snapshot) { h.snaps <- s }
	if w.Debounce == 0 {
		w.Debounce = 10 * time.Millisecond // keeps the test quick
	}
	go func() {
		defer close(h.done)
		h.runErr = w.Run(runCtx)
	}()
	t.Cleanup(func() {
		h.finish()
		cancel()
	})
	return h
}

// finish stops the watcher and returns what Run returned.
func (h *watchHarness) finish() error {
	h.stopOnce.Do(h.stop)
	<-h.done
	return h.runErr
}

// waitFor returns the first snapshot that satisfies ok. Every snapshot
// delivered must differ from the one before: the watcher reports changes
// only.
func (h *watchHarness) waitFor(what string, ok func(policy.Snapshot) bool) policy.Snapshot {
	h.t.Helper()
	for {
		select {
		case s := <-h.snaps:
			if h.last != nil && s.Equal(*h.last) {
				h.t.Errorf("watcher delivered an unchanged snapshot: %+v", s)
			}
			h.last = &s
			if ok(s) {
				return s
			}
		case <-h.done:
			h.t.Fatalf("watcher stopped while waiting for %s: %v", what, h.runErr)
		case <-h.ctx.Done():
			h.t.Fatalf("no snapshot with %s arrived (last: %+v)", what, h.last)
		}
	}
}

// replaceFile writes content to path the way admins' tools do: a new file
// renamed over the old one.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writePolicy(t, tmp, content, 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherFileStore(t *testing.T) {
	needUnixTrust(t)
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "etc", "scispot-mcp") // does not exist yet
	path := filepath.Join(dir, "policy.json")
	store := policy.WithTrustTop(&policy.FileStore{Path: path, Owner: ownedBy(0)}, root)
	h := startWatcher(t, &policy.Watcher{Stores: []policy.Store{store}})

	// The zero Current makes the first load arrive: it also says the
	// watches are armed.
	first := h.waitFor("the first load", func(policy.Snapshot) bool { return true })
	if first.Err != nil || len(first.Sources) != 0 || !first.Policy.Equal(policy.Default()) {
		t.Fatalf("first snapshot = %+v, want the defaults from no source", first)
	}

	// The folder appears, then the file is renamed into it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, path, `{"AllowDemo": false}`)
	h.waitFor("the new file", func(s policy.Snapshot) bool {
		return s.Err == nil && slices.Equal(s.Sources, []string{path}) && !s.Policy.AllowDemo
	})

	// Rename-replace.
	replaceFile(t, path, `{"AllowDemo": false, "MaxCallsPerMinute": 5}`)
	h.waitFor("the replaced file", func(s policy.Snapshot) bool { return s.Policy.MaxCallsPerMinute == 5 })

	// The same content again is no change (waitFor fails on a duplicate);
	// then an in-place write is seen.
	replaceFile(t, path, `{"AllowDemo": false, "MaxCallsPerMinute": 5}`)
	writePolicy(t, path, `{"MaxCallsPerMinute": 6}`, 0o644)
	h.waitFor("the in-place write", func(s policy.Snapshot) bool {
		return s.Err == nil && s.Policy.MaxCallsPerMinute == 6 && s.Policy.AllowDemo
	})

	// Invalid content fails closed.
	replaceFile(t, path, `{"MaxCallsPerMinute": "six"}`)
	bad := h.waitFor("the invalid policy", func(s policy.Snapshot) bool { return s.Err != nil })
	if !errors.Is(bad.Err, policy.ErrInvalid) || bad.Policy.Enabled || !strings.Contains(bad.Err.Error(), `"MaxCallsPerMinute"`) {
		t.Errorf("invalid snapshot = %+v, want ErrInvalid naming the key and Enabled false", bad)
	}

	// A permission change makes the file untrusted, and so the policy
	// invalid.
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the untrusted file", func(s policy.Snapshot) bool {
		return errors.Is(s.Err, policy.ErrUntrusted) && !s.Policy.Enabled && len(s.Ignored) == 0 &&
			strings.Contains(s.Err.Error(), path+" is writable by other accounts (mode 0666)")
	})

	// Deleted from a folder that is root's: back to the defaults.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the deletion", func(s policy.Snapshot) bool {
		return s.Err == nil && len(s.Sources) == 0 && len(s.Ignored) == 0 && s.Policy.Equal(policy.Default())
	})

	// A folder that others can write: the missing file might have been
	// removed by anyone, so the policy is invalid.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the writable folder", func(s policy.Snapshot) bool {
		return errors.Is(s.Err, policy.ErrUntrusted) && strings.Contains(s.Err.Error(), "the folder "+dir+" above")
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the folder made root's again", func(s policy.Snapshot) bool {
		return s.Err == nil && s.Policy.Equal(policy.Default())
	})

	// The whole folder goes and comes back: the watch is re-armed.
	if err := os.RemoveAll(filepath.Join(root, "etc")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, path, `{"InjectionAction": "block"}`)
	h.waitFor("the file in the re-created folder", func(s policy.Snapshot) bool {
		return s.Policy.InjectionAction == policy.InjectionBlock
	})

	if err := h.finish(); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
}

// TestWatcherCurrent checks that a snapshot the caller already holds is not
// delivered again.
func TestWatcherCurrent(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	writePolicy(t, path, `{"AllowDemo": false}`, 0o644)
	store := policy.WithTrustTop(&policy.FileStore{Path: path, Owner: ownedBy(0)}, dir)
	current := policy.Load(t.Context(), store)

	h := startWatcher(t, &policy.Watcher{Stores: []policy.Store{store}, Current: current})
	replaceFile(t, path, `{"AllowDemo": true}`)
	got := h.waitFor("a snapshot", func(policy.Snapshot) bool { return true })
	if !got.Policy.AllowDemo {
		t.Errorf("first delivered snapshot = %+v, want the change (not the current policy again)", got)
	}
}

// notifyingStore is a store that announces its own changes, like the
// Windows registry.
type notifyingStore struct {
	mu       sync.Mutex
	settings policy.Settings
	poke     chan struct{}
	err      error // returned by NotifyChanges at once, if set
}

func (s *notifyingStore) Name() string { return "fake registry" }

func (s *notifyingStore) Read(context.Context) (policy.Settings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings, nil
}

func (s *notifyingStore) set(v policy.Settings) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settings = v
}

func (s *notifyingStore) NotifyChanges(ctx context.Context, changed func()) error {
	if s.err != nil {
		return s.err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.poke:
			changed()
		}
	}
}

var _ policy.ChangeNotifier = (*notifyingStore)(nil)

func TestWatcherChangeNotifier(t *testing.T) {
	store := &notifyingStore{settings: policy.Settings{}, poke: make(chan struct{})}
	h := startWatcher(t, &policy.Watcher{Stores: []policy.Store{store}})
	h.waitFor("the first load", func(s policy.Snapshot) bool { return slices.Equal(s.Sources, []string{"fake registry"}) })

	store.set(policy.Settings{"AllowLocalHTTP": true})
	select {
	case store.poke <- struct{}{}: // received only once the notifier runs
	case <-h.ctx.Done():
		t.Fatal("the notifier never ran")
	}
	h.waitFor("the notified change", func(s policy.Snapshot) bool { return s.Policy.AllowLocalHTTP })
}

func TestWatcherNotifierFails(t *testing.T) {
	boom := errors.New("cannot open key for notification")
	store := &notifyingStore{err: boom}
	w := &policy.Watcher{Stores: []policy.Store{store}}
	if err := w.Run(t.Context()); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want the notifier's error", err)
	}
}

// TestWatcherNoStores checks that Run with nothing to watch still delivers
// the first load and then waits for ctx.
func TestWatcherNoStores(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var got []policy.Snapshot
	w := &policy.Watcher{OnChange: func(s policy.Snapshot) {
		got = append(got, s)
		cancel()
	}}
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(got) != 1 || !got[0].Policy.Equal(policy.Default()) {
		t.Errorf("snapshots = %+v, want one with the defaults", got)
	}
}
