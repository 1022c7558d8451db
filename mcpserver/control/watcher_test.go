package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// failsafe only stops a broken test from hanging; it is no timing claim.
const failsafe = 30 * time.Second

// startWatcher runs a Watcher until the test ends and returns it with its
// first snapshot, which means watching has begun.
func startWatcher(t testing.TB, path string, opts ...Option) (*Watcher, Snapshot) {
	t.Helper()
	w := NewWatcher(path, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w, next(t, w, func(Snapshot) bool { return true })
}

// next waits for a snapshot that satisfies ok.
func next(t testing.TB, w *Watcher, ok func(Snapshot) bool) Snapshot {
	t.Helper()
	s, err := await(w, ok)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// await is next for goroutines other than the test's own, which must not
// call t.Fatal.
func await(w *Watcher, ok func(Snapshot) bool) (Snapshot, error) {
	timeout := time.After(failsafe)
	for {
		select {
		case s := <-w.Changes():
			if ok(s) {
				return s, nil
			}
		case <-timeout:
			return Snapshot{}, errors.New("no matching kill switch snapshot arrived")
		}
	}
}

func isKilled(s Snapshot) bool    { return s.Err == nil && s.State.Killed }
func isNotKilled(s Snapshot) bool { return s.Err == nil && !s.State.Killed }

var watchModes = []struct {
	name string
	opts []Option
}{
	{"notify", nil},
	{"poll", []Option{WithPolling(5 * time.Millisecond)}},
}

func TestWatcher(t *testing.T) {
	steps := []struct {
		name   string
		change func(t *testing.T, path string)
		want   func(Snapshot) bool
	}{
		{"atomic write kills", func(t *testing.T, path string) {
			must(t, Write(path, State{Killed: true, Reason: "one"}))
		}, isKilled},
		{"update resumes", func(t *testing.T, path string) {
			must(t, Update(path, func(s *State) error { s.Resume("ada", SourceCLI, time.Time{}); return nil }))
		}, isNotKilled},
		{"per-session stop", func(t *testing.T, path string) {
			must(t, Update(path, func(s *State) error { s.StopSession("sess-1"); return nil }))
		}, func(s Snapshot) bool { return s.Stops("sess-1") && !s.Stops("sess-2") }},
		{"in-place write kills", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte(`{"killed":true,"reason":"edited"}`), 0o600))
		}, func(s Snapshot) bool { return isKilled(s) && s.State.Reason == "edited" }},
		{"remove means not killed", func(t *testing.T, path string) {
			must(t, os.Remove(path))
		}, isNotKilled},
		{"rename-replace kills", func(t *testing.T, path string) {
			tmp := path + ".other"
			must(t, os.WriteFile(tmp, []byte(`{"killed":true,"reason":"renamed"}`), 0o600))
			must(t, os.Rename(tmp, path))
		}, func(s Snapshot) bool { return isKilled(s) && s.State.Reason == "renamed" }},
		{"damaged file fails closed", func(t *testing.T, path string) {
			must(t, os.WriteFile(path, []byte(`{"killed": fal`), 0o600))
		}, func(s Snapshot) bool { return errors.Is(s.Err, ErrCorrupt) && s.Killed() && s.Stops("sess-2") }},
		{"repaired file", func(t *testing.T, path string) {
			must(t, Write(path, State{}))
		}, isNotKilled},
		{"kill before folder removal", func(t *testing.T, path string) {
			must(t, Write(path, State{Killed: true}))
		}, isKilled},
		{"folder removed", func(t *testing.T, path string) {
			must(t, os.RemoveAll(filepath.Dir(path)))
		}, isNotKilled},
		{"kill in the recreated folder", func(t *testing.T, path string) {
			must(t, Write(path, State{Killed: true, Reason: "after removal"}))
		}, func(s Snapshot) bool { return isKilled(s) && s.State.Reason == "after removal" }},
	}
	for _, mode := range watchModes {
		t.Run(mode.name, func(t *testing.T) {
			path := controlPath(t)
			w, first := startWatcher(t, path, mode.opts...)
			if !isNotKilled(first) {
				t.Fatalf("first snapshot of a missing file = %+v, want not killed", first)
			}
			if _, err := os.Stat(filepath.Dir(path)); err != nil {
				t.Fatalf("Run did not create the folder: %v", err)
			}
			for _, step := range steps {
				// Windows keeps a watched folder "delete pending" until the
				// watch closes, so it cannot be removed and recreated.
				if runtime.GOOS == "windows" && (step.name == "folder removed" || step.name == "kill in the recreated folder") {
					continue
				}
				step.change(t, path)
				next(t, w, step.want)
				t.Logf("%s: seen", step.name)
			}
		})
	}
}

func TestWatcherFirstSnapshot(t *testing.T) {
	tests := []struct {
		name string
		data string
		want func(Snapshot) bool
	}{
		{"killed", `{"killed":true}`, isKilled},
		{"not killed", `{"killed":false}`, isNotKilled},
		{"damaged is reported at once", `{`, func(s Snapshot) bool { return errors.Is(s.Err, ErrCorrupt) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, first := startWatcher(t, writeRaw(t, tt.data))
			if !tt.want(first) {
				t.Fatalf("first snapshot = %+v", first)
			}
		})
	}
}

func TestWatcherRunTwice(t *testing.T) {
	w, _ := startWatcher(t, controlPath(t))
	if err := w.Run(context.Background()); !errors.Is(err, ErrWatcherRunning) {
		t.Fatalf("second Run = %v, want ErrWatcherRunning", err)
	}
}

// TestWatcherManyWatchers mirrors 20 serve processes on one file.
func TestWatcherManyWatchers(t *testing.T) {
	path := controlPath(t)
	watchers := make([]*Watcher, 20)
	for i := range watchers {
		watchers[i], _ = startWatcher(t, path)
	}
	must(t, Update(path, func(s *State) error { s.Kill("all", "ada", SourceTray, time.Now()); return nil }))
	var wg sync.WaitGroup
	for _, w := range watchers {
		wg.Go(func() {
			if _, err := await(w, isKilled); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestWatcherDamagedGrace drives refresh directly: a damaged read (a file
// being written in place) waits, and valid content that follows is
// delivered at once without the damaged snapshot ever surfacing.
func TestWatcherDamagedGrace(t *testing.T) {
	path := writeRaw(t, `{"killed":false,"reason":"a"}`)
	w := NewWatcher(path)
	w.graceTimer = time.NewTimer(time.Hour)
	w.graceTimer.Stop()
	w.refresh(true, false)
	if s := <-w.changes; !isNotKilled(s) {
		t.Fatalf("first snapshot = %+v", s)
	}

	must(t, os.WriteFile(path, nil, 0o600)) // truncated, not yet written
	w.refresh(false, true)
	if w.graceC == nil {
		t.Fatal("a damaged read did not start the grace period")
	}
	select {
	case s := <-w.changes:
		t.Fatalf("damaged read delivered at once: %+v", s)
	default:
	}

	must(t, os.WriteFile(path, []byte(`{"killed":true}`), 0o600))
	w.refresh(false, true)
	if w.graceC != nil {
		t.Fatal("valid content did not end the grace period")
	}
	if s := <-w.changes; !isKilled(s) {
		t.Fatalf("snapshot after the write = %+v, want killed", s)
	}

	// Still damaged when the grace period ends: reported.
	must(t, os.WriteFile(path, []byte(`{"killed":`), 0o600))
	w.refresh(false, true)
	w.refresh(false, false) // what Run does when graceC fires
	if s := <-w.changes; !errors.Is(s.Err, ErrCorrupt) || !s.Killed() {
		t.Fatalf("snapshot after the grace = %+v, want ErrCorrupt", s)
	}
}

// TestWatcherLatestWins checks that a slow receiver gets the newest state.
func TestWatcherLatestWins(t *testing.T) {
	w := NewWatcher(controlPath(t))
	w.deliver(Snapshot{State: State{Reason: "old"}})
	w.deliver(Snapshot{State: State{Reason: "new"}})
	if s := <-w.Changes(); s.State.Reason != "new" {
		t.Fatalf("got %q, want the newest snapshot", s.State.Reason)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkKillLatency measures a kill from the start of Write (fsync
// included) until a watcher in the same process delivers it. kill-µs is
// the mean, worst-µs the slowest.
func BenchmarkKillLatency(b *testing.B) {
	benchLatency(b, 1)
}

// BenchmarkKillLatency20 waits until all of 20 watchers deliver, as 20
// serve sessions would.
func BenchmarkKillLatency20(b *testing.B) {
	benchLatency(b, 20)
}

func benchLatency(b *testing.B, n int) {
	path := controlPath(b)
	watchers := make([]*Watcher, n)
	for i := range watchers {
		watchers[i], _ = startWatcher(b, path)
	}
	var total, worst time.Duration
	i := 0
	for b.Loop() {
		reason := strconv.Itoa(i)
		arrived := make([]time.Time, n)
		var wg sync.WaitGroup
		for j, w := range watchers {
			wg.Go(func() {
				if _, err := await(w, func(s Snapshot) bool { return s.State.Reason == reason }); err != nil {
					b.Error(err)
				}
				arrived[j] = time.Now()
			})
		}
		start := time.Now()
		if err := Write(path, State{Killed: i%2 == 0, Reason: reason}); err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		var last time.Time
		for _, a := range arrived {
			if a.After(last) {
				last = a
			}
		}
		d := last.Sub(start)
		total += d
		worst = max(worst, d)
		i++
	}
	b.ReportMetric(float64(total.Microseconds())/float64(i), "kill-µs")
	b.ReportMetric(float64(worst.Microseconds()), "worst-µs")
}
