package service

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/session"
)

// user is the service's state for one OS account on this device: the
// folder only the service writes, the guards all its sessions share, its
// live sessions and what it is waiting to approve.
type user struct {
	owner   string
	account account.Account
	dir     string
	guards  *session.Guards
	hub     hub

	feedOnce sync.Once
	feed     *audit.Feed

	// filing holds one validation filing of the account at a time.
	filing sync.Mutex

	mu        sync.Mutex
	hosts     map[*session.Host]liveHost
	http      map[httpKey]*httpHost
	pending   map[string]*pending
	failures  []time.Time // wrong passwords in the last minute
	lastTrail time.Time
}

// liveHost is one running MCP session (stdio or CLI) of the account.
type liveHost struct {
	pid       int
	exe       string
	transport audit.Transport
	started   time.Time
}

func (s *Service) userFor(c *caller) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[c.owner]; ok {
		return u, nil
	}
	dir := filepath.Join(s.cfg.StateDir, "users", strings.NewReplacer(":", "-", "\\", "-", "/", "-").Replace(c.owner))
	if err := statedir.Ensure(dir); err != nil {
		return nil, fmt.Errorf("preparing the service's folder for %s: %w", c.account.Name, err)
	}
	acct := c.account
	g, err := session.NewGuards(dir, func() string { return acct.Name })
	if err != nil {
		return nil, err
	}
	u := &user{owner: c.owner, account: acct, dir: dir, guards: g,
		hosts: map[*session.Host]liveHost{}, http: map[httpKey]*httpHost{}, pending: map[string]*pending{}}
	s.users[c.owner] = u
	return u, nil
}

func (u *user) auditDir() string { return statedir.AuditDir(u.dir) }

// followTrail starts following the account's audit folder for the event
// stream, once.
func (s *Service) followTrail(u *user) *audit.Feed {
	u.feedOnce.Do(func() {
		u.feed = audit.NewFeed(u.auditDir(), audit.FeedOptions{})
		go u.feed.Run(s.ctx)
		select {
		case <-u.feed.Ready():
		case <-time.After(5 * time.Second):
		}
	})
	return u.feed
}

// addHost and removeHost keep the account's running gateways; the tray
// hears of each session when it starts and ends (session.Config's
// SessionsChanged).
func (u *user) addHost(h *session.Host, l liveHost) {
	u.mu.Lock()
	u.hosts[h] = l
	u.mu.Unlock()
}

func (u *user) removeHost(h *session.Host) {
	u.mu.Lock()
	delete(u.hosts, h)
	u.mu.Unlock()
}

// sessions lists the account's live sessions, oldest first.
func (u *user) sessions() []localapi.Session {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := []localapi.Session{}
	for h, l := range u.hosts {
		for _, ss := range h.Sessions() {
			out = append(out, localapi.Session{ID: ss.ID, PID: l.pid, Client: ss.Client.Name, Version: ss.Client.Version,
				Transport: string(l.transport), Started: l.started})
		}
	}
	for _, hh := range u.http {
		for _, ss := range hh.host.Sessions() {
			out = append(out, localapi.Session{ID: ss.ID, PID: hh.pid, Client: ss.Client.Name, Version: ss.Client.Version,
				Transport: string(audit.TransportHTTP), Started: ss.Started})
		}
	}
	slices.SortFunc(out, func(a, b localapi.Session) int { return a.Started.Compare(b.Started) })
	return out
}

// closeAll ends every session of every account (the service is stopping).
func (s *Service) closeAll() {
	s.mu.Lock()
	users := make([]*user, 0, len(s.users))
	for _, u := range s.users {
		users = append(users, u)
	}
	s.mu.Unlock()
	for _, u := range users {
		u.mu.Lock()
		var hosts []*session.Host
		for h := range u.hosts {
			hosts = append(hosts, h)
		}
		for _, hh := range u.http {
			hosts = append(hosts, hh.host)
		}
		u.mu.Unlock()
		for _, h := range hosts {
			h.Close(session.EndServiceStopped)
		}
	}
}

// hub fans events out to the account's event streams.
type hub struct {
	mu   sync.Mutex
	subs map[chan localapi.Event]bool // true: a stream that answers approvals
}

// subscribe opens a stream; approves says it is a tray, which puts writes
// to the person.
func (h *hub) subscribe(approves bool) (chan localapi.Event, func()) {
	c := make(chan localapi.Event, 256)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan localapi.Event]bool{}
	}
	h.subs[c] = approves
	h.mu.Unlock()
	return c, func() {
		h.mu.Lock()
		delete(h.subs, c)
		h.mu.Unlock()
	}
}

// approvers counts the open streams that can put a write to the person.
func (h *hub) approvers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, a := range h.subs {
		if a {
			n++
		}
	}
	return n
}

// publish never blocks: a stream that cannot keep up misses events, and
// the tray re-reads status on the next one it gets.
func (h *hub) publish(e localapi.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.subs {
		select {
		case c <- e:
		default:
		}
	}
}
