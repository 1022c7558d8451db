package validation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func TestRateWait(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	ago := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, now.Add(-time.Duration(s*float64(time.Second))))
		}
		return out
	}
	burst := func(n int, secs float64) []time.Time {
		var out []time.Time
		for range n {
			out = append(out, ago(secs)...)
		}
		return out
	}
	tests := []struct {
		name          string
		limit, needed int
		calls         []time.Time
		want          time.Duration
	}{
		{"no earlier calls", 60, 8, nil, 0},
		{"room left", 60, 8, burst(52, 10), 0},
		{"a full minute spent 20 s ago", 60, 8, burst(61, 20), 40 * time.Second},
		// The oldest leave first: of 10, the four oldest must go.
		{"oldest leave first", 10, 4, ago(50, 40, 30, 20, 10, 5, 5, 5, 5, 5), 40 * time.Second},
		{"calls older than the window do not count", 60, 8, burst(100, 61), 0},
		{"any order", 3, 1, ago(5, 30, 10), 30 * time.Second},
		{"needing more than the limit waits for an empty window", 5, 8, ago(30, 10), 50 * time.Second},
		{"a limit of 0 refuses every call anyway", 0, 8, burst(3, 10), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rateWait(now, tt.limit, tt.needed, tt.calls); got != tt.want {
				t.Fatalf("rateWait = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCountsAgainstRate(t *testing.T) {
	tests := []struct {
		rec  audit.Record
		want bool
	}{
		{audit.Record{Event: audit.EventToolCall}, true},
		{audit.Record{Event: audit.EventToolDenied, Rule: "write-unconfirmed"}, true},
		{audit.Record{Event: audit.EventToolDenied, Rule: "tool-hidden"}, false},
		{audit.Record{Event: audit.EventToolDenied, Rule: "rate-limit"}, false},
		{audit.Record{Event: audit.EventSessionStart}, false},
		{audit.Record{Event: audit.EventSignature}, false},
	}
	for _, tt := range tests {
		if got := countsAgainstRate(tt.rec); got != tt.want {
			t.Errorf("countsAgainstRate(%s %s) = %v", tt.rec.Event, tt.rec.Rule, got)
		}
	}
}

// busyTrail is a service whose account spent its minute's calls
// moments ago.
type busyTrail struct {
	Service
	calls int
}

func (b busyTrail) Records(ctx context.Context, q localapi.RecordsQuery) ([]audit.Record, error) {
	var out []audit.Record
	for range b.calls {
		out = append(out, audit.Record{Event: audit.EventToolCall, Time: time.Now().Add(-time.Second)})
	}
	return out, nil
}

// TestWaitForRate: with the minute spent the run says it waits, before
// which case and why, and stops waiting when the context ends; with room
// left it does not wait.
func TestWaitForRate(t *testing.T) {
	tests := []struct {
		name      string
		calls     int
		wantWait  bool
		wantError bool
	}{
		{"minute spent", 60, true, true},
		{"room left", 10, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{o: Options{Service: busyTrail{calls: tt.calls}, Now: time.Now}}
			r.status.Policy.Effective = map[string]any{"MaxCallsPerMinute": float64(60)}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var heard []Case
			t0 := time.Now()
			err := r.waitForRate(ctx, Case{ID: "OQ-01", Title: "first"}, func(c Case) {
				heard = append(heard, c)
				cancel() // the person interrupts the run
			})
			if took := time.Since(t0); took > 5*time.Second {
				t.Fatalf("waitForRate took %s after the context ended", took)
			}
			if (err != nil) != tt.wantError || tt.wantError && !errors.Is(err, context.Canceled) {
				t.Fatalf("waitForRate = %v", err)
			}
			if (len(heard) > 0) != tt.wantWait {
				t.Fatalf("progress heard %+v", heard)
			}
			if tt.wantWait {
				c := heard[0]
				if c.ID != "OQ-01" || c.Result != NotRun || !strings.Contains(c.Title, "waiting 59 s") || !strings.Contains(c.Title, "MaxCallsPerMinute 60") {
					t.Fatalf("progress while waiting = %+v", c)
				}
			}
		})
	}
}
