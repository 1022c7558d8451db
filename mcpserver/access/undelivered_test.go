package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
)

func TestUndeliveredRefusal(t *testing.T) {
	tests := []struct {
		name     string
		age      time.Duration
		maxHours int
		want     string // "" = allowed; else a part of the sentence
	}{
		{"off", 1000 * time.Hour, 0, ""},
		{"nothing waits", 0, 24, ""},
		{"younger", 23 * time.Hour, 24, ""},
		{"exactly the limit", 24 * time.Hour, 24, ""},
		{"older", 25 * time.Hour, 24, "for 25 hours (your admin allows 24 hours)"},
		{"days", 100 * time.Hour, 1, "for 4 days"},
		{"one hour", 90 * time.Minute, 1, "for 1 hour "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := access.UndeliveredRefusal(tt.age, tt.maxHours)
			switch {
			case tt.want == "" && r != nil:
				t.Fatalf("refused: %s", r.Sentence)
			case tt.want != "" && r == nil:
				t.Fatal("allowed")
			case r != nil:
				if r.Rule != access.RuleAuditUndelivered || !strings.Contains(r.Sentence, tt.want) || !strings.Contains(r.Sentence, "connect the workstation to the lab network") {
					t.Errorf("refusal %+v, want %q", r, tt.want)
				}
			}
		})
	}
}

// TestGatherUndelivered: Gather asks the forwarder only when the policy
// sets a limit, measures the age with the given clock, and Decide refuses
// a session (not the demo workspace) while the oldest record is too old.
func TestGatherUndelivered(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	asked := 0
	src := access.Sources{
		Policy:      []policy.Store{fixedStore{"AuditMaxUndeliveredHours": int64(2), "RequireEnrollment": false}},
		User:        func() (account.Account, error) { return account.Account{Name: "alice"}, nil },
		Undelivered: func() (time.Time, bool) { asked++; return now.Add(-3 * time.Hour), true },
		Now:         func() time.Time { return now },
	}
	f, _ := access.Gather(context.Background(), src, false)
	if r := access.Decide(f); r == nil || r.Rule != access.RuleAuditUndelivered {
		t.Errorf("Decide = %+v, want the audit-undelivered refusal", r)
	}
	if f, _ := access.Gather(context.Background(), src, true); access.Decide(f) != nil {
		t.Errorf("the demo workspace is refused: %+v", access.Decide(f))
	}
	src.Policy = []policy.Store{fixedStore{"RequireEnrollment": false}}
	before := asked
	f, _ = access.Gather(context.Background(), src, false)
	if asked != before || f.Undelivered != 0 {
		t.Errorf("asked the forwarder with no limit set")
	}
}

type fixedStore policy.Settings

func (s fixedStore) Name() string                                  { return "test" }
func (s fixedStore) Read(context.Context) (policy.Settings, error) { return policy.Settings(s), nil }
