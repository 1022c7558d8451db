package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/forward"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// handler routes the local API: one handler per verb, each starting from
// the caller the kernel named.
func (s *Service) handler() http.Handler {
	mux := http.NewServeMux()
	p := localapi.Prefix
	mux.HandleFunc("POST "+p+"mcp", s.serveMCP)
	mux.HandleFunc(p+"mcp-http/", s.serveMCPHTTP)
	verbs := map[string]func(http.ResponseWriter, *http.Request, *caller){
		"POST " + p + "status":          s.handleStatus,
		"POST " + p + "kill":            s.handleKill,
		"POST " + p + "resume":          s.handleResume,
		"POST " + p + "sessions/stop":   s.handleStopSession,
		"POST " + p + "token/seal":      s.handleSeal,
		"POST " + p + "token/status":    s.handleTokenStatus,
		"POST " + p + "token/removed":   s.handleTokenRemoved,
		"POST " + p + "tools":           s.handleTools,
		"POST " + p + "tools/changes":   s.handleToolChanges,
		"POST " + p + "tools/accept":    s.handleAcceptTool,
		"POST " + p + "record":          s.handleRecord,
		"POST " + p + "validation/file": s.handleFileValidation,
		"POST " + p + "audit/records":   s.handleRecords,
		"POST " + p + "audit/verify":    s.handleVerify,
		"GET " + p + "events":           s.handleEvents,
		"POST " + p + "confirm/answer":  s.handleAnswer,
	}
	for pattern, h := range verbs {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c, e := s.callerOf(r)
			if e != nil {
				writeError(w, e)
				return
			}
			h(w, r, c)
		})
	}
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *localapi.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}

func readJSON(r *http.Request, v any) *localapi.Error {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "", "The request to the Scispot MCP service could not be read: %v.", err)
	}
	return nil
}

// record writes a one-record session for an action of the account,
// attributed as the kernel says.
func (s *Service) record(ctx context.Context, c *caller, client string, r audit.Record) error {
	_, err := s.recordOnce(ctx, c, client, r)
	return err
}

// recordOnce is record, returning the record as written (its hash).
func (s *Service) recordOnce(ctx context.Context, c *caller, client string, r audit.Record) (audit.Record, error) {
	info := audit.SessionInfo{PID: c.cred.PID, User: c.account.Name, Device: s.cfg.DeviceID,
		Transport: audit.TransportCLI, Client: audit.Client{Name: client, Version: s.cfg.Version}}
	out, err := audit.AppendOnce(ctx, c.user.auditDir(), info, r)
	if err != nil {
		return out, fmt.Errorf("recording %s in the audit trail: %w", r.Event, err)
	}
	return out, nil
}

// facts are the account's access facts now, for status; token is what the
// person's keychain holds (may be empty).
func (s *Service) facts(ctx context.Context, c *caller, demo bool, stored, storedErr string) (access.Facts, error) {
	token, _, tokenErr := "", "", error(nil)
	if !demo {
		token, _, tokenErr = s.openToken(c, stored, storedErr)
	}
	f, _ := access.Gather(ctx, s.sourcesFor(c, token, tokenErr), demo || s.cfg.Mode == localapi.ModeUserDemo)
	return f, tokenErr
}

func (s *Service) handleStatus(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.StatusRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	facts, _ := s.facts(r.Context(), c, false, req.Token, req.TokenError)
	st := s.status(r.Context(), c, facts)
	st.Token.Sealed = facts.TokenPresent && seal.IsSealed(req.Token)
	demoFacts, _ := s.facts(r.Context(), c, true, "", "")
	if d := access.Decide(demoFacts); d != nil {
		st.DemoAccess.Rule, st.DemoAccess.Reason = d.Rule, d.Sentence
	} else {
		st.DemoAccess.Allowed = true
	}
	writeJSON(w, st)
}

func (s *Service) status(ctx context.Context, c *caller, facts access.Facts) localapi.Status {
	var st localapi.Status
	st.Service = localapi.Service{Mode: s.cfg.Mode, Socket: s.cfg.Socket, Version: s.cfg.Version, PID: os.Getpid()}
	if s.key != nil {
		st.Service.KeyID = s.key.ID()
	}
	refusal := access.Decide(facts)
	st.Access.Allowed = refusal == nil
	if refusal != nil {
		st.Access.Rule, st.Access.Reason = refusal.Rule, refusal.Sentence
	}
	st.Enrollment.Checked = facts.EnrollmentChecked
	st.Enrollment.Managed = facts.Enrollment.Managed
	st.Enrollment.Method = facts.Enrollment.Method
	st.Enrollment.Detail = facts.Enrollment.Detail
	if facts.EnrollmentErr != nil {
		st.Enrollment.Error = facts.EnrollmentErr.Error()
	}
	if !facts.EnrollmentChecked {
		st.Enrollment.Detail = "not checked: the policy does not require enrollment"
		if facts.Policy.Err != nil {
			st.Enrollment.Detail = "not checked: the policy is invalid"
		}
		if s.cfg.Mode == localapi.ModeUserDemo {
			st.Enrollment.Detail = "not checked: this demo instance serves only the demo workspace"
		}
	}
	st.Policy.Valid = facts.Policy.Err == nil
	st.Policy.Sources = nonNil(facts.Policy.Sources)
	st.Policy.Ignored = facts.Policy.Ignored
	if facts.Policy.Err != nil {
		st.Policy.Error = facts.Policy.Err.Error()
	}
	st.Policy.Effective = facts.Policy.Effective()
	if facts.Policy.Policy.AllowedTools == nil {
		st.Policy.Effective["AllowedTools"] = catalog.ReadOnlyNames()
	}
	st.User.Name, st.User.UID, st.User.Authorized = c.account.Name, c.cred.UID, facts.Authorized()
	st.Device = s.cfg.DeviceID
	if s.deviceKey != nil {
		st.DeviceKey = s.deviceKey.VerifierKey()
	}
	if s.deviceKeyErr != nil {
		st.DeviceKeyError = s.deviceKeyErr.Error()
	}
	st.Token.Present, st.Token.Fingerprint = facts.TokenPresent, facts.TokenFingerprint
	if facts.TokenErr != nil {
		st.Token.Error = facts.TokenErr.Error()
	}
	st.Killed = facts.Killed()
	st.Kill.Reason, st.Kill.By, st.Kill.At = facts.Kill.Reason, facts.Kill.By, facts.Kill.At
	if facts.KillErr != nil {
		st.Kill.Error = facts.KillErr.Error()
	}
	st.Sessions = c.user.sessions()
	st.ClientsSeen, st.ExecutablesSeen, st.SignersSeen = seen(ctx, c.user.auditDir())
	st.Pending = c.user.pendingConfirmations()
	st.ToolChanges = s.toolChanges(c, facts, s.cfg.Mode == localapi.ModeUserDemo, false)
	st.AuditDestinations = s.auditDestinations()
	st.ClientSettings = s.clientSettingsStatus()
	return st
}

// auditDestinations is where the trails go and how far they got.
func (s *Service) auditDestinations() []localapi.AuditDestination {
	out := []localapi.AuditDestination{}
	if s.fwd == nil {
		return out
	}
	for _, d := range s.fwd.Status() {
		out = append(out, localapi.AuditDestination{Kind: d.Kind, Endpoint: d.Endpoint, Connected: d.Connected,
			LastDelivery: d.LastDelivery, Backlog: d.Backlog, OldestUndelivered: d.Oldest,
			LastError: d.LastError, LastErrorTime: d.LastErrorTime, Delivered: d.Delivered, Rejected: d.Rejected})
	}
	return out
}

// seen lists every client name and launching program in the account's
// trail, so an admin can build AllowedClients, AllowedClientExecutables
// and AllowedClientSigners.
func seen(ctx context.Context, dir string) (clients, exes, signers []string) {
	clients, exes, signers = []string{}, []string{}, []string{}
	recs, _ := audit.Read(ctx, dir, audit.Filter{})
	for _, r := range recs {
		if s := r.Client.Signer; s != "" && !slices.Contains(signers, s) {
			signers = append(signers, s)
		}
		if n := r.Client.Name; n != "" && !slices.Contains(clients, n) {
			clients = append(clients, n)
		}
		if e := r.Client.Exe; e != "" && !slices.Contains(exes, e) {
			exes = append(exes, e)
		}
	}
	return clients, exes, signers
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleKill stops all AI access for the account at once. Anyone may stop.
func (s *Service) handleKill(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.KillRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	s.switchKill(w, r, c, true, req)
}

// handleResume lifts the account's kill switch; only the person may.
func (s *Service) handleResume(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.KillRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	if e := s.checkPerson(r.Context(), c, req.Password, "allow AI access again"); e != nil {
		s.record(r.Context(), c, clientOfSource(req.Source), audit.Record{Event: audit.EventResume, Outcome: audit.OutcomeDenied, Reason: e.Sentence, Rule: e.Rule})
		writeError(w, e)
		return
	}
	s.switchKill(w, r, c, false, req)
}

// clientOr names the front end an action came from, for the record; the
// account comes from the kernel, the name only labels the tool it used.
func clientOr(name string) string {
	switch name {
	case "scispot-mcp-tray", "scispot-mcp-cli":
		return name
	}
	return "scispot-mcp-cli"
}

func clientOfSource(source string) string {
	if source == control.SourceTray {
		return "scispot-mcp-tray"
	}
	return "scispot-mcp-cli"
}

func (s *Service) switchKill(w http.ResponseWriter, r *http.Request, c *caller, kill bool, req localapi.KillRequest) {
	source := control.SourceCLI
	if req.Source == control.SourceTray {
		source = control.SourceTray
	}
	reason := strings.TrimSpace(req.Reason)
	if len(reason) > 500 {
		reason = reason[:500]
	}
	now := s.cfg.Now().UTC()
	err := control.Update(statedir.ControlFile(c.user.dir), func(st *control.State) error {
		if kill {
			st.Kill(reason, c.account.Name, source, now)
		} else {
			st.Resume(c.account.Name, source, now)
		}
		return nil
	})
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "The kill switch could not be written: %v.", err))
		return
	}
	ev := audit.EventResume
	if kill {
		ev = audit.EventKill
	}
	rerr := s.record(r.Context(), c, clientOfSource(source), audit.Record{Event: ev, Outcome: audit.OutcomeOK, Reason: reason})
	c.user.hub.publish(localapi.Event{Kind: localapi.EventStatus})
	if rerr != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "The kill switch is %s, but the audit trail could not record it: %v.", map[bool]string{true: "on", false: "off"}[kill], rerr))
		return
	}
	writeJSON(w, map[string]bool{"killed": kill})
}

// handleStopSession ends one of the account's sessions.
func (s *Service) handleStopSession(w http.ResponseWriter, r *http.Request, c *caller) {
	var req struct{ ID string }
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	found := false
	for _, ss := range c.user.sessions() {
		found = found || ss.ID == req.ID
	}
	if !found {
		writeError(w, errorf(http.StatusNotFound, "", "No live session %q of %s.", req.ID, c.account.Name))
		return
	}
	err := control.Update(statedir.ControlFile(c.user.dir), func(st *control.State) error {
		st.StopSession(req.ID)
		return nil
	})
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "The session could not be stopped: %v.", err))
		return
	}
	writeJSON(w, map[string]bool{"stopped": true})
}

// handleSeal seals a token for the person's keychain, asking Scispot first
// when asked to.
func (s *Service) handleSeal(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.SealRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	if s.key == nil {
		writeError(w, errorf(http.StatusForbidden, "no-service", "The Scispot MCP service is not installed on this workstation, so no token can be stored; the demo workspace needs none."))
		return
	}
	token, err := keychain.CleanToken(req.Token)
	if err != nil {
		writeError(w, errorf(http.StatusBadRequest, "", "%v; nothing was stored.", err))
		return
	}
	info := localapi.TokenInfo{Fingerprint: keychain.Fingerprint(token)}
	if req.Verify {
		facts, _ := s.facts(r.Context(), c, true, "", "")
		if facts.Policy.Err != nil {
			writeError(w, errorf(http.StatusForbidden, access.RulePolicyInvalid, "The token cannot be checked: the admin policy is invalid (%v).", facts.Policy.Err))
			return
		}
		opts := upstream.Options{}
		if s.cfg.Upstream != nil {
			opts = *s.cfg.Upstream
		}
		if opts.Proxy, err = upstream.ParseProxyURL(facts.Policy.Policy.UpstreamProxy); err != nil {
			writeError(w, errorf(http.StatusForbidden, access.RulePolicyInvalid, "The token cannot be checked: the admin policy's UpstreamProxy cannot be used (%v).", err))
			return
		}
		v, err := apitoken.Verify(r.Context(), facts.Policy.Policy.UpstreamURL, token, &opts)
		info.Latency = v.Latency
		if err != nil {
			rule := localapi.RuleTokenRejected
			if upstream.KindOf(err) != upstream.Unauthorized {
				rule = localapi.RuleUpstreamUnreachable
			}
			writeError(w, errorf(http.StatusBadRequest, rule, "%v", err))
			return
		}
		info.Verified = true
	}
	sealed, err := s.key.Seal(c.owner, token)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "%v", err))
		return
	}
	info.Sealed = sealed
	if err := s.record(r.Context(), c, clientOr(req.Client), audit.Record{Event: audit.EventTokenSet, Outcome: audit.OutcomeOK, Token: info.Fingerprint}); err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "The token was not stored: the audit trail could not record it (%v).", err))
		return
	}
	writeJSON(w, info)
}

// handleTokenStatus describes the keychain's item without revealing it.
func (s *Service) handleTokenStatus(w http.ResponseWriter, r *http.Request, c *caller) {
	var q localapi.TokenQuery
	if e := readJSON(r, &q); e != nil {
		writeError(w, e)
		return
	}
	token, sealed, err := s.openToken(c, q.Token, "")
	if err != nil {
		writeError(w, errorf(http.StatusConflict, "token-unusable", "%v", err))
		return
	}
	info := localapi.TokenInfo{Sealed: sealed}
	if token != "" {
		info.Fingerprint = keychain.Fingerprint(token)
	}
	writeJSON(w, info)
}

// handleTokenRemoved records that the person removed the token.
func (s *Service) handleTokenRemoved(w http.ResponseWriter, r *http.Request, c *caller) {
	var q localapi.TokenQuery
	if e := readJSON(r, &q); e != nil {
		writeError(w, e)
		return
	}
	fp := ""
	if token, _, err := s.openToken(c, q.Token, ""); err == nil && token != "" {
		fp = keychain.Fingerprint(token)
	}
	if err := s.record(r.Context(), c, clientOr(q.Client), audit.Record{Event: audit.EventTokenRemove, Outcome: audit.OutcomeOK, Token: fp}); err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "%v", err))
		return
	}
	writeJSON(w, map[string]string{"fingerprint": fp})
}

// handleTools lists every tool the upstream publishes with the policy's
// verdict, for `scispot-mcp tools --all`.
func (s *Service) handleTools(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.ToolsRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	token, _, tokenErr := "", "", error(nil)
	if !req.Demo {
		token, _, tokenErr = s.openToken(c, req.Token, req.TokenError)
	}
	h, _, err := s.startHost(r.Context(), c, hostRequest{demo: req.Demo, token: token, tokenErr: tokenErr,
		localSecret: req.LocalSecret, transport: audit.TransportCLI})
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "%v", err))
		return
	}
	defer h.Close(session.EndContext)
	if rf := h.Gateway().State().Refusal; rf != nil {
		writeError(w, errorf(http.StatusForbidden, rf.Rule, "%s", rf.Sentence))
		return
	}
	infos, err := h.Gateway().Tools(r.Context())
	if err != nil {
		writeError(w, errorf(http.StatusBadGateway, "upstream", "%v", err))
		return
	}
	out := make([]localapi.ToolInfo, 0, len(infos))
	for _, ti := range infos {
		out = append(out, localapi.ToolInfo{Tool: ti.Tool, Visible: ti.Visible, Reason: ti.Reason, Rule: ti.Rule,
			Write: ti.Class.Write, Destructive: ti.Class.Destructive, Class: ti.Class.Why, SHA256: ti.SHA256})
	}
	writeJSON(w, out)
}

// handleRecord audits an action taken in the person's session.
func (s *Service) handleRecord(w http.ResponseWriter, r *http.Request, c *caller) {
	var req localapi.RecordRequest
	if e := readJSON(r, &req); e != nil {
		writeError(w, e)
		return
	}
	// Only what a person's own tools do may be recorded this way: a
	// client config written. A validation run is filed through
	// validation/file, which checks the report first.
	if req.Event != audit.EventSetupWrite {
		writeError(w, errorf(http.StatusBadRequest, "", "The service records %q itself.", req.Event))
		return
	}
	client := req.Client
	if client == "" {
		client = "scispot-mcp-cli"
	}
	if err := s.record(r.Context(), c, client, audit.Record{Event: req.Event, Outcome: audit.OutcomeOK, Tool: req.Tool, Reason: req.Reason, Token: req.Token}); err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "%v", err))
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// trailDirs are the audit folders a caller may read: its own, or every
// account's for an administrator who asks.
func (s *Service) trailDirs(c *caller, all bool) []string {
	if !all || !c.admin() {
		return []string{c.user.auditDir()}
	}
	dirs, _ := filepath.Glob(filepath.Join(s.cfg.StateDir, "users", "*", "audit"))
	return dirs
}

func (s *Service) handleRecords(w http.ResponseWriter, r *http.Request, c *caller) {
	var q localapi.RecordsQuery
	if e := readJSON(r, &q); e != nil {
		writeError(w, e)
		return
	}
	out := []audit.Record{}
	for _, dir := range s.trailDirs(c, q.All) {
		recs, err := audit.Read(r.Context(), dir, audit.Filter{Since: q.Since, Until: q.Until})
		if err != nil {
			writeError(w, errorf(http.StatusInternalServerError, "", "Reading the audit trail: %v.", err))
			return
		}
		out = append(out, recs...)
	}
	slices.SortStableFunc(out, func(a, b audit.Record) int { return a.Time.Compare(b.Time) })
	writeJSON(w, out)
}

func (s *Service) handleVerify(w http.ResponseWriter, r *http.Request, c *caller) {
	var q localapi.RecordsQuery
	if e := readJSON(r, &q); e != nil {
		writeError(w, e)
		return
	}
	var res localapi.VerifyResult
	for _, dir := range s.trailDirs(c, q.All) {
		rep, err := audit.Verify(r.Context(), dir, s.verifyOptions()...)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			writeError(w, errorf(http.StatusInternalServerError, "", "Verifying the audit trail: %v.", err))
			return
		}
		res.Report.Merge(rep)
		res.Dir = dir
	}
	if len(s.trailDirs(c, q.All)) > 1 {
		res.Dir = filepath.Join(s.cfg.StateDir, "users")
	}
	writeJSON(w, res)
}

// handleEvents streams the account's events: every record its sessions
// write, writes waiting for approval, and access changes.
func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request, c *caller) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, errorf(http.StatusInternalServerError, "", "events need a streaming connection"))
		return
	}
	events, unsubscribe := c.user.hub.subscribe(r.URL.Query().Get("approves") == "1")
	defer unsubscribe()
	feed := s.followTrail(c.user)
	records, stop := feed.Subscribe(1024)
	defer stop()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	for _, p := range c.user.pendingConfirmations() {
		enc.Encode(localapi.Event{Kind: localapi.EventConfirm, Confirm: &p})
	}
	fl.Flush()
	keepalive := time.NewTicker(30 * time.Second)
	defer keepalive.Stop()
	for {
		var ev localapi.Event
		select {
		case <-r.Context().Done():
			return
		case e := <-events:
			ev = e
		case rec, ok := <-records:
			if !ok {
				return
			}
			ev = localapi.Event{Kind: localapi.EventRecord, Record: &rec}
		case <-keepalive.C:
			ev = localapi.Event{Kind: "ping"}
		}
		if err := enc.Encode(ev); err != nil {
			return
		}
		fl.Flush()
	}
}

// followPolicy tells every account's tray when the policy changes; each
// session follows the policy itself.
func (s *Service) followPolicy(ctx context.Context) {
	w := policy.Watcher{
		Stores:  s.cfg.Policy,
		Current: policy.Load(ctx, s.cfg.Policy...),
		Logger:  s.log,
		OnChange: func(snap policy.Snapshot) {
			select {
			case s.clientSettingsPoke <- struct{}{}:
			default:
			}
			if s.fwd != nil && snap.Err == nil {
				// An invalid policy blocks AI access but does not stop the
				// records already written from reaching the lab: the last
				// valid destinations keep them going.
				s.fwd.Apply(forward.TargetsFrom(snap.Policy))
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, u := range s.users {
				u.hub.publish(localapi.Event{Kind: localapi.EventStatus})
			}
		},
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("policy changes will not reach the trays", "err", err)
	}
}
