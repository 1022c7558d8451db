// Package gateway is the local MCP server that AI clients talk to. It lists
// the upstream's tools that policy allows, forwards allowed calls on one
// path, and refuses everything else with a sentence the person can act on.
//
//	AI client ──MCP──▶ Gateway.Server() ─┬─ middleware: refusals, hidden tools, audit
//	                                     └─ tool handlers ──▶ Upstream (Scispot or the demo)
//
// The gateway owns no policy source, keychain or audit file: the serve
// command decides the process-wide State (policy and any Refusal) and pushes
// changes with SetState; audit records go to a Recorder.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// Upstream is what the gateway needs from Scispot's MCP server (or the demo
// workspace standing in for it).
type Upstream interface {
	ListTools(ctx context.Context) ([]*mcp.Tool, error)
	CallTool(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error)
}

// State is the process-wide situation the serve command has established.
type State struct {
	Policy policy.Policy
	// Refusal, when set, puts every session in the refused state of rule 1.
	Refusal *Refusal
}

// Audit event names (design.md, "Audit record").
const (
	EventSessionStart = "session.start"
	EventToolsList    = "tools.list"
	EventToolCall     = "tool.call"
	EventToolDenied   = "tool.denied"
	// What the pins found (package pin): a definition pinned on first
	// sight, one that differs from the approved one (withheld), a change
	// the admin's policy accepted. Recorded without a session: the
	// session host writes them into every trail of the upstream's
	// sessions.
	EventToolPinned   = pin.EventPinned
	EventToolChanged  = pin.EventChanged
	EventToolAccepted = pin.EventAccepted
)

// Outcomes of a call.
const (
	OutcomeOK     = "ok"
	OutcomeError  = "error"
	OutcomeDenied = "denied"
)

// Event is one thing the gateway did on behalf of a client, handed to the
// Recorder before the client sees the result.
type Event struct {
	Kind        string
	Session     *mcp.ServerSession
	Client      *mcp.Implementation
	Tool        string
	Args        json.RawMessage
	Outcome     string
	Reason      string
	Rule        string
	Duration    time.Duration
	ResultBytes int
	Flags       []string
	// Signature and Change: the call's signature link and what it changed.
	Signature *audit.Signature
	Change    *audit.Change
}

// Recorder writes the audit trail. Record must persist the event before it
// returns: the gateway returns the result to the client only afterwards,
// and refuses to return it if Record fails.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

// CallInfo is one call on its way through the guards.
type CallInfo struct {
	Session *mcp.ServerSession
	Client  *mcp.Implementation
	// CanElicit says the client declared MCP elicitation, so the gateway
	// can ask the person through it.
	CanElicit bool
	Tool      string
	Args      json.RawMessage
	Policy    policy.Policy
	// Class is the gateway's verdict on what the tool may do (Classify):
	// the write rules follow it. Zero in After for a call that was
	// answered before the tool was judged.
	Class Class
	// Secrets are what must never reach the client (Options.Secrets).
	Secrets redact.Redactor
}

// Guards are the policy checks around the one forwarding path. Before runs
// before anything reaches the upstream (rate limits, budgets, write
// confirmation) and only for a tool the policy allows. After sees every
// result on its way back — ok or error, Scispot's own or the gateway's
// sentence about an outage — before it is recorded and returned, and may
// replace it (secrets removed, prompt-injection notice or redaction) or
// refuse it (too large, blocked, over budget); guard.ResultCheck defines
// the order. Every refusal is audited as tool.denied with its sentence and
// rule, and with the flags returned alongside it.
type Guards interface {
	// Before may return flags for the call's audit record (for example
	// who confirmed a write).
	Before(ctx context.Context, c CallInfo) (flags []string, r *Refusal)
	// After gets the result and its size as received (its JSON encoding).
	After(ctx context.Context, c CallInfo, res *mcp.CallToolResult, size int) (out *mcp.CallToolResult, flags []string, r *Refusal)
}

// Options configure a Gateway. The zero value is usable.
type Options struct {
	// Name and Version identify the gateway to clients.
	Name, Version string
	Logger        *slog.Logger
	Recorder      Recorder
	Guards        Guards
	// Secrets are the values no tool definition or result may carry to
	// the client: the token, the local HTTP secret (token-shaped words
	// always count).
	Secrets redact.Redactor
	// Approver asks the person to sign writes (approval.go); nil lets
	// every allowed call through.
	Approver Approver
	// Pins, when set, compare the definition of every tool the policy
	// allows with the one approved on this workstation (package pin): a
	// changed definition is withheld until it is accepted. Nil pins
	// nothing.
	Pins *pin.View
	Now  func() time.Time
}

// Gateway is one MCP server in front of one upstream.
type Gateway struct {
	up     Upstream
	opts   Options
	server *mcp.Server

	// stopCtx ends every in-flight forward when the kill switch or the
	// policy stops access; stopCause says why.
	stopCtx  context.Context
	stopFunc context.CancelCauseFunc

	fetchMu sync.Mutex // held while listing the upstream, so sessions share one fetch

	// inflight counts tools/call requests between arrival and their audit
	// record, so Drain can let stopped calls answer before the process exits.
	inflight sync.WaitGroup

	mu         sync.Mutex
	state      State
	upTools    []published // nil until listed
	registered map[string]registration
	// handler runs every call through the chain (call.go); dispatch is the
	// internal tool that carries calls to tools the SDK does not know.
	handler  mcp.ToolHandler
	dispatch *mcp.Tool

	// listErr is why the upstream could not be listed last time, until a
	// listing succeeds.
	listErr *Refusal
	// listed is what each session saw at its last tools/list, so a
	// list_changed that changes nothing for it is not sent.
	listed map[*mcp.ServerSession]listing
	// pinned is the pins' verdict on each allowed tool's definition as
	// last listed; pinEvents what the pins found that is not recorded
	// yet (recorded outside mu, by flushPins).
	pinned    map[string]pinned
	pinEvents []Event
}

// pinned is the pins' verdict on one published definition under one
// list of accepted definitions.
type pinned struct {
	def      *mcp.Tool
	accepted []string
	verdict  pin.Verdict
}

// New builds a gateway. up may be nil only when initial.Refusal is set
// (there is nothing to forward to: for example no token is stored).
func New(up Upstream, initial State, opts *Options) *Gateway {
	g := &Gateway{up: up, state: initial, registered: map[string]registration{}, listed: map[*mcp.ServerSession]listing{}}
	if opts != nil {
		g.opts = *opts
	}
	if g.opts.Name == "" {
		g.opts.Name = "scispot"
	}
	if g.opts.Logger == nil {
		g.opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if g.opts.Now == nil {
		g.opts.Now = time.Now
	}
	g.stopCtx, g.stopFunc = context.WithCancelCause(context.Background())
	chain := g.chain()
	g.handler = func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return g.toolHandler(ctx, req, chain)
	}
	g.dispatch = &mcp.Tool{Name: dispatchTool, Description: "internal: never listed", InputSchema: map[string]any{"type": "object"}}
	g.server = mcp.NewServer(&mcp.Implementation{Name: g.opts.Name, Title: "Scispot MCP Desktop", Version: g.opts.Version}, &mcp.ServerOptions{
		Logger:       g.opts.Logger,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
	})
	g.server.AddReceivingMiddleware(g.middleware)
	g.server.AddSendingMiddleware(g.sendingMiddleware)
	g.mu.Lock()
	g.syncLocked()
	g.mu.Unlock()
	return g
}

// Server is the MCP server to run on a transport.
func (g *Gateway) Server() *mcp.Server { return g.server }

// State returns the current process-wide state.
func (g *Gateway) State() State {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state
}

// SetState applies a new policy or refusal to every session: the tool list
// changes (clients get notifications/tools/list_changed) and later calls
// follow the new rules.
func (g *Gateway) SetState(s State) {
	g.mu.Lock()
	g.state = s
	g.syncLocked()
	g.mu.Unlock()
	g.flushPins(context.Background())
}

// Recheck judges the listed tools against the pins again (the person
// accepted a changed definition): a tool whose verdict changed appears or
// disappears, and clients are told their list changed.
func (g *Gateway) Recheck(ctx context.Context) {
	g.mu.Lock()
	g.pinned = nil
	g.syncLocked()
	g.mu.Unlock()
	g.flushPins(ctx)
}

// Stop ends access for good: in-flight calls return r's sentence and every
// later request is refused with it. The serve command calls it for the
// kill switch and then exits.
//
// The tool registry is left alone: the session is ending, and announcing a
// new tool list to every client would only slow the kill switch down.
func (g *Gateway) Stop(r *Refusal) {
	g.mu.Lock()
	g.state.Refusal = r
	g.mu.Unlock()
	g.stopFunc(r)
}

// Drain waits until every call in progress has answered and been
// recorded, or ctx ends. After Stop that is quick: forwards are cancelled.
func (g *Gateway) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Forget drops what the gateway remembers of a session that has ended.
func (g *Gateway) Forget(ss *mcp.ServerSession) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.listed, ss)
}

// Refresh forgets the upstream's tool list (it sent tools/list_changed) and
// lists it again, so new tools are judged by policy before anyone sees them.
func (g *Gateway) Refresh(ctx context.Context) error {
	g.mu.Lock()
	g.upTools = nil
	g.mu.Unlock()
	_, err := g.upstreamTools(ctx)
	return err
}

// ToolInfo is one upstream tool with the policy's verdict on it.
type ToolInfo struct {
	Tool *mcp.Tool
	Visibility
	// SHA256 is the hash of the tool's canonical definition (pin.Hash),
	// what the policy's AcceptedToolDefinitions names.
	SHA256 string
}

// Tools lists every upstream tool with its verdict, for `scispot-mcp
// tools --all`. A process-wide refusal is returned as the error.
func (g *Gateway) Tools(ctx context.Context) ([]ToolInfo, error) {
	if r := g.State().Refusal; r != nil {
		return nil, r
	}
	tools, err := g.upstreamTools(ctx)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	p := g.state.Policy
	out := make([]ToolInfo, 0, len(tools))
	for _, t := range tools {
		ti := ToolInfo{Tool: t.tool, Visibility: g.judgeLocked(t, p)}
		if c, err := pin.Canonical(t.tool); err == nil {
			ti.SHA256 = pin.Hash(c)
		}
		out = append(out, ti)
	}
	g.mu.Unlock()
	g.flushPins(ctx)
	return out, nil
}

// published is one tool as the upstream lists it, with what is wrong with
// its definition (found once per listing, not per call).
type published struct {
	tool   *mcp.Tool
	defect defect
}

// judge is the policy's verdict on a published tool, before the pins.
func (t published) judge(p policy.Policy) Visibility {
	return verdict(p, t.tool.Name, t.tool, t.defect)
}

// judge is the whole verdict on a published tool: the policy's, then, for
// a tool the policy allows, the pins' on its definition.
func (g *Gateway) judge(ctx context.Context, t published, p policy.Policy) Visibility {
	g.mu.Lock()
	v := g.judgeLocked(t, p)
	g.mu.Unlock()
	g.flushPins(ctx)
	return v
}

func (g *Gateway) judgeLocked(t published, p policy.Policy) Visibility {
	v := t.judge(p)
	if !v.Visible || g.opts.Pins == nil {
		return v
	}
	name := t.tool.Name
	pv, ok := g.pinned[name]
	if !ok || pv.def != t.tool || !slices.Equal(pv.accepted, p.AcceptedToolDefinitions) {
		pv = pinned{def: t.tool, accepted: slices.Clone(p.AcceptedToolDefinitions), verdict: g.opts.Pins.Check(t.tool, p.AcceptedToolDefinitions)}
		if g.pinned == nil {
			g.pinned = map[string]pinned{}
		}
		g.pinned[name] = pv
		for _, e := range pv.verdict.Events {
			g.pinEvents = append(g.pinEvents, pinEvent(e))
		}
	}
	if pv.verdict.Approved {
		return v
	}
	return Visibility{Reason: pv.verdict.Reason, Rule: pv.verdict.Rule, Sentence: pv.verdict.Sentence, Class: v.Class}
}

// pinEvent is the record of what the pins found.
func pinEvent(e pin.Event) Event {
	ev := Event{Kind: e.Kind, Tool: e.Tool, Outcome: OutcomeOK, Reason: e.Sentence, Args: e.Args(auditArgsLimit)}
	if e.Kind == EventToolChanged {
		ev.Outcome, ev.Rule = OutcomeDenied, pin.RuleChanged
		if e.Before == nil {
			ev.Rule = pin.RuleUnverified
		}
	}
	return ev
}

// auditArgsLimit keeps a pin record's args under the audit trail's cap
// (audit.MaxArgsBytes), which would otherwise cut them to a preview.
const auditArgsLimit = 3800

// flushPins records what the pins found since the last flush. It runs
// outside mu: records are written to disk.
func (g *Gateway) flushPins(ctx context.Context) {
	g.mu.Lock()
	events := g.pinEvents
	g.pinEvents = nil
	g.mu.Unlock()
	for _, e := range events {
		// A record that cannot be written withholds nothing more: the
		// tool's fate is already decided, fail closed where it matters.
		g.record(ctx, e)
	}
}

// inspect finds what is wrong with a tool definition: anything that puts
// text aimed at the model (or a secret) in front of it, or an input schema
// no client could use.
func (g *Gateway) inspect(t *mcp.Tool) published {
	if what := guard.InspectTool(t, g.opts.Secrets); what != "" {
		return published{tool: t, defect: defect{what: what, rule: RuleToolPoisoned}}
	}
	if !objectSchema(t.InputSchema) {
		return published{tool: t, defect: defect{what: "an input schema that is not a JSON object", rule: RuleToolHidden}}
	}
	return published{tool: t}
}

// upstreamTools lists the upstream once and caches the answer; concurrent
// callers wait for the same fetch.
func (g *Gateway) upstreamTools(ctx context.Context) ([]published, error) {
	g.mu.Lock()
	tools := g.upTools
	g.mu.Unlock()
	if tools != nil {
		return tools, nil
	}
	g.fetchMu.Lock()
	defer g.fetchMu.Unlock()
	g.mu.Lock()
	tools = g.upTools
	g.mu.Unlock()
	if tools != nil {
		return tools, nil
	}
	if g.up == nil {
		return nil, errors.New("no upstream is configured")
	}
	list, err := g.up.ListTools(ctx)
	if err != nil {
		g.mu.Lock()
		g.listErr = upstreamRefusal(err)
		g.mu.Unlock()
		return nil, err
	}
	tools = make([]published, 0, len(list))
	for _, t := range list {
		if t != nil {
			tools = append(tools, g.inspect(t))
		}
	}
	g.mu.Lock()
	g.upTools, g.listErr = tools, nil
	g.syncLocked()
	g.mu.Unlock()
	g.flushPins(ctx)
	return tools, nil
}

// syncLocked makes the server's tool registry match what a session that is
// not refused may see. The SDK sends notifications/tools/list_changed for
// every change, which is how running sessions learn of policy changes.
func (g *Gateway) syncLocked() {
	want := map[string]registration{dispatchTool: {src: g.dispatch, tool: g.dispatch}}
	switch {
	case g.state.Refusal != nil:
		st := statusTool(g.state.Refusal)
		want[StatusToolName] = registration{src: st, tool: st}
	default:
		for _, t := range g.upTools {
			if v := g.judgeLocked(t, g.state.Policy); v.Visible {
				want[t.tool.Name] = registration{src: t.tool, tool: asListed(t.tool, v.Class)}
			}
		}
	}
	var remove []string
	for name, r := range g.registered {
		if w, ok := want[name]; !ok || !w.same(r) {
			remove = append(remove, name)
		}
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		g.server.RemoveTools(remove...)
		for _, name := range remove {
			delete(g.registered, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := g.registered[name]; ok {
			continue
		}
		r := want[name]
		g.server.AddTool(r.tool, g.handler)
		g.registered[name] = r
	}
}

// registration is a tool in the server's registry: the definition it came
// from and the one clients see.
type registration struct {
	src, tool *mcp.Tool
}

// same reports whether r registers the same definition with the same
// classification as o, so that a policy change that changes neither does
// not announce a new list.
func (r registration) same(o registration) bool {
	if r.src != o.src {
		return false
	}
	a, b := r.tool.Annotations, o.tool.Annotations
	if a == nil || b == nil {
		return a == b
	}
	return a.ReadOnlyHint == b.ReadOnlyHint && (a.DestructiveHint == nil) == (b.DestructiveHint == nil) &&
		(a.DestructiveHint == nil || *a.DestructiveHint == *b.DestructiveHint)
}

// asListed is a tool's definition as clients see it: the upstream's, with
// readOnlyHint and destructiveHint saying what the gateway classified it
// as, so a client that lets "read-only" tools run unasked never does so
// for a tool the gateway counts as a write.
func asListed(t *mcp.Tool, class Class) *mcp.Tool {
	cp := *t
	var a mcp.ToolAnnotations
	if t.Annotations != nil {
		a = *t.Annotations
	}
	a.ReadOnlyHint = !class.Write
	if class.Write {
		a.DestructiveHint = &class.Destructive
	}
	cp.Annotations = &a
	return &cp
}

func objectSchema(s any) bool {
	var m map[string]any
	switch v := s.(type) {
	case map[string]any:
		m = v
	case nil:
		return false
	default:
		b, err := json.Marshal(v)
		if err != nil || json.Unmarshal(b, &m) != nil {
			return false
		}
	}
	return m["type"] == "object"
}

// refusalFor is the refusal that applies to one request: the process-wide
// one, or one for this particular client.
func (g *Gateway) refusalFor(client *mcp.Implementation) *Refusal {
	s := g.State()
	if s.Refusal != nil {
		return s.Refusal
	}
	if len(s.Policy.AllowedClients) > 0 {
		name := ""
		if client != nil {
			name = client.Name
		}
		return ClientRefusal(s.Policy.AllowedClients, name)
	}
	return nil
}

// ClientRefusal is the refusal for a client that reports name, or nil when
// the policy's AllowedClients patterns admit it.
func ClientRefusal(patterns []string, name string) *Refusal {
	if len(patterns) == 0 || ClientAllowed(patterns, name) {
		return nil
	}
	seen := name
	if seen == "" {
		seen = "(no name)"
	}
	return &Refusal{
		Rule:     RuleClientNotAllow,
		Sentence: fmt.Sprintf("The AI client %q is not approved for Scispot on this workstation; ask your Scispot admin to add it to the policy's AllowedClients.", seen),
	}
}

// ClientAllowed reports whether a client implementation name matches one of
// the patterns: case-insensitive, where '*' matches any run of characters.
func ClientAllowed(patterns []string, name string) bool {
	name = strings.ToLower(name)
	for _, p := range patterns {
		if globMatch(strings.ToLower(p), name) {
			return true
		}
	}
	return false
}

func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// clientOf reads the calling client's implementation info for both
// handshake styles: the SDK reads it from the request's _meta (protocol
// 2026-07-28) or from the session's initialize parameters.
func clientOf(req mcp.Request) *mcp.Implementation {
	if ir, ok := req.(*mcp.InitializeRequest); ok && ir.Params != nil {
		return ir.Params.ClientInfo
	}
	type clientInfoer interface{ ClientInfo() *mcp.Implementation }
	if ci, ok := req.(clientInfoer); ok {
		return ci.ClientInfo()
	}
	return nil
}

func canElicit(req mcp.Request) bool {
	type capser interface {
		ClientCapabilities() *mcp.ClientCapabilities
	}
	if c, ok := req.(capser); ok {
		caps := c.ClientCapabilities()
		return caps != nil && caps.Elicitation != nil
	}
	return false
}

func sessionOf(req mcp.Request) *mcp.ServerSession {
	s, _ := req.GetSession().(*mcp.ServerSession)
	return s
}
