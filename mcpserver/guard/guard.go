// Package guard holds the per-call policy guards of the gateway: the
// session call rate (MaxCallsPerMinute), the result size (MaxResultBytes),
// the hourly bulk-export budget (MaxBytesPerHour), secrets kept out of
// results, and the handling of instruction-like text in results
// (InjectionAction). Each is self-contained; before a call reaches
// Scispot, RateLimiter.Take and HourlyBudget.Check refuse a call that
// cannot pass anyway, and every result then passes ResultCheck.Check,
// the one place the result guards' order is defined (size, secrets,
// injection, then the budget charged with what reaches the client).
//
// A guard that says no returns a *Refusal: one plain sentence that names
// the rule, the numbers and what to do, for the AI client to show the
// person. Refusals match their sentinel error with errors.Is. Any other
// error from a guard also means: refuse (fail closed).
package guard

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors behind the refusals.
var (
	// ErrRateLimited: the session made MaxCallsPerMinute calls in the last
	// minute.
	ErrRateLimited = errors.New("call rate limit reached")
	// ErrResultTooLarge: one result is larger than MaxResultBytes.
	ErrResultTooLarge = errors.New("result larger than allowed")
	// ErrHourlyBudget: results passed on in the last hour reached, or this
	// result would pass, MaxBytesPerHour.
	ErrHourlyBudget = errors.New("hourly result budget used up")
	// ErrInjectionBlocked: the result held instruction-like text and the
	// policy's InjectionAction is block.
	ErrInjectionBlocked = errors.New("result withheld for instruction-like text")
	// ErrUnknownAction: an InjectionAction other than flag, redact or block.
	ErrUnknownAction = errors.New("unknown injection action")
	// ErrUsageUnavailable: the usage record could not be read or written
	// (permissions, a full disk). The budget cannot be applied, so the call
	// is refused rather than let through unmetered.
	ErrUsageUnavailable = errors.New("usage record unavailable")
	// ErrUsageDamaged: the usage file was unreadable as usage data; it was
	// set aside and the budget counts as used up until an hour after it was
	// last written (see HourlyBudget).
	ErrUsageDamaged = errors.New("usage record damaged")
)

// Rule names of the refusals, for audit records.
const (
	RuleRateLimit    = "rate-limit"
	RuleResultSize   = "result-size"
	RuleHourlyBudget = "hourly-budget"
	// RuleInjectionBlock names a result withheld for instruction-like
	// text (InjectionAction "block").
	RuleInjectionBlock = "injection-block"
)

// Refusal is a guard's "no". Its Error is the sentence for the person.
type Refusal struct {
	// Rule is one of the Rule constants.
	Rule string
	// Sentence is one plain sentence: the rule, the numbers, what to do.
	Sentence string
	// RetryAfter, when positive, is how long until the same call could pass.
	RetryAfter time.Duration
	err        error
}

func (r *Refusal) Error() string { return r.Sentence }

// Unwrap returns the sentinel error (ErrRateLimited, …).
func (r *Refusal) Unwrap() error { return r.err }

// formatBytes writes a byte count the way people read sizes (binary
// units, as in the policy's 2097152 = "2.0 MB").
func formatBytes(n int64) string {
	const unit = 1024
	switch {
	case n < unit:
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	case n < unit*unit:
		return fmt.Sprintf("%.1f KB", float64(n)/unit)
	case n < unit*unit*unit:
		return fmt.Sprintf("%.1f MB", float64(n)/(unit*unit))
	default:
		return fmt.Sprintf("%.1f GB", float64(n)/(unit*unit*unit))
	}
}

// formatPair formats two sizes so that they read differently when they
// differ: 2.0 MB against 2.0 MB would make a refusal nonsense, so such a
// pair is written in exact bytes.
func formatPair(a, b int64) (string, string) {
	fa, fb := formatBytes(a), formatBytes(b)
	if fa == fb && a != b {
		return groupDigits(a) + " bytes", groupDigits(b) + " bytes"
	}
	return fa, fb
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return neg + s
}

// ceilSeconds rounds d up to whole seconds, at least one.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// ceilMinutes rounds d up to whole minutes, at least one.
func ceilMinutes(d time.Duration) int64 {
	m := int64((d + time.Minute - 1) / time.Minute)
	return max(m, 1)
}
