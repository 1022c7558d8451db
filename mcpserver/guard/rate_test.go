package guard_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/guard"
)

var t0 = time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)

func TestRateLimiterSlidingWindow(t *testing.T) {
	type step struct {
		at    time.Duration // after t0
		ok    bool
		retry time.Duration
	}
	tests := []struct {
		name  string
		limit int
		steps []step
	}{
		{"three per minute", 3, []step{
			{0, true, 0}, {10 * time.Second, true, 0}, {20 * time.Second, true, 0},
			{48 * time.Second, false, 12 * time.Second}, // the call at 0 s leaves at 60 s
			{60 * time.Second, true, 0},
			{61 * time.Second, false, 9 * time.Second},
			{70 * time.Second, true, 0},
		}},
		{"refused calls do not count", 1, []step{
			{0, true, 0}, {30 * time.Second, false, 30 * time.Second}, {59 * time.Second, false, time.Second},
			{60 * time.Second, true, 0},
		}},
		{"no burst after a quiet spell", 2, []step{
			{0, true, 0}, {time.Second, true, 0}, {2 * time.Second, false, 58 * time.Second},
			{10 * time.Minute, true, 0}, {10*time.Minute + time.Millisecond, true, 0},
			{10*time.Minute + 2*time.Millisecond, false, 60*time.Second - 2*time.Millisecond},
		}},
		{"zero refuses everything", 0, []step{{0, false, 0}, {time.Hour, false, 0}}},
		{"negative refuses everything", -5, []step{{0, false, 0}}},
		{"clock stepped back", 1, []step{
			{time.Minute, true, 0}, {0, false, time.Minute}, // capped at one window
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := guard.NewRateLimiter(tt.limit)
			for i, s := range tt.steps {
				ok, retry := l.Allow(t0.Add(s.at))
				if ok != s.ok || retry != s.retry {
					t.Errorf("step %d at +%v: Allow = %v, %v; want %v, %v", i, s.at, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

// TestRateLimiterNeverExceeds checks "at most N calls in any minute" over
// a random stream of calls, including bursts that outgrow the ring.
func TestRateLimiterNeverExceeds(t *testing.T) {
	const limit = 37
	r := rand.New(rand.NewPCG(1, 2))
	l := guard.NewRateLimiter(limit)
	var allowed []time.Time
	now := t0
	for range 20000 {
		now = now.Add(time.Duration(r.ExpFloat64() * float64(800*time.Millisecond)))
		if ok, _ := l.Allow(now); ok {
			allowed = append(allowed, now)
		}
	}
	lo := 0
	for hi, at := range allowed {
		for !allowed[lo].After(at.Add(-guard.RateWindow)) {
			lo++
		}
		if n := hi - lo + 1; n > limit {
			t.Fatalf("%d calls allowed in the minute up to %v; limit %d", n, at, limit)
		}
	}
	if len(allowed) < 1000 {
		t.Fatalf("only %d calls allowed; the limiter is too strict", len(allowed))
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l := guard.NewRateLimiter(100)
	var mu sync.Mutex
	okCount := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow(t0); ok {
					mu.Lock()
					okCount++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if okCount != 100 {
		t.Errorf("%d calls allowed at one instant, want exactly 100", okCount)
	}
}

func TestRateLimiterSetLimit(t *testing.T) {
	l := guard.NewRateLimiter(2)
	l.Allow(t0)
	l.Allow(t0)
	if ok, _ := l.Allow(t0); ok {
		t.Fatal("third call allowed with limit 2")
	}
	l.SetLimit(3)
	if ok, _ := l.Allow(t0); !ok {
		t.Fatal("third call refused after raising the limit to 3")
	}
	l.SetLimit(1)
	if ok, _ := l.Allow(t0.Add(30 * time.Second)); ok {
		t.Fatal("call allowed after lowering the limit below the calls made")
	}
}

func TestRateLimiterTakeSentence(t *testing.T) {
	tests := []struct {
		limit int
		want  string
		retry time.Duration
	}{
		{60, "Your AI sessions on this workstation have made 60 Scispot calls in the last minute, the limit your admin set (MaxCallsPerMinute); retry in 12 s.", 12 * time.Second},
		{1, "Your AI sessions on this workstation have made 1 Scispot call in the last minute, the limit your admin set (MaxCallsPerMinute); retry in 12 s.", 12 * time.Second},
		{0, "Your admin has set MaxCallsPerMinute to 0, so this session may not call Scispot tools; ask your admin if you need access.", 0},
	}
	for _, tt := range tests {
		l := guard.NewRateLimiter(tt.limit)
		// Fill the window 48.5 s before the refused call: 11.5 s to wait,
		// shown rounded up.
		for range tt.limit {
			if err := l.Take(t0); err != nil {
				t.Fatal(err)
			}
		}
		err := l.Take(t0.Add(48*time.Second + 500*time.Millisecond))
		var r *guard.Refusal
		if !errors.As(err, &r) || !errors.Is(err, guard.ErrRateLimited) {
			t.Fatalf("limit %d: Take = %v, want a Refusal matching ErrRateLimited", tt.limit, err)
		}
		if r.Sentence != tt.want || r.Error() != tt.want || r.Rule != guard.RuleRateLimit || r.RetryAfter != tt.retry {
			t.Errorf("limit %d: got %q (rule %s, retry %v)\nwant %q (retry %v)", tt.limit, r.Sentence, r.Rule, r.RetryAfter, tt.want, tt.retry)
		}
	}
}
