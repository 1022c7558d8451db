// Package tray is the tray icon and its menu: the app's always-there face.
//
// Status is the view model (what the header says, which icon shows, which
// menu items exist), built from what the workstation service reports;
// Tray keeps it current from the service's event stream (reconnecting when
// the service restarts) and renders it with Fyne's desktop.App system tray
// when one is available. Stopping AI access is one click; resuming it
// asks for the account password, which the service checks (Resumer).
package tray

import (
	"fmt"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Icon is which tray icon shows.
type Icon int

const (
	// IconReady: access allowed, no call in the last ActiveFor.
	IconReady Icon = iota
	// IconActive: a tool call in the last ActiveFor.
	IconActive
	// IconBlocked: AI access is refused (kill switch, policy, device
	// state) or the service is not running.
	IconBlocked
)

func (i Icon) String() string {
	switch i {
	case IconActive:
		return "active"
	case IconBlocked:
		return "blocked"
	default:
		return "ready"
	}
}

// Status is everything the tray shows.
type Status struct {
	// Service is what the service reported last.
	Service localapi.Status
	// Unavailable is set while the service cannot be asked: the sentence
	// saying why (not running, or its refusal to answer).
	Unavailable string
	// Demo: the tray runs on the demo workspace, so the demo's access
	// counts and no token is needed.
	Demo bool
	// Active is true while a call happened in the last ActiveFor.
	Active bool
	// LocalServer is nil when this build has no local HTTP server;
	// otherwise whether it runs.
	LocalServer *bool
}

// Refusal is why AI access is refused now, "" when it is allowed.
func (s Status) Refusal() string {
	if s.Unavailable != "" {
		return s.Unavailable
	}
	a := s.Service.Access
	if s.Demo {
		a = s.Service.DemoAccess
	}
	switch {
	case a.Allowed:
		return ""
	case a.Reason != "":
		return a.Reason
	default:
		return "AI access is refused on this workstation."
	}
}

// Sessions is the number of live AI sessions.
func (s Status) Sessions() int { return len(s.Service.Sessions) }

// ToolChanges is the number of tool definitions Scispot changed that wait
// for the person's review (their tools are withheld meanwhile).
func (s Status) ToolChanges() int {
	if s.Unavailable != "" {
		return 0
	}
	return len(s.Service.ToolChanges)
}

// Killed reports whether the person's kill switch is on.
func (s Status) Killed() bool { return s.Unavailable == "" && s.Service.Killed }

// UserDemo reports whether the service that answers is this account's
// unprivileged demo instance (which asks no password).
func (s Status) UserDemo() bool { return s.Service.Service.Mode == localapi.ModeUserDemo }

// Icon is the icon for s.
func (s Status) Icon() Icon {
	switch {
	case s.Refusal() != "":
		return IconBlocked
	case s.Active:
		return IconActive
	default:
		return IconReady
	}
}

// Header is the status lines at the top of the menu.
func (s Status) Header() []string {
	if s.Unavailable != "" {
		return []string{"AI access stopped", "Scispot MCP service not running"}
	}
	st := s.Service
	var lines []string
	if s.Refusal() != "" {
		lines = append(lines, "AI access stopped")
	} else {
		lines = append(lines, "AI access allowed")
	}
	if s.Demo {
		lines = append(lines, "Demo workspace (sample data)")
	} else {
		lines = append(lines, "Managed device "+managed(st), "API token "+check(st.Token.Present && st.Token.Error == ""))
	}
	switch n := s.Sessions(); n {
	case 1:
		lines = append(lines, "1 live session")
	default:
		lines = append(lines, fmt.Sprintf("%d live sessions", n))
	}
	return append(lines, PolicyLine(st))
}

func check(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func managed(st localapi.Status) string {
	if !st.Enrollment.Checked && st.Policy.Valid && !PolicyBool(st, "RequireEnrollment") {
		return "– (not required)"
	}
	return check(st.Enrollment.Checked && st.Enrollment.Error == "" && st.Enrollment.Managed)
}

// PolicyBool is a boolean key of the effective policy (false when the
// policy is invalid or the key is missing).
func PolicyBool(st localapi.Status, key string) bool {
	b, _ := st.Policy.Effective[key].(bool)
	return st.Policy.Valid && b
}

// PolicyLine says where the policy comes from.
func PolicyLine(st localapi.Status) string {
	switch {
	case !st.Policy.Valid:
		return "Policy invalid"
	case len(st.Policy.Sources) == 0:
		return "Policy: built-in defaults"
	default:
		return "Policy: " + strings.Join(st.Policy.Sources, ", ")
	}
}

// Menu item ids; the view maps each to its action.
const (
	ItemHeader      = "header"
	ItemActivity    = "activity"
	ItemConnect     = "connect"
	ItemToken       = "token"
	ItemDiagnostics = "diagnostics"
	ItemToolChanges = "tool-changes"
	ItemKill        = "kill"
	ItemResume      = "resume"
	ItemServerStart = "server-start"
	ItemServerStop  = "server-stop"
	ItemAbout       = "about"
	ItemQuit        = "quit"
	// ItemSeparator separates groups.
	ItemSeparator = "-"
)

// Item is one menu entry.
type Item struct {
	ID       string
	Label    string
	Disabled bool
}

// Menu is the tray menu for s, top to bottom.
func (s Status) Menu() []Item {
	var items []Item
	for _, h := range s.Header() {
		items = append(items, Item{ID: ItemHeader, Label: h, Disabled: true})
	}
	items = append(items, Item{ID: ItemSeparator})
	if n := s.ToolChanges(); n > 0 {
		// First of the windows: a tool the person relies on is withheld.
		items = append(items, Item{ID: ItemToolChanges, Label: fmt.Sprintf("Review tool changes (%d)…", n)})
	}
	items = append(items,
		Item{ID: ItemActivity, Label: "Activity…"},
		Item{ID: ItemConnect, Label: "Connect AI clients…"},
	)
	if !s.Demo {
		items = append(items, Item{ID: ItemToken, Label: "Token…"})
	}
	items = append(items, Item{ID: ItemDiagnostics, Label: "Diagnostics…"}, Item{ID: ItemSeparator})
	if s.Killed() {
		items = append(items, Item{ID: ItemResume, Label: "Resume AI access"})
	} else {
		// Nothing to stop while the service is not running.
		items = append(items, Item{ID: ItemKill, Label: "Stop all AI access", Disabled: s.Unavailable != ""})
	}
	if s.LocalServer != nil && s.Unavailable == "" && PolicyBool(s.Service, "AllowLocalHTTP") {
		if *s.LocalServer {
			items = append(items, Item{ID: ItemServerStop, Label: "Stop local server"})
		} else {
			items = append(items, Item{ID: ItemServerStart, Label: "Start local server", Disabled: s.Refusal() != ""})
		}
	}
	return append(items, Item{ID: ItemSeparator}, Item{ID: ItemAbout, Label: "About Scispot MCP"}, Item{ID: ItemQuit, Label: "Quit"})
}

// PolicyKilled reports whether the admin's kill switch (policy Enabled)
// went from on to off between two statuses; an invalid policy is reported
// as such, not here.
func PolicyKilled(old, now localapi.Status) bool {
	return PolicyBool(old, "Enabled") && now.Policy.Valid && !PolicyBool(now, "Enabled")
}
