// Package tray is the tray icon and its menu: the app's always-there face.
//
// Status is the view model (what the header says, which icon shows, which
// menu items exist); Tray keeps it current from the audit feed, the managed
// policy watcher and the kill switch watcher, all event-driven, and renders
// it with Fyne's desktop.App system tray when one is available.
package tray

import (
	"fmt"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/access"
)

// Icon is which tray icon shows.
type Icon int

const (
	// IconReady: access allowed, no call in the last ActiveFor.
	IconReady Icon = iota
	// IconActive: a tool call in the last ActiveFor.
	IconActive
	// IconBlocked: AI access is refused (kill switch, policy, device state).
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
	Facts access.Facts
	// Refusal is access.Decide(Facts)'s sentence, "" when allowed.
	Refusal string
	// Sessions is the number of live gateway sessions.
	Sessions int
	// Active is true while a call happened in the last ActiveFor.
	Active bool
	// LocalServer is nil when this build has no local HTTP server;
	// otherwise whether it runs.
	LocalServer *bool
}

// Icon is the icon for s.
func (s Status) Icon() Icon {
	switch {
	case s.Refusal != "":
		return IconBlocked
	case s.Active:
		return IconActive
	default:
		return IconReady
	}
}

// Header is the status lines at the top of the menu.
func (s Status) Header() []string {
	f := s.Facts
	var lines []string
	if s.Refusal != "" {
		lines = append(lines, "AI access stopped")
	} else {
		lines = append(lines, "AI access allowed")
	}
	if f.Demo {
		lines = append(lines, "Demo workspace (sample data)")
	} else {
		lines = append(lines, "Managed device "+managed(f), "API token "+check(f.TokenPresent && f.TokenErr == nil))
	}
	switch s.Sessions {
	case 1:
		lines = append(lines, "1 live session")
	default:
		lines = append(lines, fmt.Sprintf("%d live sessions", s.Sessions))
	}
	lines = append(lines, PolicyLine(f))
	return lines
}

func check(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func managed(f access.Facts) string {
	switch {
	case !f.EnrollmentChecked && f.Policy.Err == nil && !f.Policy.Policy.RequireEnrollment:
		return "– (not required)"
	default:
		return check(f.EnrollmentChecked && f.EnrollmentErr == nil && f.Enrollment.Managed)
	}
}

// PolicyLine says where the policy comes from.
func PolicyLine(f access.Facts) string {
	switch {
	case f.Policy.Err != nil:
		return "Policy invalid"
	case len(f.Policy.Sources) == 0:
		return "Policy: built-in defaults"
	default:
		return "Policy: " + strings.Join(f.Policy.Sources, ", ")
	}
}

// Menu item ids; the view maps each to its action.
const (
	ItemHeader      = "header"
	ItemActivity    = "activity"
	ItemConnect     = "connect"
	ItemToken       = "token"
	ItemDiagnostics = "diagnostics"
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
	items = append(items,
		Item{ID: ItemSeparator},
		Item{ID: ItemActivity, Label: "Activity…"},
		Item{ID: ItemConnect, Label: "Connect AI clients…"},
	)
	if !s.Facts.Demo {
		items = append(items, Item{ID: ItemToken, Label: "Token…"})
	}
	items = append(items, Item{ID: ItemDiagnostics, Label: "Diagnostics…"}, Item{ID: ItemSeparator})
	if s.Facts.Killed() {
		items = append(items, Item{ID: ItemResume, Label: "Resume AI access"})
	} else {
		items = append(items, Item{ID: ItemKill, Label: "Stop all AI access"})
	}
	if s.LocalServer != nil && s.Facts.Policy.Err == nil && s.Facts.Policy.Policy.AllowLocalHTTP {
		if *s.LocalServer {
			items = append(items, Item{ID: ItemServerStop, Label: "Stop local server"})
		} else {
			items = append(items, Item{ID: ItemServerStart, Label: "Start local server", Disabled: s.Refusal != ""})
		}
	}
	return append(items, Item{ID: ItemSeparator}, Item{ID: ItemAbout, Label: "About Scispot MCP"}, Item{ID: ItemQuit, Label: "Quit"})
}
