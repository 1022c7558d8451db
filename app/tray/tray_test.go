package tray_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

func facts(edit func(*access.Facts)) access.Facts {
	f := access.Facts{
		Policy:            policy.Snapshot{Policy: policy.Default(), Sources: []string{"/etc/scispot-mcp/policy.json"}},
		EnrollmentChecked: true,
		Enrollment:        enroll.Result{Managed: true},
		TokenPresent:      true,
	}
	if edit != nil {
		edit(&f)
	}
	return f
}

func status(f access.Facts, edit func(*tray.Status)) tray.Status {
	s := tray.Status{Facts: f}
	if r := access.Decide(f); r != nil {
		s.Refusal = r.Sentence
	}
	if edit != nil {
		edit(&s)
	}
	return s
}

func labels(items []tray.Item) []string {
	var out []string
	for _, it := range items {
		l := it.Label
		if it.ID == tray.ItemSeparator {
			l = "—"
		}
		if it.Disabled && it.ID != tray.ItemHeader {
			l += " (disabled)"
		}
		out = append(out, l)
	}
	return out
}

func TestMenu(t *testing.T) {
	yes, no := true, false
	tail := []string{"—", "About Scispot MCP", "Quit"}
	tests := []struct {
		name     string
		st       tray.Status
		wantIcon tray.Icon
		want     []string
	}{
		{
			name:     "ready",
			st:       status(facts(nil), func(s *tray.Status) { s.Sessions = 2 }),
			wantIcon: tray.IconReady,
			want: append([]string{"AI access allowed", "Managed device ✓", "API token ✓", "2 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
		{
			name:     "active call, one session",
			st:       status(facts(nil), func(s *tray.Status) { s.Sessions, s.Active = 1, true }),
			wantIcon: tray.IconActive,
			want: append([]string{"AI access allowed", "Managed device ✓", "API token ✓", "1 live session", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
		{
			name: "killed by the user",
			st: status(facts(func(f *access.Facts) {
				f.Kill = control.State{Killed: true}
			}), func(s *tray.Status) { s.Active = true }),
			wantIcon: tray.IconBlocked,
			want: append([]string{"AI access stopped", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Resume AI access"}, tail...),
		},
		{
			name: "no token, not enrolled, defaults",
			st: status(facts(func(f *access.Facts) {
				f.TokenPresent, f.Enrollment.Managed, f.Policy.Sources = false, false, nil
			}), nil),
			wantIcon: tray.IconBlocked,
			want: append([]string{"AI access stopped", "Managed device ✗", "API token ✗", "0 live sessions", "Policy: built-in defaults",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
		{
			name: "invalid policy",
			st: status(facts(func(f *access.Facts) {
				f.Policy.Err = errors.New("bad key")
			}), nil),
			wantIcon: tray.IconBlocked,
			want: append([]string{"AI access stopped", "Managed device ✓", "API token ✓", "0 live sessions", "Policy invalid",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
		{
			name: "demo, enrollment not required",
			st: status(facts(func(f *access.Facts) {
				f.Demo, f.EnrollmentChecked, f.TokenPresent = true, false, false
				f.Policy.Policy.RequireEnrollment = false
			}), nil),
			wantIcon: tray.IconReady,
			want: append([]string{"AI access allowed", "Demo workspace (sample data)", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
		{
			name: "local server allowed, stopped",
			st: status(facts(func(f *access.Facts) { f.Policy.Policy.AllowLocalHTTP = true }),
				func(s *tray.Status) { s.LocalServer = &no }),
			wantIcon: tray.IconReady,
			want: append([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access", "Start local server"}, tail...),
		},
		{
			name: "local server running",
			st: status(facts(func(f *access.Facts) { f.Policy.Policy.AllowLocalHTTP = true }),
				func(s *tray.Status) { s.LocalServer = &yes }),
			wantIcon: tray.IconReady,
			want: append([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access", "Stop local server"}, tail...),
		},
		{
			name:     "local server exists but policy forbids it",
			st:       status(facts(nil), func(s *tray.Status) { s.LocalServer = &no }),
			wantIcon: tray.IconReady,
			want: append([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json",
				"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—", "Stop all AI access"}, tail...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Icon(); got != tt.wantIcon {
				t.Errorf("Icon = %v, want %v", got, tt.wantIcon)
			}
			if diff := cmp.Diff(tt.want, labels(tt.st.Menu())); diff != "" {
				t.Errorf("Menu (-want +got):\n%s", diff)
			}
			for _, it := range tt.st.Menu() {
				if it.ID == tray.ItemHeader && !it.Disabled {
					t.Errorf("header %q is clickable", it.Label)
				}
			}
		})
	}
}

func TestRecordNote(t *testing.T) {
	tests := []struct {
		name string
		r    audit.Record
		want string
	}{
		{"plain call", audit.Record{Event: audit.EventToolCall, Tool: "list_samples"}, ""},
		{"injection", audit.Record{Event: audit.EventToolCall, Tool: "get_protocol", Flags: []string{"x", audit.FlagInjectionSuspect}}, tray.NotifyInjection},
		{"token rejected", audit.Record{Event: audit.EventToolCall, Outcome: audit.OutcomeError,
			Reason: "Scispot rejected the API token stored on this workstation; set a new one with `scispot-mcp token set`."}, tray.NotifyTokenRejected},
		{"other error", audit.Record{Event: audit.EventToolCall, Outcome: audit.OutcomeError, Reason: "upstream unreachable"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := tray.RecordNote(tt.r)
			if ok != (tt.want != "") || n.Kind != tt.want {
				t.Errorf("RecordNote = %+v, %v; want kind %q", n, ok, tt.want)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	var l tray.Limiter
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		kind string
		at   time.Duration
		want bool
	}{
		{tray.NotifyInjection, 0, true},
		{tray.NotifyInjection, 10 * time.Second, false},
		{tray.NotifyTokenRejected, 10 * time.Second, true},
		{tray.NotifyInjection, 59 * time.Second, false},
		{tray.NotifyInjection, 60 * time.Second, true},
		{tray.NotifyInjection, 61 * time.Second, false},
	}
	for i, s := range steps {
		if got := l.Allow(s.kind, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d: Allow(%s, +%v) = %v, want %v", i, s.kind, s.at, got, s.want)
		}
	}
}

func TestPolicyKilled(t *testing.T) {
	on := facts(nil)
	off := facts(func(f *access.Facts) { f.Policy.Policy.Enabled = false })
	invalid := facts(func(f *access.Facts) { f.Policy.Policy.Enabled, f.Policy.Err = false, errors.New("bad") })
	tests := []struct {
		name     string
		old, new access.Facts
		want     bool
	}{
		{"turned off", on, off, true},
		{"stays off", off, off, false},
		{"turned on", off, on, false},
		{"became invalid", on, invalid, false},
	}
	for _, tt := range tests {
		if got := tray.PolicyKilled(tt.old, tt.new); got != tt.want {
			t.Errorf("%s: PolicyKilled = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAvailable(t *testing.T) {
	env := func(bus string) func(string) string {
		return func(k string) string {
			if k == "DBUS_SESSION_BUS_ADDRESS" {
				return bus
			}
			return ""
		}
	}
	tests := []struct {
		goos, bus string
		want      bool
	}{
		{"linux", "", false},
		{"linux", "unix:path=/run/user/1000/bus", true},
		{"freebsd", "", false},
		{"darwin", "", true},
		{"windows", "", true},
	}
	for _, tt := range tests {
		if got := tray.Available(env(tt.bus), tt.goos); got != tt.want {
			t.Errorf("Available(%s, bus %q) = %v, want %v", tt.goos, tt.bus, got, tt.want)
		}
	}
}
