package service

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
	"github.com/scispot/mcp-desktop/mcpserver/session"
)

// Tool definitions pinned (rug-pull protection): the gateways judge each
// allowed tool's definition against s.pins; here the person reviews and
// accepts a change for their own account, with the account password.

// pinsFor are the pins of the demo workspace or of Scispot.
func (s *Service) pinsFor(demo bool) *pin.Store {
	if demo || s.pins == nil {
		return s.demoPins
	}
	return s.pins
}

// pinsChanged tells the trays of owner ("" for every account) that a
// tool was withheld for a changed definition, or accepted again: they
// read the status, which lists the changes waiting for them.
func (s *Service) pinsChanged(owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if owner == "" || u.owner == owner {
			u.hub.publish(localapi.Event{Kind: localapi.EventStatus})
		}
	}
}

// toolChanges are the changed definitions waiting for the account, for
// the allowed tools; withDefs includes the definitions themselves.
func (s *Service) toolChanges(c *caller, facts access.Facts, demo, withDefs bool) []localapi.ToolChange {
	out := []localapi.ToolChange{}
	if facts.Policy.Err != nil {
		return out
	}
	p := facts.Policy.Policy
	for _, ch := range s.pinsFor(demo).Changes(pin.Scope(demo, p.UpstreamURL), c.owner) {
		// A tool the policy stopped allowing is not waiting for anyone.
		if !gateway.Decide(p, ch.Tool).Visible {
			continue
		}
		tc := localapi.ToolChange{Tool: ch.Tool, Rule: ch.Rule, What: ch.What, PolicyEntry: pin.Entry(ch.Tool, ch.After.SHA256),
			New: toolDefinition(&ch.After, withDefs)}
		if ch.Before != nil {
			old := toolDefinition(ch.Before, withDefs)
			tc.Old = &old
		}
		out = append(out, tc)
	}
	return out
}

func toolDefinition(d *pin.Definition, withDef bool) localapi.ToolDefinition {
	out := localapi.ToolDefinition{SHA256: d.SHA256, Since: d.Since, By: d.By}
	if withDef {
		out.Definition = d.Definition
	}
	return out
}

// handleToolChanges lists the changed definitions waiting for the
// account, with old and new, after listing Scispot (as a session would)
// so the list is current; when Scispot cannot be listed, what is on
// record.
func (s *Service) handleToolChanges(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.ToolsRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	demo := req.Demo || s.cfg.Mode == localapi.ModeUserDemo
	token, _, tokenErr := "", "", error(nil)
	if !demo {
		token, _, tokenErr = s.openToken(c, req.Token, req.TokenError)
	}
	h, _, err := s.startHost(r.Context(), c, hostRequest{demo: req.Demo, token: token, tokenErr: tokenErr,
		localSecret: req.LocalSecret, transport: audit.TransportCLI})
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "%v", err))
		return
	}
	facts := h.Facts()
	if h.Gateway().State().Refusal == nil {
		if _, err := h.Gateway().Tools(r.Context()); err != nil {
			s.log.Debug("listing Scispot for the tool changes", "err", err)
		}
	}
	h.Close(session.EndContext)
	writeJSON(w, s.toolChanges(c, facts, demo, true))
}

// handleAcceptTool accepts a changed definition for the calling account:
// the person, not a process running as them (the account password,
// checked here), and only the definition they reviewed.
func (s *Service) handleAcceptTool(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.AcceptToolRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	client := clientOfSource(req.Source)
	refuse := func(e *localapi.Error) {
		s.record(r.Context(), c, client, audit.Record{Event: audit.EventToolAccepted, Tool: req.Tool, Outcome: audit.OutcomeDenied, Reason: e.Sentence, Rule: e.Rule})
		writeError(w, e)
	}
	demo := req.Demo || s.cfg.Mode == localapi.ModeUserDemo
	facts, _ := s.facts(r.Context(), c, true, "", "")
	if facts.Policy.Err != nil {
		refuse(errorf(http.StatusForbidden, access.RulePolicyInvalid, "No tool definition can be accepted while the admin policy is invalid (%v).", facts.Policy.Err))
		return
	}
	store, scope := s.pinsFor(demo), pin.Scope(demo, facts.Policy.Policy.UpstreamURL)
	var change *pin.Change
	for _, ch := range store.Changes(scope, c.owner) {
		if ch.Tool == req.Tool {
			change = &ch
		}
	}
	if change == nil {
		refuse(errorf(http.StatusNotFound, localapi.RuleNothingToAccept, "Scispot's definition of %q has not changed since it was approved for %s on this workstation: there is nothing to accept (`scispot-mcp tools --all` shows every tool).", req.Tool, c.account.Name))
		return
	}
	reviewed := strings.ToLower(strings.TrimSpace(req.SHA256))
	if len(reviewed) < pin.ShortLen || !strings.HasPrefix(change.After.SHA256, reviewed) {
		refuse(errorf(http.StatusConflict, localapi.RuleChangedAgain, "Scispot's definition of %q is not the one you reviewed (it is now sha256 %s): review it again.", req.Tool, pin.Short(change.After.SHA256)))
		return
	}
	// The poison inspector judged it when it was listed; its rules may
	// have changed since, and accepting a definition aimed at the AI
	// would only be refused at the next listing.
	if def, err := pin.Tool(change.After.Definition); err != nil {
		refuse(errorf(http.StatusUnprocessableEntity, gateway.RuleToolUnverified, "The new definition of %q cannot be read (%v), so it cannot be accepted.", req.Tool, err))
		return
	} else if what := guard.InspectTool(def, redact.New()); what != "" {
		refuse(errorf(http.StatusForbidden, gateway.RuleToolPoisoned, "The new definition of %q cannot be accepted: it is %s, so AI clients never get it.", req.Tool, "published by the upstream with "+what))
		return
	}
	if e := s.checkPerson(r.Context(), c, req.Password, "accept the changed definition of "+req.Tool); e != nil {
		refuse(e)
		return
	}
	by := c.account.Name
	if s.cfg.Mode == localapi.ModeSystem {
		by += " (password checked by the service)"
	}
	ev, err := store.Accept(scope, c.owner, req.Tool, reviewed, by)
	switch {
	case errors.Is(err, pin.ErrNothingToAccept):
		refuse(errorf(http.StatusNotFound, localapi.RuleNothingToAccept, "Scispot's definition of %q is no longer waiting to be accepted.", req.Tool))
		return
	case errors.Is(err, pin.ErrChangedAgain):
		refuse(errorf(http.StatusConflict, localapi.RuleChangedAgain, "Scispot changed the definition of %q again while you reviewed it: review it again.", req.Tool))
		return
	case err != nil:
		writeError(w, errorf(http.StatusInternalServerError, "", "The acceptance could not be recorded: %v.", err))
		return
	}
	rerr := s.record(r.Context(), c, client, audit.Record{Event: audit.EventToolAccepted, Tool: req.Tool, Outcome: audit.OutcomeOK,
		Reason: ev.Sentence, Args: ev.Args(auditArgsLimit)})
	s.recheck(r.Context(), c.user)
	c.user.hub.publish(localapi.Event{Kind: localapi.EventStatus})
	if rerr != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "The new definition of %q is accepted, but the audit trail could not record it: %v.", req.Tool, rerr))
		return
	}
	writeJSON(w, map[string]string{"tool": req.Tool, "sha256": change.After.SHA256})
}

// auditArgsLimit keeps an acceptance's args under the trail's cap
// (audit.MaxArgsBytes), which would cut them to a preview.
const auditArgsLimit = audit.MaxArgsBytes - 296

// recheck has every running gateway of the account judge its tools
// against the pins again, so an accepted tool comes back to the AI
// clients (they get tools/list_changed).
func (s *Service) recheck(ctx context.Context, u *user) {
	u.mu.Lock()
	hosts := make([]*session.Host, 0, len(u.hosts)+len(u.http))
	for h := range u.hosts {
		hosts = append(hosts, h)
	}
	for _, hh := range u.http {
		hosts = append(hosts, hh.host)
	}
	u.mu.Unlock()
	for _, h := range hosts {
		h.Gateway().Recheck(ctx)
	}
}
