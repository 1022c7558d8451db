// Package toolchanges is the tray's "Review tool changes" window. When
// Scispot changes the definition of a tool the lab allowed, the
// workstation service withholds the tool from AI clients until the change
// is accepted (rug-pull protection, package mcpserver/pin). The window
// lists the changes waiting for this account, shows the approved and the
// new definition as a line diff, and accepts the new one for this account
// with the account password, which the service checks (a process running
// as the person cannot accept for them).
package toolchanges

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

// Title is the window's title; Open finds an open window by it.
const Title = "Review tool changes"

// State is what the window shows. It never holds the password.
type State struct {
	// Account is whose password accepting takes; Password says whether
	// it takes one (the account's demo instance checks none).
	Account  string
	Password bool
	Loaded   bool
	Busy     bool
	Changes  []localapi.ToolChange
	// Selected is the tool shown ("" when there is none).
	Selected string
	// Error is the service's sentence after a try that failed, or why the
	// definition shown is not the one the person was reading; Done what
	// the last acceptance did.
	Error, Done string
}

// Current is the selected change, if any.
func (s State) Current() (localapi.ToolChange, bool) {
	for _, c := range s.Changes {
		if c.Tool == s.Selected {
			return c, true
		}
	}
	return localapi.ToolChange{}, false
}

// Model loads the changes and accepts them through the service.
type Model struct {
	svc  app.Service
	kc   keychain.Store
	demo bool
	app.Observable[State]
}

// NewModel returns the window's model; kc is read for the token the
// service needs to list Scispot (it goes only to the system service).
func NewModel(svc app.Service, kc keychain.Store, demo bool) *Model {
	return &Model{svc: svc, kc: kc, demo: demo}
}

// Load asks the service for the account and the changes waiting for it.
// It blocks; the view runs it off the UI thread.
func (m *Model) Load(ctx context.Context) {
	m.Update(func(s *State) { s.Busy = true })
	req := app.StatusRequestFor(ctx, m.kc, m.demo)
	st, err := app.ReadStatus(ctx, m.svc, req)
	var changes []localapi.ToolChange
	if err == nil {
		changes, err = m.svc.ToolChanges(ctx, localapi.ToolsRequest{Demo: m.demo, Token: req.Token, TokenError: req.TokenError})
		if errors.Is(err, localapi.ErrNotSystem) && req.Token != "" {
			changes, err = m.svc.ToolChanges(ctx, localapi.ToolsRequest{Demo: m.demo})
		}
	}
	m.Update(func(s *State) {
		s.Busy, s.Loaded = false, true
		if err != nil {
			s.Error = m.sentence(err, "the tool changes could not be read")
			return
		}
		was, reading := s.Current()
		s.Account, s.Password = st.User.Name, st.Service.Mode == localapi.ModeSystem
		s.Changes, s.Error = changes, ""
		now, ok := s.Current()
		switch {
		case !ok:
			s.Selected = ""
			if len(changes) > 0 {
				s.Selected = changes[0].Tool
			}
		case reading && now.New.SHA256 != was.New.SHA256:
			s.Error = fmt.Sprintf("Scispot changed the definition of %s again while you were reading it: review the new one below.", pin.Printable(now.Tool))
		}
	})
}

// Follow keeps the list current until ctx ends: when the service says
// something changed (a session noticed another change, the person
// accepted one with `scispot-mcp tools accept`, the admin's policy
// accepted one), the list is loaded again if the changes waiting differ
// from those shown.
func (m *Model) Follow(ctx context.Context) error {
	check := func(ctx context.Context) {
		if s := m.State(); !s.Loaded || s.Busy {
			return
		}
		st, err := app.ReadStatus(ctx, m.svc, app.StatusRequestFor(ctx, m.kc, m.demo))
		if err != nil || slices.Equal(app.ToolChangeKeys(st.ToolChanges), app.ToolChangeKeys(m.State().Changes)) {
			return
		}
		m.Load(ctx)
	}
	return app.Follow(ctx, m.svc, app.Follower{
		Connected: check,
		Event: func(ctx context.Context, e localapi.Event) {
			if e.Kind == localapi.EventStatus {
				check(ctx)
			}
		},
	})
}

// Select shows the change of tool.
func (m *Model) Select(tool string) {
	m.Update(func(s *State) {
		if slices.ContainsFunc(s.Changes, func(c localapi.ToolChange) bool { return c.Tool == tool }) && s.Selected != tool {
			s.Selected, s.Error, s.Done = tool, "", ""
		}
	})
}

// Accept accepts the selected change — exactly the definition shown, by
// its hash — for this account, then loads the list again. It blocks.
func (m *Model) Accept(ctx context.Context, password string) {
	var ch localapi.ToolChange
	ok := false
	m.Update(func(s *State) {
		if s.Busy {
			return
		}
		ch, ok = s.Current()
		if ok {
			s.Busy, s.Error, s.Done = true, "", ""
		}
	})
	if !ok {
		return
	}
	err := m.svc.AcceptTool(ctx, localapi.AcceptToolRequest{Demo: m.demo, Tool: ch.Tool, SHA256: ch.New.SHA256, Password: password, Source: control.SourceTray})
	var apiErr *localapi.Error
	if err == nil || (errors.As(err, &apiErr) && (apiErr.Rule == localapi.RuleNothingToAccept || apiErr.Rule == localapi.RuleChangedAgain)) {
		// Accepted, accepted elsewhere meanwhile, or changed again: the
		// list shown is out of date.
		m.Load(ctx)
	}
	m.Update(func(s *State) {
		s.Busy = false
		if err != nil {
			s.Error = m.sentence(err, "the change could not be accepted")
			return
		}
		s.Done = fmt.Sprintf("The new definition of %s is accepted for your account; your AI clients see the tool again.", pin.Printable(ch.Tool))
	})
}

func (m *Model) sentence(err error, what string) string {
	var apiErr *localapi.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Sentence
	case app.Unreachable(err):
		return app.NotRunning(m.demo)
	}
	return fmt.Sprintf("%s: %v", strings.ToUpper(what[:1])+what[1:], err)
}

// Summary says what changed, when, and what accepting means.
func Summary(c localapi.ToolChange) string {
	name := pin.Printable(c.Tool)
	seen := c.New.Since.Local().Format("2006-01-02 15:04")
	if c.Old == nil {
		return fmt.Sprintf("No approved definition of %s is on record to compare with (the record was damaged). Scispot publishes the one below (sha256 %s, first seen %s). It is withheld from your AI clients until it is accepted; accepting it lets them use it, and other accounts on this workstation are not affected.",
			name, pin.Short(c.New.SHA256), seen)
	}
	what := ""
	if len(c.What) > 0 {
		what = " (" + pin.Printable(strings.Join(c.What, ", ")) + ")"
	}
	return fmt.Sprintf("Scispot changed the definition of %s%s. It is withheld from your AI clients until the change is accepted.\n"+
		"Approved: sha256 %s, %s, %s.\nNew: sha256 %s, first seen %s.\n"+
		"Accepting it lets your AI clients use the tool as defined below; other accounts on this workstation are not affected.",
		name, what, pin.Short(c.Old.SHA256), c.Old.Since.Local().Format("2006-01-02 15:04"), pin.Printable(c.Old.By),
		pin.Short(c.New.SHA256), seen)
}

// PolicyNote tells how the lab's Scispot admin accepts the change for
// every account on every workstation.
func PolicyNote(c localapi.ToolChange) string {
	return fmt.Sprintf("Your Scispot admin can accept it for everyone by adding %s to the policy's AcceptedToolDefinitions.", pin.Printable(c.PolicyEntry))
}

// DiffText is the change as lines a reviewer reads: "- " what goes,
// "+ " what comes, with every hidden character escaped.
func DiffText(c localapi.ToolChange) string {
	if c.Old == nil {
		return pin.Pretty(c.New.Definition)
	}
	return pin.String(pin.Diff(pin.Pretty(c.Old.Definition), pin.Pretty(c.New.Definition)))
}
