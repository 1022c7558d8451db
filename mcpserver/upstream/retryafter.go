package upstream

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// defaultRetryAfter is what we tell the person when a 429 names no delay.
	defaultRetryAfter = 30 * time.Second
	// maxRetryAfter bounds a delay a server (or a typo) could make absurd.
	maxRetryAfter = 24 * time.Hour
)

// parseRetryAfter reads a Retry-After header value (RFC 9110 §10.2.3):
// either a number of seconds or an HTTP-date, which is measured from now.
// ok is false when the value is absent or unreadable. A date in the past
// gives 0.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // all digits, only too many of them
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// wholeSeconds rounds d up to whole seconds, at least 1, for a sentence
// that says "retry after N s".
func wholeSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
