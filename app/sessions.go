package app

import (
	"slices"
	"sync"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// LiveSessions are the account's live AI sessions as the windows show
// them. The service lists a session from its first request and tells the
// tray with a "status" event when a stdio session opens or closes; the
// audit records say the rest: session.start (listed by then) and
// session.end (the service may list it a moment longer). The zero value
// is ready to use and safe for concurrent use.
type LiveSessions struct {
	mu    sync.Mutex
	list  []localapi.Session
	ended map[string]bool
}

// Set takes the service's list.
func (l *LiveSessions) Set(s []localapi.Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = slices.Clone(s)
	// Forget the ended sessions the service no longer lists.
	for id := range l.ended {
		if !slices.ContainsFunc(s, func(x localapi.Session) bool { return x.ID == id }) {
			delete(l.ended, id)
		}
	}
}

// Record notes a session that ended; it reports whether r is a
// session.start or session.end, after which the list should be read
// again.
func (l *LiveSessions) Record(r audit.Record) bool {
	switch r.Event {
	case audit.EventSessionStart:
		return true
	case audit.EventSessionEnd:
		l.mu.Lock()
		if l.ended == nil {
			l.ended = map[string]bool{}
		}
		l.ended[r.Session] = true
		l.mu.Unlock()
		return true
	}
	return false
}

// List is the live sessions, oldest first.
func (l *LiveSessions) List() []localapi.Session {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]localapi.Session, 0, len(l.list))
	for _, s := range l.list {
		if !l.ended[s.ID] {
			out = append(out, s)
		}
	}
	return out
}
