package tray

import (
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

// Notification kinds, each rate-limited on its own.
const (
	NotifyPolicyKill    = "policy-kill"
	NotifyInjection     = "injection-suspect"
	NotifyTokenRejected = "token-rejected"
	NotifyToolChanged   = "tool-changed"
	NotifyDirect        = "direct-connection"
	DefaultNotifyEvery  = time.Minute
	tokenRejectedMarker = "rejected the API token"
)

// Note is one desktop notification.
type Note struct {
	Kind, Title, Body string
	// Open is the window a click on the notification opens ("" for
	// none), where the desktop reports clicks (Notifier).
	Open string
}

// RecordNote is the notification a record calls for, if any: a result
// flagged as a possible prompt injection, or Scispot rejecting the token
// (the gateway's reason says "Scispot rejected the API token …").
func RecordNote(r audit.Record) (Note, bool) {
	if r.Event == audit.EventBypassFound {
		// The service's periodic check found a client config entry that
		// reaches Scispot without the gateway; Reason names file and entry.
		// Its args are the finding, which says whose the remedy is.
		var d clients.Direct
		_ = json.Unmarshal(r.Args, &d)
		return Note{Kind: NotifyDirect, Title: "AI client connects to Scispot directly",
			Body: r.Reason + ". " + d.Remedy(), Open: app.WindowSetup}, true
	}
	for _, f := range r.Flags {
		if f == audit.FlagInjectionSuspect {
			return Note{Kind: NotifyInjection, Title: "Possible prompt injection",
				Body: "A result of " + r.Tool + " for " + orUnknown(r.Client.Name) + " contained instruction-like text. Check the Activity window.", Open: app.WindowActivity}, true
		}
	}
	if strings.Contains(r.Reason, tokenRejectedMarker) {
		return Note{Kind: NotifyTokenRejected, Title: "Scispot rejected your API token",
			Body: "AI clients cannot reach Scispot until you set a new token (Token… in the tray menu).", Open: app.WindowToken}, true
	}
	return Note{}, false
}

// PolicyKillNote is the notification for the admin's kill switch turning on.
func PolicyKillNote() Note {
	return Note{Kind: NotifyPolicyKill, Title: "AI access stopped by your organisation",
		Body: "Your IT policy turned off AI access to Scispot on this workstation."}
}

// ToolChangeNote is the notification for changed tool definitions the
// service noticed: the tools are withheld until the person reviews them.
func ToolChangeNote(changes []localapi.ToolChange) Note {
	names := make([]string, 0, len(changes))
	for _, c := range changes {
		names = append(names, pin.Printable(c.Tool))
	}
	n := Note{Kind: NotifyToolChanged, Open: app.WindowToolChanges}
	if len(names) == 1 {
		n.Title = "Scispot changed a tool"
		n.Body = "Scispot changed the definition of " + names[0] + "; it is withheld until you review it (Review tool changes… in the tray menu)."
	} else {
		n.Title = "Scispot changed tools"
		n.Body = "Scispot changed the definitions of " + strings.Join(names, ", ") + "; they are withheld until you review them (Review tool changes… in the tray menu)."
	}
	return n
}

func orUnknown(s string) string {
	if s == "" {
		return "an AI client"
	}
	return s
}

// Notifier shows desktop notifications. onClick, when not nil, runs on
// the UI goroutine when the person clicks the notification, where the
// desktop reports clicks (DesktopNotifier); elsewhere it never runs and
// the tray menu is the way in.
type Notifier interface {
	Notify(title, body string, onClick func())
}

// AppNotifier is the toolkit's notifications, which report no clicks.
type AppNotifier struct{ App fyne.App }

// Notify implements Notifier; onClick never runs.
func (a AppNotifier) Notify(title, body string, _ func()) {
	a.App.SendNotification(fyne.NewNotification(title, body))
}

// DesktopNotifierOptions configure NewDesktopNotifier (clicks are
// reported on Linux; elsewhere it returns Fallback).
type DesktopNotifierOptions struct {
	// AppName is what the server shows as the sender; DesktopEntry the
	// app's .desktop file name without the suffix (its icon).
	AppName, DesktopEntry string
	// Do runs onClick on the UI goroutine (fyne.Do).
	Do func(func())
	// Fallback shows a notification the server could not take.
	Fallback Notifier
	Logger   *slog.Logger
}

// Limiter lets at most one notification of each kind through per Every.
// Not safe for concurrent use.
type Limiter struct {
	Every time.Duration
	last  map[string]time.Time
}

// Allow reports whether a notification of kind may show at now, and if so
// counts it.
func (l *Limiter) Allow(kind string, now time.Time) bool {
	every := l.Every
	if every <= 0 {
		every = DefaultNotifyEvery
	}
	if l.last == nil {
		l.last = map[string]time.Time{}
	}
	if t, ok := l.last[kind]; ok && now.Sub(t) < every {
		return false
	}
	l.last[kind] = now
	return true
}
