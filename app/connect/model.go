// Package connect is the tray's "Connect AI clients" window: one card per
// AI client with its setup state and Connect, Disconnect and "Move token to
// keychain" buttons, and the restart note after a change. WatchRemoved lets
// the tray notice when a client (typically a Claude Desktop update) wipes
// the entry, and Reconnect puts it back.
package connect

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
)

// Clients is what the window needs from package clients; System is the
// real one.
type Clients interface {
	Status(ctx context.Context) []clients.ClientStatus
	Connect(ctx context.Context, id string) (clients.Change, error)
	Disconnect(ctx context.Context, id string) (clients.Change, error)
	// MoveToken moves every plaintext Scispot token found in the client's
	// configs into the keychain and replaces the entry with the gateway.
	MoveToken(ctx context.Context, id string) (clients.Change, error)
}

// System is Clients on this machine's config files.
type System struct {
	Env        clients.Env
	Executable string
	// StateFile is clients.Options.StateFile (<state>/clients.json).
	StateFile string
	Demo      bool
	Keychain  keychain.Store
	// Service seals a token moved into the keychain (nil leaves it for
	// the next session to seal).
	Service app.Service
	// Record writes the setup.write audit record; nil records nothing.
	Record func(ctx context.Context, c clients.Change) error
	// Hosts returns more hosts that count as Scispot (the policy's
	// UpstreamURL host) for finding direct connections; nil means only
	// mcp.scispot.io.
	Hosts func(ctx context.Context) []string
}

var _ Clients = System{}

func (s System) opts() clients.Options {
	return clients.Options{Executable: s.Executable, Demo: s.Demo, StateFile: s.StateFile, Record: s.Record}
}

// statusOptions are what every status of the clients looks with,
// including the policy's upstream host for direct connections.
func (s System) statusOptions(ctx context.Context) clients.StatusOptions {
	return clients.StatusOptions{Executable: s.Executable, StateFile: s.StateFile, Hosts: s.hosts(ctx)}
}

// Status implements Clients.
func (s System) Status(ctx context.Context) []clients.ClientStatus {
	return clients.Status(ctx, s.Env, s.statusOptions(ctx))
}

// Connect implements Clients.
func (s System) Connect(ctx context.Context, id string) (clients.Change, error) {
	c, err := clients.Lookup(id)
	if err != nil {
		return clients.Change{Client: id}, err
	}
	return clients.Apply(ctx, c, s.Env, s.opts())
}

// Disconnect implements Clients.
func (s System) Disconnect(ctx context.Context, id string) (clients.Change, error) {
	c, err := clients.Lookup(id)
	if err != nil {
		return clients.Change{Client: id}, err
	}
	o := s.opts()
	o.Remove = true
	return clients.Apply(ctx, c, s.Env, o)
}

// MoveToken implements Clients. The token moved into the keychain ends
// up sealed to the service.
func (s System) MoveToken(ctx context.Context, id string) (clients.Change, error) {
	found, scanErr := clients.Scan(ctx, s.Env)
	var last clients.Change
	n := 0
	for _, f := range found {
		if f.Client != id {
			continue
		}
		ch, err := clients.Migrate(ctx, f, s.Env, s.Keychain, s.opts())
		if err != nil {
			return ch, err
		}
		if note := s.seal(ctx); note != "" {
			ch.Note = strings.TrimSpace(ch.Note + " " + note)
		}
		last, n = ch, n+1
	}
	more, err := s.replaceDirect(ctx, id)
	if more.Client != "" {
		last = more
	}
	if err != nil {
		return last, err
	}
	if more.Changed {
		n++
	}
	if n == 0 {
		if scanErr != nil {
			return clients.Change{Client: id}, scanErr
		}
		return clients.Change{Client: id}, fmt.Errorf("no plaintext Scispot token or direct Scispot connection was found in %s's config", id)
	}
	return last, nil
}

// seal replaces a plain token in the keychain (one a migration just put
// there) with its form sealed to the service. It returns a note when the
// token stays plain for now.
func (s System) seal(ctx context.Context) string {
	item, err := s.Keychain.Get(ctx, keychain.AccountToken)
	if err != nil || seal.IsSealed(item) {
		return ""
	}
	const later = "It is sealed to the Scispot MCP service the next time an AI client connects."
	if s.Service == nil {
		return later
	}
	info, err := s.Service.TokenStatus(ctx, item)
	if err != nil || info.Sealed == "" {
		return later
	}
	if err := s.Keychain.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
		return later
	}
	return ""
}

// Card is one client in the window.
type Card struct {
	Status clients.ClientStatus
	// Label is the state in two or three words, for the badge.
	Label string
	// Good is true when nothing needs doing.
	Good bool
	// ConnectText is "Connect" or "Reconnect"; empty hides the button.
	ConnectText   string
	CanDisconnect bool
	CanMigrate    bool
	// Message is the outcome of the last action on this client; Err says
	// whether it failed.
	Message string
	Err     bool
}

// State is what the window shows.
type State struct {
	Cards []Card
	// Busy names the client an action is running for.
	Busy string
	// Restart is the note shown after a change: the client must be
	// restarted (fully quit, for Claude Desktop) to load it.
	Restart string
	Demo    bool
}

// Model is the window's logic. Its methods block; the view runs them off
// the UI goroutine. Safe for concurrent use.
type Model struct {
	c    Clients
	demo bool

	app.Observable[State]

	mu       sync.Mutex
	messages map[string]Card // per client: Message and Err of the last action
}

// NewModel returns a Model; call Refresh to read the clients.
func NewModel(c Clients, demo bool) *Model {
	m := &Model{c: c, demo: demo, messages: map[string]Card{}}
	m.Update(func(s *State) { s.Demo = demo })
	return m
}

// Refresh reads every client's status.
func (m *Model) Refresh(ctx context.Context) { m.Show(m.c.Status(ctx)) }

// Show renders statuses from elsewhere (the clients watcher).
func (m *Model) Show(all []clients.ClientStatus) {
	m.Update(func(s *State) {
		s.Cards = s.Cards[:0:0]
		for _, st := range all {
			c := CardFor(st)
			if msg, ok := m.messages[st.Client]; ok {
				c.Message, c.Err = msg.Message, msg.Err
			}
			s.Cards = append(s.Cards, c)
		}
	})
}

// CardFor describes one client's status.
func CardFor(st clients.ClientStatus) Card {
	c := Card{Status: st}
	switch st.State {
	case clients.Configured:
		c.Label, c.Good, c.CanDisconnect = "Connected", true, true
		if st.Demo {
			c.Label = "Connected (demo)"
		}
	case clients.NoConfig:
		c.Label, c.ConnectText = "Not connected", "Connect"
	case clients.NotInstalled:
		c.Label, c.ConnectText = "Not installed", "Connect anyway"
	case clients.Stale:
		c.Label, c.ConnectText, c.CanDisconnect = "Out of date", "Reconnect", true
	case clients.Removed:
		c.Label, c.ConnectText = "Entry removed", "Reconnect"
	case clients.PlaintextToken:
		c.Label, c.CanMigrate = "Plaintext token found", true
	case clients.Unreadable:
		c.Label = "Config unreadable"
	default:
		c.Label = string(st.State)
	}
	directCard(&c)
	return c
}

// Connect writes the gateway entry for the client.
func (m *Model) Connect(ctx context.Context, id string) {
	m.act(ctx, id, m.c.Connect)
}

// Disconnect removes the gateway entry.
func (m *Model) Disconnect(ctx context.Context, id string) {
	m.act(ctx, id, m.c.Disconnect)
}

// MoveToken moves a plaintext token into the keychain.
func (m *Model) MoveToken(ctx context.Context, id string) {
	m.act(ctx, id, m.c.MoveToken)
}

func (m *Model) act(ctx context.Context, id string, f func(context.Context, string) (clients.Change, error)) {
	busy := false
	m.Update(func(s *State) {
		if s.Busy != "" {
			busy = true
			return
		}
		s.Busy = id
	})
	if busy {
		return
	}
	ch, err := f(ctx, id)
	msg := Card{Message: ch.Note}
	switch {
	case err != nil:
		msg = Card{Message: err.Error(), Err: true}
	case ch.Changed:
		msg.Message = changeSentence(ch)
	}
	m.mu.Lock()
	m.messages[id] = msg
	m.mu.Unlock()
	all := m.c.Status(ctx)
	m.Update(func(s *State) {
		s.Busy = ""
		if err == nil && ch.Changed {
			s.Restart = restartNote(id)
		}
	})
	m.Show(all)
}

func changeSentence(ch clients.Change) string {
	var what string
	switch ch.Action {
	case clients.ActionAdd:
		what = "Connected: the Scispot entry was added to " + ch.Path + "."
	case clients.ActionUpdate:
		what = "Reconnected: the Scispot entry in " + ch.Path + " now launches this app."
	case clients.ActionRemove:
		what = "Disconnected: the Scispot entry was removed from " + ch.Path + "."
	case clients.ActionMigrate:
		if ch.TokenFingerprint == "" {
			what = "The direct Scispot entry in " + ch.Path + " was replaced by the gateway entry."
			break
		}
		what = fmt.Sprintf("The plaintext token (fingerprint %s) is now in the keychain and %s uses the gateway.", ch.TokenFingerprint, ch.Path)
	default:
		what = "Changed " + ch.Path + "."
	}
	if ch.Backup != "" {
		what += " Backup: " + ch.Backup + "."
	}
	return what
}

// restartNote says how to make the client load the change.
func restartNote(id string) string {
	c, err := clients.Lookup(id)
	if err != nil {
		return "Restart the AI client to load the change."
	}
	if id == clients.ClaudeDesktop {
		return "Fully quit and reopen Claude Desktop (closing the window is not enough) to load the change."
	}
	return c.Restart
}
