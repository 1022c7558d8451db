// Package session runs the gateway for real: it gathers the workstation's
// facts, decides access, builds the gateway in front of Scispot (or the
// demo workspace), gives every MCP session that connects its own audit file,
// follows policy and kill-switch changes while clients are connected, and
// ends each session with a session.end record.
//
//	Start ─▶ Gather facts ─▶ Decide ─▶ gateway.New ─▶ Host
//	Host.Serve(transport)  one client (stdio, or the CLI in memory)
//	Host.Handler()         many clients over loopback Streamable HTTP
//	      each MCP session ─▶ its own audit file: session.start … session.end
//	      policy.Watcher  ─▶ SetState (tools appear/disappear) / Enabled:false stops
//	      control.Watcher ─▶ kill switch stops all; stop_sessions ends one
//
// `scispot-mcp serve`, `call` and `tools` all go through here, so a call
// from the CLI takes exactly the path an AI client's call takes.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/demo"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Config describes the gateway to start.
type Config struct {
	Sources access.Sources
	// Demo serves the built-in demo workspace instead of Scispot.
	Demo bool
	// StateDir holds audit/ and control.json.
	StateDir string
	// Device is the protected machine id for audit records.
	Device    string
	Version   string
	Transport audit.Transport
	Logger    *slog.Logger
	// Upstream, when set, is the base for the upstream client's options.
	Upstream *upstream.Options
	// Guards, when set, replace the policy guards (NewGuards) that the
	// gateway applies by default.
	Guards gateway.Guards
	// Secrets are values besides the token that no result, tool
	// definition or audit record may carry: the account's local HTTP
	// secret.
	Secrets []string
	// PID is the process at the client's end of the session (the serve
	// relay, from peer credentials); 0 means this process.
	PID int
	// Launcher is the program that started that process (the AI client),
	// from the kernel: its Exe and Signer go into session.start.
	Launcher audit.Client
	// SessionsChanged, when set, is told when a session starts or ends
	// (the service tells the account's tray).
	SessionsChanged func()
	// ShutdownGrace bounds how long a stopped session waits for its
	// cancelled calls to answer; default 1 s. Cancelled calls return at
	// once, so this bounds only a call that ignores cancellation.
	ShutdownGrace time.Duration
	// Ask puts a write to the person in the tray, where the service
	// checks their password (approve.go); nil asks through the state
	// folder's confirm files, where nothing is checked.
	Ask func(ctx context.Context, req confirm.Request) (confirm.Answer, error)
	// FullName gives an OS account's printed name for its signatures;
	// nil prints the account name.
	FullName func(account string) (string, error)
	// Pins, when set, hold the approved definition of every allowed tool
	// of this upstream (package pin); Owner names the account whose
	// acceptances count (the service's owner key, "uid:1000"). Nil
	// pins nothing.
	Pins  *pin.Store
	Owner string
	// Checkpoints signs the trails' checkpoints (audit.Writer.Checkpoint):
	// every CheckpointEvery (default a minute) in a trail with new
	// records, and after each session.end. nil writes none: only the
	// workstation service holds a device key.
	Checkpoints     note.Signer
	CheckpointEvery time.Duration
}

// End reasons written in session.end.
const (
	EndClientLeft = "the client closed the connection"
	EndContext    = "the gateway was shut down"
	EndStopped    = "stopped from the tray"
	// EndServiceStopped: the workstation service is shutting down (an
	// upgrade, a restart); the client must reconnect.
	EndServiceStopped = "the Scispot MCP service stopped"
)

// SessionState is one live MCP session of a host.
type SessionState struct {
	ID      string
	Client  audit.Client
	Started time.Time
}

// Sessions lists the host's live sessions.
func (h *Host) Sessions() []SessionState {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	out := make([]SessionState, 0, len(conns))
	for _, c := range conns {
		c.mu.Lock()
		out = append(out, SessionState{ID: c.w.Session(), Client: c.client, Started: c.opened})
		c.mu.Unlock()
	}
	return out
}

// Host is one started gateway and the MCP sessions connected to it.
type Host struct {
	cfg    Config
	gw     *gateway.Gateway
	up     *upstream.Client
	log    *slog.Logger
	secret []string // the token and Config.Secrets: kept out of results and records
	// approver asks the person to sign writes (approve.go).
	approver *approver

	watchOnce sync.Once
	// stopped is closed when the kill switch or policy ends all access;
	// stopReason says why.
	stopped    chan struct{}
	stopOnce   sync.Once
	stopReason string

	mu      sync.Mutex
	facts   access.Facts
	refusal *gateway.Refusal // the refusal at start, recorded in each session
	// conns holds each MCP session's trail, keyed by its *mcp.ServerSession,
	// or by statelessKey for requests that carry no session.
	conns map[any]*conn
}

// statelessKey names the trail of stateless HTTP requests (protocol
// 2026-07-28 and later): each request gets a fresh SDK session, so they
// are gathered in one trail per client for the life of the server.
type statelessKey struct{ name, version string }

// conn is one MCP session's audit trail.
type conn struct {
	key any
	ss  *mcp.ServerSession
	w   *audit.Writer
	// stop is closed when this session alone is stopped from the tray.
	stop     chan struct{}
	stopOnce sync.Once

	// endOnce writes session.end. Callers that lose the race wait in Do
	// until it is on disk: the process may exit as soon as they return.
	endOnce sync.Once

	mu      sync.Mutex
	client  audit.Client
	started bool
	opened  time.Time
}

// Start gathers the facts and builds the gateway; nothing connects
// upstream yet.
func Start(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = time.Second
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = time.Minute
	}
	if err := statedir.Ensure(cfg.StateDir); err != nil {
		return nil, fmt.Errorf("preparing the state folder for the audit trail: %w", err)
	}
	h := &Host{cfg: cfg, log: cfg.Logger, stopped: make(chan struct{}), conns: map[any]*conn{}}
	facts, token := access.Gather(ctx, cfg.Sources, cfg.Demo)
	h.facts = facts
	for _, sec := range append([]string{token}, cfg.Secrets...) {
		if sec != "" {
			h.secret = append(h.secret, sec)
		}
	}
	refusal := access.Decide(facts)
	if refusal == nil {
		opts := &upstream.Options{}
		if cfg.Upstream != nil {
			*opts = *cfg.Upstream
		}
		if opts.Logger == nil {
			opts.Logger = cfg.Logger
		}
		if opts.ClientInfo == nil {
			opts.ClientInfo = &mcp.Implementation{Name: "scispot-mcp-desktop", Version: cfg.Version}
		}
		opts.OnToolsChanged = func() {
			if h.gw != nil {
				h.gw.Refresh(context.Background())
			}
		}
		if cfg.Demo {
			h.up = upstream.NewInProcess(demo.NewServer(), opts)
		} else if up, r := newUpstream(facts.Policy.Policy, token, opts); r != nil {
			refusal = r
		} else {
			h.up = up
		}
	}
	h.refusal = refusal
	if cfg.Guards == nil {
		g, err := NewGuards(cfg.StateDir, func() string { return facts.User.Name })
		if err != nil {
			return nil, err
		}
		cfg.Guards = g
	}
	h.approver = &approver{h: h, ask: cfg.Ask, fullName: cfg.FullName, now: time.Now}
	var up gateway.Upstream
	if h.up != nil {
		up = h.up
	}
	var pins *pin.View
	if cfg.Pins != nil {
		pins = cfg.Pins.View(pin.Scope(cfg.Demo, facts.Policy.Policy.UpstreamURL), cfg.Owner)
	}
	h.gw = gateway.New(up, gateway.State{Policy: facts.Policy.Policy, Refusal: refusal}, &gateway.Options{
		Name:     "scispot",
		Version:  cfg.Version,
		Logger:   cfg.Logger,
		Recorder: recorder{h},
		Guards:   cfg.Guards,
		Secrets:  redact.New(h.secret...),
		Approver: h.approver,
		Pins:     pins,
	})
	return h, nil
}

// newUpstream connects to Scispot as the policy says: its UpstreamURL,
// through its UpstreamProxy and nothing from any environment.
func newUpstream(p policy.Policy, token string, opts *upstream.Options) (*upstream.Client, *gateway.Refusal) {
	refuse := func(key string, err error) *gateway.Refusal {
		return &gateway.Refusal{Rule: access.RulePolicyInvalid, Sentence: fmt.Sprintf("The admin policy's %s cannot be used: %v", key, err)}
	}
	proxy, err := upstream.ParseProxyURL(p.UpstreamProxy)
	if err != nil {
		return nil, refuse("UpstreamProxy", err)
	}
	opts.Proxy = proxy
	up, err := upstream.NewHTTP(p.UpstreamURL, token, opts)
	switch {
	case errors.Is(err, upstream.ErrInvalidProxy):
		return nil, refuse("UpstreamProxy", err)
	case err != nil:
		return nil, refuse("UpstreamURL", err)
	}
	return up, nil
}

// Gateway is the host's gateway.
func (h *Host) Gateway() *gateway.Gateway { return h.gw }

// Facts are the facts access was last decided on.
func (h *Host) Facts() access.Facts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.facts
}

// Stopped is closed once the kill switch or the policy has ended all
// access; StopReason then says why.
func (h *Host) Stopped() <-chan struct{} { return h.stopped }

// StopReason is the sentence that stopped the host.
func (h *Host) StopReason() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopReason
}

// Serve connects the gateway to one client on t and returns when the
// client leaves, the kill switch or policy stops access, this session is
// stopped from the tray, or ctx ends. It always writes session.end.
func (h *Host) Serve(ctx context.Context, t mcp.Transport) error {
	// The watchers follow the caller's ctx, not this call's: a killed
	// serve exits right after Serve returns, and waking them to close
	// their notification handles would only hold up that exit.
	h.Watch(ctx)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pt := newPendingTransport(t)
	ss, err := h.gw.Server().Connect(ctx, pt, nil)
	if err != nil {
		return fmt.Errorf("starting the MCP session: %w", err)
	}
	c, err := h.connFor(ss, nil)
	if err != nil {
		ss.Close()
		return err
	}
	clientGone := make(chan struct{})
	go func() { ss.Wait(); close(clientGone) }()

	var reason string
	select {
	case <-clientGone:
		h.endConn(c, EndClientLeft)
		return nil
	case <-ctx.Done():
		ss.Close()
		h.endConn(c, EndContext)
		return nil
	case <-h.stopped:
		reason = h.StopReason()
	case <-c.stop:
		reason = EndStopped
	}
	// Stopped: every millisecond counts. Cancelled calls answer with the
	// stop sentence, session.end is written, and the process may exit.
	grace, done := context.WithTimeout(context.Background(), h.cfg.ShutdownGrace)
	h.gw.Drain(grace)
	pt.wait(grace)
	done()
	h.endConn(c, reason)
	// Closing the SDK session waits on its reader, which may sit in a read
	// of stdin: the trail is complete, so let the caller exit meanwhile.
	go ss.Close()
	return nil
}

// Close ends every session still open (for a shutting-down HTTP server)
// and says goodbye to the upstream.
func (h *Host) Close(reason string) {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		h.endConn(c, reason)
	}
	if h.up != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		h.up.Shutdown(ctx)
		cancel()
	}
}

// Watch starts following policy and the kill switch (once per host) until
// ctx ends.
func (h *Host) Watch(ctx context.Context) {
	h.watchOnce.Do(func() {
		go h.followPolicy(ctx)
		go h.followControl(ctx)
		if h.cfg.Checkpoints != nil {
			go h.checkpointEvery(ctx)
		}
	})
}

// checkpointEvery writes a checkpoint into every trail that has new
// records, each CheckpointEvery, until ctx ends.
func (h *Host) checkpointEvery(ctx context.Context) {
	t := time.NewTicker(h.cfg.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.stopped:
			return // every session ends now, each with its last checkpoint
		case <-t.C:
		}
		h.mu.Lock()
		conns := make([]*conn, 0, len(h.conns))
		for _, c := range h.conns {
			conns = append(conns, c)
		}
		h.mu.Unlock()
		for _, c := range conns {
			h.checkpoint(c)
		}
	}
}

// checkpoint writes c's checkpoint if it has new records. A trail closed
// meanwhile has had its last one written by endConn.
func (h *Host) checkpoint(c *conn) {
	if h.cfg.Checkpoints == nil {
		return
	}
	if _, _, err := c.w.Checkpoint(h.cfg.Checkpoints); err != nil && !errors.Is(err, audit.ErrClosed) {
		h.log.Error("writing the trail's checkpoint", "file", c.w.Path(), "err", err)
	}
}

// stopAll ends access for good: in-flight calls are cancelled and answer
// with r's sentence; every session is told to end.
func (h *Host) stopAll(r *gateway.Refusal) {
	h.stopOnce.Do(func() {
		h.mu.Lock()
		h.stopReason = r.Sentence
		h.mu.Unlock()
		h.gw.Stop(r)
		close(h.stopped)
	})
}

func (h *Host) followControl(ctx context.Context) {
	w := control.NewWatcher(statedir.ControlFile(h.cfg.StateDir), control.WithLogger(h.log))
	go w.Run(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case snap := <-w.Changes():
			if snap.Killed() {
				if h.Facts().Killed() {
					// Killed before this host started: it is already in the
					// refused state and waits for a resume.
					continue
				}
				h.stopAll(access.KillRefusal(snap.State, snap.Err))
				return
			}
			if h.Facts().Killed() {
				h.applyResume()
			}
			h.mu.Lock()
			for _, c := range h.conns {
				if snap.Stops(c.w.Session()) {
					c.stopOnce.Do(func() { close(c.stop) })
				}
			}
			h.mu.Unlock()
		}
	}
}

func (h *Host) followPolicy(ctx context.Context) {
	w := policy.Watcher{
		Stores:   h.cfg.Sources.Policy,
		Current:  h.Facts().Policy,
		Logger:   h.log,
		OnChange: func(snap policy.Snapshot) { h.log.Debug("policy changed", "err", snap.Err); h.applyPolicy(ctx) },
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		h.log.Warn("policy changes will not reach this gateway", "err", err)
	}
}

// applyPolicy re-decides access after a policy change and pushes the
// result to the running sessions; Enabled: false ends them like a kill.
func (h *Host) applyPolicy(ctx context.Context) {
	facts := access.Refresh(ctx, h.cfg.Sources, h.Facts())
	h.mu.Lock()
	h.facts = facts
	h.mu.Unlock()
	r := access.Decide(facts)
	reason := "the admin policy changed"
	if r != nil {
		reason = r.Sentence
	}
	h.log.Debug("policy applied", "refusal", reason)
	h.recordAll(audit.Record{Event: audit.EventPolicyChange, Outcome: audit.OutcomeOK, Reason: reason})
	if r != nil && r.Rule == access.RuleDisabled {
		h.stopAll(r)
		return
	}
	h.setState(facts, r)
}

// applyResume handles a resume in a host that started killed.
func (h *Host) applyResume() {
	h.mu.Lock()
	h.facts.Kill, h.facts.KillErr = control.State{}, nil
	facts := h.facts
	h.mu.Unlock()
	h.setState(facts, access.Decide(facts))
}

func (h *Host) setState(facts access.Facts, r *gateway.Refusal) {
	if r == nil && h.up == nil {
		// Access was refused at start, so there is no upstream to reach:
		// the client must reconnect to pick up the change.
		r = &gateway.Refusal{Rule: "restart", Sentence: "AI access to Scispot is now allowed on this workstation; restart the AI client's connection to Scispot to use it."}
	}
	h.gw.SetState(gateway.State{Policy: facts.Policy.Policy, Refusal: r})
}

// connFor returns the audit trail of an MCP session, opening its file on
// first use; a watcher writes session.end when the SDK closes the session.
// A stateless HTTP request joins its client's trail instead.
func (h *Host) connFor(ss *mcp.ServerSession, client *mcp.Implementation) (*conn, error) {
	var key any = ss
	stateless := ss != nil && h.cfg.Transport == audit.TransportHTTP && ss.ID() == ""
	if stateless {
		k := statelessKey{}
		if client != nil {
			k = statelessKey{client.Name, client.Version}
		}
		key = k
		// The request's session ends with the request: forget it then,
		// but keep the trail.
		go func() { ss.Wait(); h.gw.Forget(ss) }()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.conns[key]; ok {
		return c, nil
	}
	facts := h.facts
	w, err := audit.Open(statedir.AuditDir(h.cfg.StateDir), audit.SessionInfo{
		PID:       h.cfg.PID,
		User:      facts.User.Name,
		Device:    h.cfg.Device,
		Token:     facts.TokenFingerprint,
		Transport: h.cfg.Transport,
	}, audit.WithSecrets(h.secret...))
	if err != nil {
		return nil, fmt.Errorf("opening this session's audit trail: %w", err)
	}
	c := &conn{key: key, ss: ss, w: w, stop: make(chan struct{}), opened: time.Now()}
	h.conns[key] = c
	if h.cfg.SessionsChanged != nil {
		defer h.cfg.SessionsChanged()
	}
	if ss != nil && !stateless {
		go func() { ss.Wait(); h.endConn(c, EndClientLeft) }()
	}
	return c, nil
}

// ensureStarted writes session.start (and the refusal the host began
// with) before the session's first other record. The client is known only
// once it has spoken, so the first record it causes carries it.
func (h *Host) ensureStarted(ctx context.Context, c *conn, client audit.Client) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client.IsZero() {
		c.client = client
	}
	if c.started {
		return nil
	}
	start := client
	start.Exe, start.Signer = h.cfg.Launcher.Exe, h.cfg.Launcher.Signer
	if _, err := c.w.Append(ctx, audit.Record{Event: audit.EventSessionStart, Client: start, Outcome: audit.OutcomeOK}); err != nil {
		return err
	}
	c.started = true
	if r := h.refusal; r != nil {
		// The launcher goes in too: a refusal by AllowedClientExecutables
		// or AllowedClientSigners is about it.
		if _, err := c.w.Append(ctx, audit.Record{Event: audit.EventRefused, Client: start, Outcome: audit.OutcomeDenied, Reason: r.Sentence, Rule: r.Rule}); err != nil {
			return err
		}
	}
	return nil
}

// endConn writes session.end once and closes the session's file. Every
// caller returns only once the record is written: Serve's caller exits the
// process right after, and the SDK's own end-of-session callback may be
// the one writing it.
func (h *Host) endConn(c *conn, reason string) {
	c.endOnce.Do(func() {
		ctx := context.Background()
		h.ensureStarted(ctx, c, audit.Client{})
		c.mu.Lock()
		client := c.client
		c.mu.Unlock()
		if _, err := c.w.Append(ctx, audit.Record{Event: audit.EventSessionEnd, Client: client, Outcome: audit.OutcomeOK, Reason: reason}); err != nil {
			h.log.Error("writing session.end", "err", err)
		}
		// The trail's last record: what it held when it ended, signed.
		h.checkpoint(c)
		c.w.Close()
		if h.gw != nil && c.ss != nil {
			h.gw.Forget(c.ss)
		}
		h.mu.Lock()
		delete(h.conns, c.key)
		h.mu.Unlock()
		if h.cfg.SessionsChanged != nil {
			h.cfg.SessionsChanged()
		}
	})
}

// recordAll writes r into every open session's trail.
func (h *Host) recordAll(r audit.Record) {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		if err := h.ensureStarted(context.Background(), c, audit.Client{}); err == nil {
			c.w.Append(context.Background(), r)
		}
	}
}

func isPinEvent(kind string) bool {
	switch kind {
	case gateway.EventToolPinned, gateway.EventToolChanged, gateway.EventToolAccepted:
		return true
	}
	return false
}

// recordPin writes what the pins found — which concerns every session of
// this upstream, not the one whose request happened to list it — into
// every open session's trail, or, with none open (`tools --all`), into a
// trail of its own.
func (h *Host) recordPin(ctx context.Context, r audit.Record) error {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for _, c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	if len(conns) == 0 {
		c, err := h.connFor(nil, nil)
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	var errs []error
	for _, c := range conns {
		c.mu.Lock()
		client := c.client
		c.mu.Unlock()
		r.Client = client
		if err := h.ensureStarted(ctx, c, client); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := c.w.Append(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// recorder turns gateway events into audit records in the session's file.
type recorder struct{ h *Host }

var _ gateway.Recorder = recorder{}

func (r recorder) Record(ctx context.Context, e gateway.Event) error {
	rec := audit.Record{
		Event:       audit.Event(e.Kind),
		Tool:        e.Tool,
		Args:        e.Args,
		Outcome:     audit.Outcome(e.Outcome),
		Reason:      e.Reason,
		Rule:        e.Rule,
		DurationMS:  e.Duration.Milliseconds(),
		ResultBytes: int64(e.ResultBytes),
		Flags:       e.Flags,
		Signature:   e.Signature,
		Change:      e.Change,
	}
	if e.Client != nil {
		rec.Client = audit.Client{Name: e.Client.Name, Version: e.Client.Version}
	}
	if e.Session == nil && isPinEvent(e.Kind) {
		return r.h.recordPin(ctx, rec)
	}
	c, err := r.h.connFor(e.Session, e.Client)
	if err != nil {
		return err
	}
	if err := r.h.ensureStarted(ctx, c, rec.Client); err != nil {
		return err
	}
	if rec.Event == audit.EventSessionStart {
		return nil
	}
	_, err = c.w.Append(ctx, rec)
	return err
}

// trailOf names the audit session a call belongs to: a stdio session's
// own, or the trail a stateless HTTP client's requests share.
func (h *Host) trailOf(ctx context.Context, ss *mcp.ServerSession, client *mcp.Implementation) (string, error) {
	c, err := h.connFor(ss, client)
	if err != nil {
		return "", err
	}
	return c.w.Session(), nil
}

// appendRecord writes a record of a call's own (its signature) into the
// call's session trail, and returns it as written.
func (h *Host) appendRecord(ctx context.Context, ss *mcp.ServerSession, client *mcp.Implementation, rec audit.Record) (audit.Record, error) {
	c, err := h.connFor(ss, client)
	if err != nil {
		return audit.Record{}, err
	}
	if client != nil {
		rec.Client = audit.Client{Name: client.Name, Version: client.Version}
	}
	if err := h.ensureStarted(ctx, c, rec.Client); err != nil {
		return audit.Record{}, err
	}
	return c.w.Append(context.WithoutCancel(ctx), rec)
}
