package tray_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// serviceStatus is what a system service says on a managed workstation
// with a token; edit changes it.
func serviceStatus(edit func(*localapi.Status)) localapi.Status {
	var s localapi.Status
	s.Service = localapi.Service{Mode: localapi.ModeSystem, Version: "1.0", Socket: "/run/scispot-mcp/mcpd.sock"}
	s.Access.Allowed, s.DemoAccess.Allowed = true, true
	s.Policy.Valid = true
	s.Policy.Sources = []string{"/etc/scispot-mcp/policy.json"}
	s.Policy.Effective = map[string]any{"Enabled": true, "RequireEnrollment": true, "AllowLocalHTTP": false}
	s.Enrollment.Checked, s.Enrollment.Managed = true, true
	s.Token.Present, s.Token.Sealed, s.Token.Fingerprint = true, true, "0123456789ab"
	if edit != nil {
		edit(&s)
	}
	return s
}

func refused(s *localapi.Status, reason string) {
	s.Access.Allowed, s.Access.Reason = false, reason
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
	twoSessions := func(s *localapi.Status) { s.Sessions = make([]localapi.Session, 2) }
	tail := []string{"—", "About Scispot MCP", "Quit"}
	windows := []string{"—", "Activity…", "Connect AI clients…", "Token…", "Diagnostics…", "—"}
	tests := []struct {
		name     string
		st       tray.Status
		wantIcon tray.Icon
		want     []string
	}{
		{
			name:     "ready",
			st:       tray.Status{Service: serviceStatus(twoSessions)},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "2 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access"}, tail),
		},
		{
			name: "active call, one session",
			st: tray.Status{Active: true, Service: serviceStatus(func(s *localapi.Status) {
				s.Sessions = []localapi.Session{{ID: "s1"}}
			})},
			wantIcon: tray.IconActive,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "1 live session", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access"}, tail),
		},
		{
			name: "killed by the person",
			st: tray.Status{Active: true, Service: serviceStatus(func(s *localapi.Status) {
				s.Killed = true
				refused(s, "AI access was stopped with the kill switch.")
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Resume AI access"}, tail),
		},
		{
			name: "no token, not enrolled, defaults",
			st: tray.Status{Service: serviceStatus(func(s *localapi.Status) {
				s.Token.Present, s.Enrollment.Managed, s.Policy.Sources = false, false, nil
				refused(s, "No Scispot API token is stored.")
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Managed device ✗", "API token ✗", "0 live sessions", "Policy: built-in defaults"},
				windows, []string{"Stop all AI access"}, tail),
		},
		{
			name: "keychain unreadable",
			st: tray.Status{Service: serviceStatus(func(s *localapi.Status) {
				s.Token.Present, s.Token.Error = false, "the keychain is locked"
				refused(s, "The token could not be read from the keychain.")
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Managed device ✓", "API token ✗", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access"}, tail),
		},
		{
			name: "invalid policy",
			st: tray.Status{Service: serviceStatus(func(s *localapi.Status) {
				s.Policy.Valid, s.Policy.Error = false, "bad key"
				refused(s, "The admin policy is invalid.")
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Managed device ✓", "API token ✓", "0 live sessions", "Policy invalid"},
				windows, []string{"Stop all AI access"}, tail),
		},
		{
			name: "demo, enrollment not required, real access refused",
			st: tray.Status{Demo: true, Service: serviceStatus(func(s *localapi.Status) {
				s.Enrollment.Checked, s.Token.Present = false, false
				s.Policy.Effective["RequireEnrollment"] = false
				refused(s, "No Scispot API token is stored.")
			})},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Demo workspace (sample data)", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				[]string{"—", "Activity…", "Connect AI clients…", "Diagnostics…", "—"}, []string{"Stop all AI access"}, tail),
		},
		{
			name: "demo refused",
			st: tray.Status{Demo: true, Service: serviceStatus(func(s *localapi.Status) {
				s.DemoAccess.Allowed, s.DemoAccess.Reason = false, "The admin policy does not allow the demo workspace."
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Demo workspace (sample data)", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				[]string{"—", "Activity…", "Connect AI clients…", "Diagnostics…", "—"}, []string{"Stop all AI access"}, tail),
		},
		{
			name: "tool changes waiting",
			st: tray.Status{Service: serviceStatus(func(s *localapi.Status) {
				s.ToolChanges = make([]localapi.ToolChange, 2)
			})},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				[]string{"—", "Review tool changes (2)…"}, windows[1:], []string{"Stop all AI access"}, tail),
		},
		{
			// The last status is stale: nothing to review until it answers.
			name: "service not running",
			st: tray.Status{Unavailable: "The Scispot MCP service is not running.", LocalServer: &no, Service: serviceStatus(func(s *localapi.Status) {
				s.ToolChanges = make([]localapi.ToolChange, 1)
			})},
			wantIcon: tray.IconBlocked,
			want: join([]string{"AI access stopped", "Scispot MCP service not running"},
				windows, []string{"Stop all AI access (disabled)"}, tail),
		},
		{
			name: "local server allowed, stopped",
			st: tray.Status{LocalServer: &no, Service: serviceStatus(func(s *localapi.Status) {
				s.Policy.Effective["AllowLocalHTTP"] = true
			})},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access", "Start local server"}, tail),
		},
		{
			name: "local server running",
			st: tray.Status{LocalServer: &yes, Service: serviceStatus(func(s *localapi.Status) {
				s.Policy.Effective["AllowLocalHTTP"] = true
			})},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access", "Stop local server"}, tail),
		},
		{
			name:     "local server exists but policy forbids it",
			st:       tray.Status{LocalServer: &no, Service: serviceStatus(nil)},
			wantIcon: tray.IconReady,
			want: join([]string{"AI access allowed", "Managed device ✓", "API token ✓", "0 live sessions", "Policy: /etc/scispot-mcp/policy.json"},
				windows, []string{"Stop all AI access"}, tail),
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

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
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
		{"direct connection", audit.Record{Event: audit.EventBypassFound, Reason: `/home/ann/.cursor/mcp.json: entry "s" connects to Scispot directly, without the gateway`}, tray.NotifyDirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := tray.RecordNote(tt.r)
			if ok != (tt.want != "") || n.Kind != tt.want {
				t.Errorf("RecordNote = %+v, %v; want kind %q", n, ok, tt.want)
			}
		})
	}
	// A direct entry's notice says whose the remedy is.
	for _, tt := range []struct {
		args, says string
	}{
		{`{"client":"cursor","file":"/home/ann/.cursor/mcp.json","entry":"s","kind":"url"}`, "`scispot-mcp setup cursor --migrate`"},
		{`{"client":"claude-code","file":"/etc/claude-code/managed-mcp.json","entry":"s","kind":"url","machine":true}`, "only your IT admin can change"},
	} {
		n, _ := tray.RecordNote(audit.Record{Event: audit.EventBypassFound, Reason: "x", Args: json.RawMessage(tt.args)})
		if !strings.Contains(n.Body, tt.says) {
			t.Errorf("notice for %s says %q, want %q", tt.args, n.Body, tt.says)
		}
	}
}

func TestToolChangeNote(t *testing.T) {
	tests := []struct {
		tools       []string
		title, body string
	}{
		{[]string{"get_experiment"}, "Scispot changed a tool",
			"Scispot changed the definition of get_experiment; it is withheld until you review it (Review tool changes… in the tray menu)."},
		{[]string{"get_experiment", "list_\u202eslebal"}, "Scispot changed tools",
			"Scispot changed the definitions of get_experiment, list_\\u202eslebal; they are withheld until you review them (Review tool changes… in the tray menu)."},
	}
	for _, tt := range tests {
		var changes []localapi.ToolChange
		for _, name := range tt.tools {
			changes = append(changes, localapi.ToolChange{Tool: name})
		}
		n := tray.ToolChangeNote(changes)
		if n.Kind != tray.NotifyToolChanged || n.Open != app.WindowToolChanges || n.Title != tt.title || n.Body != tt.body {
			t.Errorf("ToolChangeNote(%q) = %+v", tt.tools, n)
		}
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
	on := serviceStatus(nil)
	off := serviceStatus(func(s *localapi.Status) { s.Policy.Effective["Enabled"] = false })
	invalid := serviceStatus(func(s *localapi.Status) { s.Policy.Effective["Enabled"], s.Policy.Valid = false, false })
	tests := []struct {
		name     string
		old, new localapi.Status
		want     bool
	}{
		{"turned off", on, off, true},
		{"stays off", off, off, false},
		{"turned on", off, on, false},
		{"became invalid", on, invalid, false},
		{"first status", localapi.Status{}, off, false},
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
