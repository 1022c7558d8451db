package validation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// callsBeforeRateCase is how many calls that count against
// MaxCallsPerMinute the OQ cases make before OQ-12 (OQ-04, OQ-07, OQ-08,
// OQ-11's write), with room to spare: the run waits until the account's
// last minute leaves them that many.
const callsBeforeRateCase = 8

// rateProgressEvery is how often a waiting run tells Progress so.
const rateProgressEvery = 10 * time.Second

// countsAgainstRate says whether a record is of a call the service's rate
// limiter counted. A call the policy hides is refused before the limiter
// and a call the limiter refused is not counted; any other call is, which
// may count a few refused for other reasons too many: that only makes the
// run wait a little longer.
func countsAgainstRate(x audit.Record) bool {
	switch x.Event {
	case audit.EventToolCall:
		return true
	case audit.EventToolDenied:
		return x.Rule != gateway.RuleToolHidden && x.Rule != guard.RuleRateLimit
	}
	return false
}

// rateWait is how long, from now, until at most limit-needed of calls
// (the times of the account's calls that counted) are inside the
// limiter's sliding window, so that needed more calls are allowed. A limit
// of 0 or less refuses every call however long one waits: no wait.
func rateWait(now time.Time, limit, needed int, calls []time.Time) time.Duration {
	if limit <= 0 {
		return 0
	}
	var in []time.Time
	for _, t := range calls {
		if now.Before(t.Add(guard.RateWindow)) {
			in = append(in, t)
		}
	}
	keep := max(limit-needed, 0)
	if len(in) <= keep {
		return 0
	}
	slices.SortFunc(in, time.Time.Compare)
	// Once the call that leaves keep after it has left, keep remain.
	return in[len(in)-keep-1].Add(guard.RateWindow).Sub(now)
}

// waitForRate waits, before the call cases, until the account's earlier
// calls leave room for them under MaxCallsPerMinute: the service counts
// every call of the account in a sliding minute across its sessions, so a
// validation run right after another (whose OQ-12 spent the minute) would
// otherwise see OQ-02…OQ-08 refused for the rate limit. It tells progress
// about next, the case it waits before, with Result NotRun.
func (r *run) waitForRate(ctx context.Context, next Case, progress func(Case)) error {
	limit := intOf(r.effective("MaxCallsPerMinute"))
	for {
		now := r.o.Now()
		recs, err := r.o.Service.Records(ctx, localapi.RecordsQuery{Since: now.Add(-guard.RateWindow - time.Second)})
		if err != nil {
			// The trail cannot be read: the cases will say so themselves.
			return nil
		}
		var calls []time.Time
		for _, x := range recs {
			if countsAgainstRate(x) {
				calls = append(calls, x.Time)
			}
		}
		// The limiter stamps a call before its record is written, so a
		// record's time is never earlier than what the limiter counts; a
		// little slack covers the clock's resolution.
		wait := rateWait(now, limit, callsBeforeRateCase, calls)
		if wait <= 0 {
			return nil
		}
		wait += 100 * time.Millisecond
		w := next
		w.Result, w.Actual = NotRun, ""
		w.Title = fmt.Sprintf("waiting %d s for this account's calls of the last minute (%d) to leave room under MaxCallsPerMinute %d", int(wait.Round(time.Second)/time.Second), len(calls), limit)
		progress(w)
		t := time.NewTimer(min(wait, rateProgressEvery))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the rate limit's window before the OQ cases: %w", ctx.Err())
		case <-t.C:
		}
	}
}
