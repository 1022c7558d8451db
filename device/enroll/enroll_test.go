package enroll

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingProbe answers with f and err and counts its runs.
func countingProbe(runs *atomic.Int32, f finding, err error) probe {
	return probe{name: "fake", run: func(ctx context.Context) (finding, error) {
		runs.Add(1)
		return f, err
	}}
}

var managedFinding = finding{managed: true, method: MethodLinuxLandscape, detail: "registered with Landscape"}

func testChecker(clock *fakeClock, cacheFor time.Duration, probes ...probe) *Checker {
	o := Options{CacheFor: cacheFor, Now: clock.Now}
	fillDefaults(&o)
	return newChecker(o, probes)
}

func TestCheckCachesResults(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	var runs atomic.Int32
	c := testChecker(clock, 30*time.Second, countingProbe(&runs, managedFinding, nil))
	ctx := context.Background()

	steps := []struct {
		advance  time.Duration
		wantRuns int32
	}{
		{0, 1},
		{10 * time.Second, 1},
		{19 * time.Second, 1},
		{time.Second, 2},  // 30s after the second check's result
		{-time.Minute, 3}, // the clock went backwards: do not trust the entry
	}
	for i, s := range steps {
		clock.Add(s.advance)
		res, err := c.Check(ctx)
		if err != nil || !res.Managed || res.Method != MethodLinuxLandscape {
			t.Fatalf("step %d: Check = %+v, %v", i, res, err)
		}
		if got := runs.Load(); got != s.wantRuns {
			t.Fatalf("step %d: probe ran %d times, want %d", i, got, s.wantRuns)
		}
	}
}

func TestCheckCachesErrors(t *testing.T) {
	clock := &fakeClock{}
	var runs atomic.Int32
	probeErr := errors.New("profiles: command not found")
	c := testChecker(clock, time.Minute, countingProbe(&runs, finding{}, probeErr))
	for i := range 2 {
		res, err := c.Check(context.Background())
		if !errors.Is(err, ErrNotConfirmed) || !errors.Is(err, probeErr) {
			t.Fatalf("call %d: err = %v, want ErrNotConfirmed wrapping the probe's error", i, err)
		}
		if res.Managed || res.Method != "" || !strings.Contains(res.Detail, "command not found") {
			t.Fatalf("call %d: result = %+v", i, res)
		}
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("probe ran %d times, want 1", got)
	}
}

func TestCheckWithoutCache(t *testing.T) {
	var runs atomic.Int32
	c := testChecker(&fakeClock{}, -1, countingProbe(&runs, managedFinding, nil))
	for range 3 {
		if _, err := c.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := runs.Load(); got != 3 {
		t.Fatalf("probe ran %d times, want 3", got)
	}
}

func TestInvalidate(t *testing.T) {
	var runs atomic.Int32
	c := testChecker(&fakeClock{}, time.Hour, countingProbe(&runs, managedFinding, nil))
	c.Check(context.Background())
	c.Invalidate()
	c.Check(context.Background())
	if got := runs.Load(); got != 2 {
		t.Fatalf("probe ran %d times, want 2", got)
	}
}

// blockingProbe blocks until release is closed, then answers managed.
func blockingProbe(runs *atomic.Int32, release <-chan struct{}) probe {
	return probe{name: "slow", run: func(ctx context.Context) (finding, error) {
		runs.Add(1)
		<-release
		return managedFinding, nil
	}}
}

func TestConcurrentCallersShareOneCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		release := make(chan struct{})
		// No cache: only the shared in-flight check can keep this at one run.
		c := testChecker(&fakeClock{}, -1, blockingProbe(&runs, release))

		const callers = 8
		results := make(chan Result, callers)
		for range callers {
			go func() {
				res, err := c.Check(context.Background())
				if err != nil {
					t.Error(err)
				}
				results <- res
			}()
		}
		synctest.Wait() // every caller is waiting on the one check
		if got := runs.Load(); got != 1 {
			t.Fatalf("probe started %d times, want 1", got)
		}
		close(release)
		for range callers {
			if res := <-results; !res.Managed {
				t.Errorf("result = %+v", res)
			}
		}
	})
}

func TestCallerCancelDoesNotSpoilSharedCheck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		release := make(chan struct{})
		c := testChecker(&fakeClock{}, time.Hour, blockingProbe(&runs, release))

		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			res, err := c.Check(ctx)
			if res.Managed {
				t.Error("a cancelled check reported Managed")
			}
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, ErrNotConfirmed) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrNotConfirmed and context.Canceled", err)
		}

		close(release)
		res, err := c.Check(context.Background())
		if err != nil || !res.Managed {
			t.Fatalf("after the cancelled caller: Check = %+v, %v", res, err)
		}
		if got := runs.Load(); got != 1 {
			t.Fatalf("probe ran %d times, want 1 (the first check's result is reused)", got)
		}
	})
}

func TestProbeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := make(chan struct{})
		defer close(stuck)
		// A probe blocked in a call that takes no context, such as a DLL call.
		hung := probe{name: "Windows MDM registration", run: func(ctx context.Context) (finding, error) {
			<-stuck
			return managedFinding, nil
		}}
		var runs atomic.Int32
		o := Options{Timeout: 2 * time.Second, CacheFor: -1}
		fillDefaults(&o)
		c := newChecker(o, []probe{hung, countingProbe(&runs, finding{detail: "not joined to a domain"}, nil)})

		res, err := c.Check(context.Background())
		if !errors.Is(err, ErrNotConfirmed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrNotConfirmed and DeadlineExceeded", err)
		}
		if res.Managed || !strings.Contains(res.Detail, "Windows MDM registration: no answer within 2s") ||
			!strings.Contains(res.Detail, "not joined to a domain") {
			t.Fatalf("result = %+v", res)
		}
		if runs.Load() != 1 {
			t.Fatal("the probe after the hung one did not run")
		}
	})
}

func TestFirstPassingProbeWins(t *testing.T) {
	var first, second, third atomic.Int32
	c := testChecker(&fakeClock{}, -1,
		countingProbe(&first, finding{}, errors.New("broken")),
		countingProbe(&second, managedFinding, nil),
		countingProbe(&third, finding{managed: true, method: MethodLinuxPolicyManagedBy}, nil),
	)
	res, err := c.Check(context.Background())
	if err != nil {
		t.Fatalf("err = %v; an error in one signal must not hide another that passes", err)
	}
	if res != (Result{Managed: true, Method: MethodLinuxLandscape, Detail: "registered with Landscape"}) {
		t.Fatalf("result = %+v", res)
	}
	if third.Load() != 0 {
		t.Fatal("probes after the passing one ran")
	}
}

func TestSeveralErrorsAreAllReported(t *testing.T) {
	e1, e2 := errors.New("first broke"), errors.New("second broke")
	var runs atomic.Int32
	c := testChecker(&fakeClock{}, -1, countingProbe(&runs, finding{}, e1), countingProbe(&runs, finding{}, e2))
	res, err := c.Check(context.Background())
	if !errors.Is(err, ErrNotConfirmed) || !errors.Is(err, e1) || !errors.Is(err, e2) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(res.Detail, "first broke") || !strings.Contains(res.Detail, "second broke") {
		t.Fatalf("detail = %q", res.Detail)
	}
}

func TestNoProbesIsUnsupported(t *testing.T) {
	c := testChecker(&fakeClock{}, -1)
	res, err := c.Check(context.Background())
	if !errors.Is(err, ErrNotConfirmed) || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
	if res.Managed || res.Detail == "" {
		t.Fatalf("result = %+v", res)
	}
}

func TestProbePassingWithoutMethodFailsClosed(t *testing.T) {
	var runs atomic.Int32
	c := testChecker(&fakeClock{}, -1, countingProbe(&runs, finding{managed: true}, nil))
	res, err := c.Check(context.Background())
	if !errors.Is(err, ErrNotConfirmed) || res.Managed {
		t.Fatalf("Check = %+v, %v", res, err)
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Options{})
	if c.timeout != 5*time.Second || c.cacheFor != 30*time.Second || c.now == nil {
		t.Fatalf("defaults: timeout %s, cacheFor %s", c.timeout, c.cacheFor)
	}
}

func TestShown(t *testing.T) {
	long := strings.Repeat("é", maxDetailValueRunes+5)
	for in, want := range map[string]string{
		"Ansible":   `"Ansible"`,
		"a\nb\x1b":  `"a\nb\x1b"`,
		long:        `"` + strings.Repeat("é", maxDetailValueRunes) + `"…`,
		"abcdefghi": `"abcdefghi"`,
	} {
		if got := shown(in); got != want {
			t.Errorf("shown(%q) = %s, want %s", in, got, want)
		}
	}
}
