package guard

import (
	"fmt"
	"sync"
	"time"
)

// RateWindow is the span MaxCallsPerMinute counts over.
const RateWindow = time.Minute

// RateLimiter enforces MaxCallsPerMinute for one session: at most limit
// calls in any RateWindow. Excess calls are refused, never queued, and a
// refused call does not count (it never reached Scispot).
//
// It keeps the time of every allowed call still inside the window (a
// sliding log, not a token bucket: a bucket would let a burst through after
// a quiet spell and so break "at most N in any minute"). Memory grows with
// the calls actually made in a minute, not with the limit.
//
// A RateLimiter is safe for concurrent use; the zero value is not usable.
type RateLimiter struct {
	mu    sync.Mutex
	limit int
	// ring holds the times of allowed calls in the window, oldest at head.
	ring  []time.Time
	head  int
	count int
}

// NewRateLimiter returns a limiter allowing limit calls per RateWindow.
// A limit of 0 or less refuses every call.
func NewRateLimiter(limit int) *RateLimiter {
	return &RateLimiter{limit: limit}
}

// SetLimit changes the limit (after a policy change); calls already made
// keep counting.
func (l *RateLimiter) SetLimit(limit int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = limit
}

// Allow records a call at now and reports whether it may go ahead. When it
// may not, retryAfter is how long until the oldest call in the window
// leaves it (zero when the limit is 0 or less: waiting does not help).
func (l *RateLimiter) Allow(now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.allowLocked(now)
}

func (l *RateLimiter) allowLocked(now time.Time) (bool, time.Duration) {
	if l.limit <= 0 {
		return false, 0
	}
	// Forget calls that left the window. A call stamped after now (a clock
	// step back) stays until now catches up: it still happened.
	for l.count > 0 && !now.Before(l.ring[l.head].Add(RateWindow)) {
		l.ring[l.head] = time.Time{}
		l.head = (l.head + 1) % len(l.ring)
		l.count--
	}
	if l.count >= l.limit {
		wait := l.ring[l.head].Add(RateWindow).Sub(now)
		return false, min(wait, RateWindow)
	}
	if l.count == len(l.ring) {
		l.grow()
	}
	l.ring[(l.head+l.count)%len(l.ring)] = now
	l.count++
	return true, 0
}

// grow doubles the ring (up to the limit), oldest call first.
func (l *RateLimiter) grow() {
	n := min(max(2*len(l.ring), 16), l.limit)
	ring := make([]time.Time, n)
	for i := range l.count {
		ring[i] = l.ring[(l.head+i)%len(l.ring)]
	}
	l.ring, l.head = ring, 0
}

// Take is Allow with the refusal a person reads: nil when the call may go
// ahead, else a *Refusal matching ErrRateLimited.
func (l *RateLimiter) Take(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok, wait := l.allowLocked(now)
	if ok {
		return nil
	}
	return rateRefusal(l.limit, wait)
}

func rateRefusal(limit int, wait time.Duration) *Refusal {
	if limit <= 0 {
		return &Refusal{Rule: RuleRateLimit, err: ErrRateLimited,
			Sentence: "Your admin has set MaxCallsPerMinute to 0, so this session may not call Scispot tools; ask your admin if you need access."}
	}
	calls := "calls"
	if limit == 1 {
		calls = "call"
	}
	s := ceilSeconds(wait)
	return &Refusal{Rule: RuleRateLimit, err: ErrRateLimited, RetryAfter: time.Duration(s) * time.Second,
		Sentence: fmt.Sprintf("Your AI sessions on this workstation have made %d Scispot %s in the last minute, the limit your admin set (MaxCallsPerMinute); retry in %d s.", limit, calls, s)}
}
