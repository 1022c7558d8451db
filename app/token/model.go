// Package token is the tray's token window: paste a personal Scispot API
// token, have the workstation service check it with Scispot and seal it,
// store the sealed form in the OS keychain, see its fingerprint and when
// it was set, remove it. The tray never opens the sealed token; the plain
// token is never shown again once saved, and never logged.
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
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Config is what a Model needs.
type Config struct {
	Keychain keychain.Store
	// Service seals tokens and says whose fingerprint the keychain holds.
	Service app.Service
	// StateDir holds token.json: when the token was set.
	StateDir string
	// Demo says the tray runs on the demo workspace, which needs no token.
	Demo   bool
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
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
	// StatusOK is false when the keychain or the stored token cannot be read.
	StatusOK bool
	// Result is the outcome of the last action: Scispot's answer with the
	// latency, or the error sentence. ResultOK says which.
	Result   string
	ResultOK bool
	// Saved is set by a successful Save: the view clears the entry.
	Saved bool
	// Note is shown above the form (the demo needs no token; a demo
	// instance cannot store one).
	Note string
	// CannotSeal: the service that answers is this account's demo
	// instance, which cannot seal a token; the save buttons are off.
	CannotSeal bool
}

// Model is the token window's logic. Its methods block; the view runs
// them off the UI goroutine. Safe for concurrent use.
type Model struct {
	cfg Config
	app.Observable[State]
}

const (
	demoNote       = "The demo workspace needs no token. A token is used only when the tray runs on your real Scispot workspace."
	cannotSealNote = "Storing a token needs the Scispot MCP service installed on this workstation; the demo instance that runs here cannot seal one. Ask your IT admin to install Scispot MCP Desktop."
)

// NewModel returns a Model; call Load to read the keychain.
func NewModel(cfg Config) *Model {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Model{cfg: cfg}
	if cfg.Demo {
		m.Update(func(s *State) { s.Note = demoNote })
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
	m.Update(func(s *State) { s.copyStored(st) })
}

func (s *State) copyStored(st State) {
	s.Stored, s.Fingerprint, s.SetAt, s.Status, s.StatusOK = st.Stored, st.Fingerprint, st.SetAt, st.Status, st.StatusOK
	s.Note, s.CannotSeal = st.Note, st.CannotSeal
}

// stored describes what the keychain holds, as the service reads it.
func (m *Model) stored(ctx context.Context) State {
	var st State
	if m.cfg.Demo {
		st.Note = demoNote
	}
	svc, svcErr := app.ReadStatus(ctx, m.cfg.Service, localapi.StatusRequest{})
	down := app.Unreachable(svcErr)
	if svcErr == nil && svc.Service.Mode == localapi.ModeUserDemo {
		st.CannotSeal = true
		st.Note = joinSentences(st.Note, cannotSealNote)
	}
	item, err := m.cfg.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		st.Status, st.StatusOK = "No Scispot API token is stored on this workstation. Paste one below.", true
		return st
	case err != nil:
		st.Status = fmt.Sprintf("The keychain could not be read, so it is unknown whether a token is stored: %v", err)
		return st
	}
	st.Stored, st.StatusOK = true, true
	switch {
	case down:
		st.Status = "A token is stored in the OS keychain; its fingerprint cannot be shown while the Scispot MCP service is not running."
		return st
	case st.CannotSeal:
		st.Status = "A token is stored in the OS keychain; the demo instance of the Scispot MCP service cannot read its fingerprint."
		return st
	}
	info, err := m.cfg.Service.TokenStatus(ctx, item)
	if err != nil {
		st.StatusOK = false
		var apiErr *localapi.Error
		if errors.As(err, &apiErr) {
			st.Status = fmt.Sprintf("A token is stored in the OS keychain, but %s", lowerFirst(apiErr.Sentence))
		} else {
			st.Status = fmt.Sprintf("A token is stored in the OS keychain, but the Scispot MCP service could not read it: %v", err)
		}
		return st
	}
	st.Fingerprint = info.Fingerprint
	if info.Sealed != "" {
		// A token stored before sealing existed: keep only its sealed form.
		if err := m.cfg.Keychain.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
			m.cfg.Logger.Warn("could not replace the plain token in the keychain with its sealed form", "err", err)
		}
	}
	setAt, err := apitoken.ReadInfo(m.cfg.StateDir)
	if err != nil {
		m.cfg.Logger.Warn("reading token.json", "err", err)
	}
	if err == nil && setAt.Fingerprint == st.Fingerprint && !setAt.SetAt.IsZero() {
		st.SetAt = setAt.SetAt
		st.Status = fmt.Sprintf("A token is stored in the OS keychain, sealed to this workstation's Scispot MCP service (fingerprint %s), set %s.", st.Fingerprint, setAt.SetAt.Local().Format("2 Jan 2006 at 15:04"))
	} else {
		st.Status = fmt.Sprintf("A token is stored in the OS keychain, sealed to this workstation's Scispot MCP service (fingerprint %s); when it was set is unknown.", st.Fingerprint)
	}
	return st
}

// Save has the service check a pasted token with Scispot (unless verify
// is false) and seal it, then stores the sealed form in the keychain.
func (m *Model) Save(ctx context.Context, raw string, verify bool) {
	activity := "Checking the token with Scispot…"
	if !verify {
		activity = "Sealing the token…"
	}
	if !m.begin(activity) {
		return
	}
	msg, ok := m.save(ctx, raw, verify)
	st := m.stored(ctx)
	m.cfg.Logger.Info("token saved from the tray", "ok", ok, "verified", verify)
	m.end(func(s *State) {
		s.copyStored(st)
		s.Result, s.ResultOK, s.Saved = msg, ok, ok
	})
}

func (m *Model) save(ctx context.Context, raw string, verify bool) (string, bool) {
	tok, err := keychain.CleanToken(raw)
	if err != nil {
		var ke *keychain.Error
		if errors.As(err, &ke) && ke.Reason != "" {
			return upperFirst(ke.Reason) + ".", false
		}
		return err.Error(), false
	}
	info, err := m.cfg.Service.SealToken(ctx, localapi.SealRequest{Token: tok, Verify: verify})
	if err != nil {
		var apiErr *localapi.Error
		switch {
		case errors.As(err, &apiErr) && apiErr.Rule == localapi.RuleTokenRejected:
			// The service words it for a stored token; this one is new.
			return "Scispot rejected this token: check that you copied all of it, or create a new one. The token was not saved.", false
		case errors.As(err, &apiErr):
			return joinSentences(apiErr.Sentence, "The token was not saved."), false
		case app.Unreachable(err):
			return joinSentences(app.NotRunning(m.cfg.Demo), "The token was not saved."), false
		}
		return fmt.Sprintf("The token was not saved: %v", err), false
	}
	m.Update(func(s *State) { s.Activity = "Storing the token in the keychain…" })
	var msg string
	if info.Verified {
		msg = fmt.Sprintf("Scispot accepted the token (%s).", Latency(info.Latency))
	} else {
		msg = "The token was not checked with Scispot."
	}
	if err := m.cfg.Keychain.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
		return fmt.Sprintf("%s But it could not be saved in the keychain: %v", msg, err), false
	}
	if err := apitoken.WriteInfo(m.cfg.StateDir, apitoken.Info{Fingerprint: info.Fingerprint, SetAt: m.cfg.Now().UTC()}); err != nil {
		m.cfg.Logger.Warn("recording when the token was set", "err", err)
	}
	return fmt.Sprintf("%s Saved in the OS keychain, sealed to this workstation's Scispot MCP service (fingerprint %s).", msg, info.Fingerprint), true
}

// Remove deletes the stored token and has the service record
// token.remove. The view asks the person first.
func (m *Model) Remove(ctx context.Context) {
	if !m.begin("Removing the token…") {
		return
	}
	msg, ok := m.remove(ctx)
	st := m.stored(ctx)
	m.end(func(s *State) {
		s.copyStored(st)
		s.Result, s.ResultOK = msg, ok
	})
}

func (m *Model) remove(ctx context.Context) (string, bool) {
	item, err := m.cfg.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		return "No token was stored; nothing to remove.", true
	case err != nil:
		return fmt.Sprintf("The token could not be removed: %v", err), false
	}
	what := "The token"
	if fp := m.State().Fingerprint; fp != "" {
		what = fmt.Sprintf("The token (fingerprint %s)", fp)
	}
	if err := m.cfg.Keychain.Delete(ctx, keychain.AccountToken); err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return fmt.Sprintf("The token could not be removed: %v", err), false
	}
	if err := apitoken.RemoveInfo(m.cfg.StateDir); err != nil {
		m.cfg.Logger.Warn("forgetting when the token was set", "err", err)
	}
	if err := m.cfg.Service.TokenRemoved(ctx, item); err != nil {
		why := err.Error()
		if app.Unreachable(err) {
			why = "the Scispot MCP service is not running"
		}
		return fmt.Sprintf("%s was removed from the keychain, but the audit trail did not record it: %s.", what, why), true
	}
	return what + " was removed from the keychain. AI clients cannot reach Scispot until a new one is saved.", true
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

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}

// joinSentences puts b after a, a ending with a full stop.
func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	if last := a[len(a)-1]; last != '.' && last != '!' && last != '?' {
		a += "."
	}
	return a + " " + b
}

// Guide is the short help shown in the window.
const Guide = `Create a personal token in Scispot: open your account menu → Account → Personal Tokens, choose "Create token", give it a name such as "MCP on this workstation", and copy it. Paste it above and press "Verify and save": Scispot is asked once, and the token goes into this computer's keychain sealed to the Scispot MCP service, which alone can use it.

Rotate it: create a new token in Scispot, save it here (it replaces the old one), then delete the old token in Scispot under Account → Personal Tokens. Remove it here when you leave the lab or stop using AI clients with Scispot.`
