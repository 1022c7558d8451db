// Package token is the tray's token window: paste a personal Scispot API
// token, check it with Scispot, store it in the OS keychain, see its
// fingerprint and when it was set, remove it. The token is never shown
// again once saved, and never logged.
//
// Model holds the logic and is tested without a display; the Fyne view in
// view.go renders it. Open shows the window.
package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Config is what a Model needs.
type Config struct {
	Keychain keychain.Store
	// StateDir holds token.json (when the token was set) and the audit trail.
	StateDir string
	// Demo says the tray runs on the demo workspace, which needs no token.
	Demo bool
	// Policy returns the effective managed policy; the token is checked
	// with its UpstreamURL.
	Policy func(ctx context.Context) policy.Snapshot
	// Verify checks a token with Scispot; nil means apitoken.Verify.
	Verify func(ctx context.Context, url, token string) (apitoken.Verification, error)
	// Changer stores and removes the token and records the change. Its
	// Keychain and StateDir default to the fields above.
	Changer apitoken.Changer
	Logger  *slog.Logger
}

// State is what the window shows. It never holds the token.
type State struct {
	// Busy is true while a check, save or removal runs; Activity says which.
	Busy     bool
	Activity string
	// Stored is true when the keychain holds a token.
	Stored      bool
	Fingerprint string
	// SetAt is when it was stored, zero when unknown.
	SetAt time.Time
	// Status is one sentence about the stored token (or why it cannot be read).
	Status string
	// StatusOK is false when the keychain cannot be read.
	StatusOK bool
	// Result is the outcome of the last action: Scispot's answer with the
	// latency, or the error sentence. ResultOK says which.
	Result   string
	ResultOK bool
	// Saved is set by a successful Save: the view clears the entry.
	Saved bool
	// Note is shown above the form (e.g. that the demo needs no token).
	Note string
}

// Model is the token window's logic. Its methods block; the view runs
// them off the UI goroutine. Safe for concurrent use.
type Model struct {
	cfg Config
	app.Observable[State]
}

// NewModel returns a Model; call Load to read the keychain.
func NewModel(cfg Config) *Model {
	if cfg.Verify == nil {
		cfg.Verify = func(ctx context.Context, url, token string) (apitoken.Verification, error) {
			return apitoken.Verify(ctx, url, token, &upstream.Options{Logger: cfg.Logger})
		}
	}
	if cfg.Changer.Keychain == nil {
		cfg.Changer.Keychain = cfg.Keychain
	}
	if cfg.Changer.StateDir == "" {
		cfg.Changer.StateDir = cfg.StateDir
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Model{cfg: cfg}
	if cfg.Demo {
		m.Update(func(s *State) {
			s.Note = "The demo workspace needs no token. A token is used only when the tray runs on your real Scispot workspace."
		})
	}
	return m
}

// Busy reports whether an action is running; the view refuses a second.
func (m *Model) Busy() bool { return m.State().Busy }

func (m *Model) begin(activity string) bool {
	ok := false
	m.Update(func(s *State) {
		if s.Busy {
			return
		}
		ok = true
		s.Busy, s.Activity, s.Saved = true, activity, false
	})
	return ok
}

func (m *Model) end(f func(*State)) {
	m.Update(func(s *State) {
		s.Busy, s.Activity = false, ""
		f(s)
	})
}

// Load reads whether a token is stored, its fingerprint and when it was set.
func (m *Model) Load(ctx context.Context) {
	st := m.stored(ctx)
	m.Update(func(s *State) {
		s.Stored, s.Fingerprint, s.SetAt, s.Status, s.StatusOK = st.Stored, st.Fingerprint, st.SetAt, st.Status, st.StatusOK
	})
}

func (m *Model) stored(ctx context.Context) State {
	var st State
	tok, err := m.cfg.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		st.Status, st.StatusOK = "No Scispot API token is stored on this workstation. Paste one below.", true
		return st
	case err != nil:
		st.Status = fmt.Sprintf("The keychain could not be read, so it is unknown whether a token is stored: %v", err)
		return st
	}
	st.Stored, st.StatusOK, st.Fingerprint = true, true, keychain.Fingerprint(tok)
	info, err := apitoken.ReadInfo(m.cfg.StateDir)
	if err != nil {
		m.cfg.Logger.Warn("reading token.json", "err", err)
	}
	if err == nil && info.Fingerprint == st.Fingerprint {
		st.SetAt = info.SetAt
		st.Status = fmt.Sprintf("A token is stored in the OS keychain (fingerprint %s), set %s.", st.Fingerprint, info.SetAt.Local().Format("2 Jan 2006 at 15:04"))
	} else {
		st.Status = fmt.Sprintf("A token is stored in the OS keychain (fingerprint %s); when it was set is unknown.", st.Fingerprint)
	}
	return st
}

// Verify checks a pasted token with Scispot without storing it.
func (m *Model) Verify(ctx context.Context, raw string) {
	if !m.begin("Checking the token with Scispot…") {
		return
	}
	_, msg, ok := m.check(ctx, raw)
	m.end(func(s *State) { s.Result, s.ResultOK = msg, ok })
}

// Save checks a pasted token with Scispot and, if Scispot accepts it,
// stores it in the keychain and records token.set.
func (m *Model) Save(ctx context.Context, raw string) {
	if !m.begin("Checking the token with Scispot…") {
		return
	}
	tok, msg, ok := m.check(ctx, raw)
	if !ok {
		m.end(func(s *State) { s.Result, s.ResultOK = msg+" The token was not saved.", false })
		return
	}
	m.Update(func(s *State) { s.Activity = "Storing the token in the keychain…" })
	info, err := m.cfg.Changer.Set(ctx, tok)
	st := m.stored(ctx)
	switch {
	case errors.Is(err, apitoken.ErrNotRecorded) || (err != nil && info.Fingerprint != ""):
		msg = fmt.Sprintf("%s The token was saved (fingerprint %s), but: %v", msg, info.Fingerprint, err)
		ok = true
	case err != nil:
		msg, ok = fmt.Sprintf("%s But it could not be saved: %v", msg, err), false
	default:
		msg = fmt.Sprintf("%s Saved in the OS keychain (fingerprint %s).", msg, info.Fingerprint)
	}
	m.cfg.Logger.Info("token saved from the tray", "fingerprint", info.Fingerprint, "ok", ok)
	m.end(func(s *State) {
		s.Stored, s.Fingerprint, s.SetAt, s.Status, s.StatusOK = st.Stored, st.Fingerprint, st.SetAt, st.Status, st.StatusOK
		s.Result, s.ResultOK, s.Saved = msg, ok, ok
	})
}

// check cleans the pasted token and asks Scispot about it. It returns the
// clean token and the sentence to show.
func (m *Model) check(ctx context.Context, raw string) (string, string, bool) {
	tok, err := keychain.CleanToken(raw)
	if err != nil {
		var ke *keychain.Error
		if errors.As(err, &ke) && ke.Reason != "" {
			return "", upperFirst(ke.Reason) + ".", false
		}
		return "", err.Error(), false
	}
	snap := m.cfg.Policy(ctx)
	if snap.Err != nil {
		return "", fmt.Sprintf("The admin policy is invalid, so Scispot's address is unknown and the token cannot be checked: %v.", snap.Err), false
	}
	url := snap.Policy.UpstreamURL
	v, err := m.cfg.Verify(ctx, url, tok)
	if err != nil {
		if upstream.KindOf(err) == upstream.Unauthorized {
			return "", fmt.Sprintf("Scispot at %s rejected this token (after %s) — check that you copied all of it, or create a new one.", url, Latency(v.Latency)), false
		}
		return "", fmt.Sprintf("%v (after %s)", err, Latency(v.Latency)), false
	}
	return tok, fmt.Sprintf("Scispot at %s accepted the token: %d tools (%s).", url, v.Tools, Latency(v.Latency)), true
}

// Remove deletes the stored token and records token.remove. The view asks
// the person first.
func (m *Model) Remove(ctx context.Context) {
	if !m.begin("Removing the token…") {
		return
	}
	fp, err := m.cfg.Changer.Remove(ctx)
	st := m.stored(ctx)
	var msg string
	ok := err == nil
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		msg, ok = "No token was stored; nothing to remove.", true
	case errors.Is(err, apitoken.ErrNotRecorded):
		msg, ok = fmt.Sprintf("The token (fingerprint %s) was removed, but: %v", fp, err), true
	case err != nil:
		msg = fmt.Sprintf("The token could not be removed: %v", err)
	default:
		msg = fmt.Sprintf("The token (fingerprint %s) was removed from the keychain. AI clients cannot reach Scispot until a new one is saved.", fp)
	}
	m.end(func(s *State) {
		s.Stored, s.Fingerprint, s.SetAt, s.Status, s.StatusOK = st.Stored, st.Fingerprint, st.SetAt, st.Status, st.StatusOK
		s.Result, s.ResultOK = msg, ok
	})
}

// Latency formats a duration for people: "85 ms", "1.4 s".
func Latency(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Guide is the short help shown in the window.
const Guide = `Create a personal token in Scispot: open your account menu → Account → Personal Tokens, choose "Create token", give it a name such as "MCP on this workstation", and copy it. Paste it above and press "Verify and save": Scispot is asked once, and the token goes only into this computer's keychain.

Rotate it: create a new token in Scispot, save it here (it replaces the old one), then delete the old token in Scispot under Account → Personal Tokens. Remove it here when you leave the lab or stop using AI clients with Scispot.`
