package tray

import (
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// Notification kinds, each rate-limited on its own.
const (
	NotifyPolicyKill    = "policy-kill"
	NotifyInjection     = "injection-suspect"
	NotifyTokenRejected = "token-rejected"
	DefaultNotifyEvery  = time.Minute
	tokenRejectedMarker = "rejected the API token"
)

// Note is one desktop notification.
type Note struct {
	Kind, Title, Body string
}

// RecordNote is the notification a record calls for, if any: a result
// flagged as a possible prompt injection, or Scispot rejecting the token
// (the gateway's reason says "Scispot rejected the API token …").
func RecordNote(r audit.Record) (Note, bool) {
	for _, f := range r.Flags {
		if f == audit.FlagInjectionSuspect {
			return Note{NotifyInjection, "Possible prompt injection",
				"A result of " + r.Tool + " for " + orUnknown(r.Client.Name) + " contained instruction-like text. Check the Activity window."}, true
		}
	}
	if strings.Contains(r.Reason, tokenRejectedMarker) {
		return Note{NotifyTokenRejected, "Scispot rejected your API token",
			"AI clients cannot reach Scispot until you set a new token (Token… in the tray menu)."}, true
	}
	return Note{}, false
}

// PolicyKillNote is the notification for the admin's kill switch turning on.
func PolicyKillNote() Note {
	return Note{NotifyPolicyKill, "AI access stopped by your organisation",
		"Your IT policy turned off AI access to Scispot on this workstation."}
}

func orUnknown(s string) string {
	if s == "" {
		return "an AI client"
	}
	return s
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
