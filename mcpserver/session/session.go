// Package session runs one audited MCP session of the gateway: it gathers
// the workstation's facts, decides access, opens the session's audit file,
// builds the gateway in front of Scispot (or the demo workspace), follows
// policy and kill-switch changes while the client is connected, and ends
// with a session.end record.
//
//	Start ─▶ Gather facts ─▶ Decide ─▶ audit.Open ─▶ gateway.New
//	Serve ─▶ client connected ─┬─ policy.Watcher  ─▶ SetState / Stop
//	                           └─ control.Watcher ─▶ Stop (kill switch, per-session stop)
//	         client gone, killed or ctx done ─▶ Drain ─▶ session.end
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

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/demo"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Config describes the session to start.
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
	// Upstream, when set, overrides the HTTP client options (tests, bench).
	Upstream *upstream.Options
	// ShutdownGrace bounds how long a stopped session waits for its
	// cancelled calls to answer; default 1 s. Cancelled calls return at
	// once, so this bounds only a call that ignores cancellation.
	ShutdownGrace time.Duration
}

// End reasons written in session.end.
const (
	EndClientLeft = "the client closed the connection"
	EndContext    = "the gateway was shut down"
)

// Session is one started session.
type Session struct {
	cfg   Config
	gw    *gateway.Gateway
	up    *upstream.Client
	audit *audit.Writer
	log   *slog.Logger

	mu      sync.Mutex
	facts   access.Facts
	refusal *gateway.Refusal // the refusal at start, recorded after session.start
	client  audit.Client     // the client, once it has identified itself
	started bool             // session.start is written
	ended   bool
}

// Start gathers the facts and builds the gateway; nothing connects
// upstream yet. An error means the session cannot even be recorded: the
// caller must not serve.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = time.Second
	}
	s := &Session{cfg: cfg, log: cfg.Logger}
	facts, token := access.Gather(ctx, cfg.Sources, cfg.Demo)
	s.facts = facts
	refusal := access.Decide(facts)

	w, err := audit.Open(statedir.AuditDir(cfg.StateDir), audit.SessionInfo{
		User:      facts.User.Name,
		Device:    cfg.Device,
		Token:     facts.TokenFingerprint,
		Transport: cfg.Transport,
	}, audit.WithSecrets(nonEmpty(token)...))
	if err != nil {
		return nil, fmt.Errorf("opening this session's audit trail: %w", err)
	}
	s.audit = w

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
			if s.gw != nil {
				s.gw.Refresh(context.Background())
			}
		}
		if cfg.Demo {
			s.up = upstream.NewInProcess(demo.NewServer(), opts)
		} else if up, err := upstream.NewHTTP(facts.Policy.Policy.UpstreamURL, token, opts); err != nil {
			refusal = &gateway.Refusal{Rule: access.RulePolicyInvalid, Sentence: fmt.Sprintf("The admin policy's UpstreamURL cannot be used: %v", err)}
		} else {
			s.up = up
		}
	}
	var up gateway.Upstream
	if s.up != nil {
		up = s.up
	}
	s.gw = gateway.New(up, gateway.State{Policy: facts.Policy.Policy, Refusal: refusal}, &gateway.Options{
		Name:     "scispot",
		Version:  cfg.Version,
		Logger:   cfg.Logger,
		Recorder: recorder{s},
	})
	s.refusal = refusal
	return s, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Gateway is the session's gateway.
func (s *Session) Gateway() *gateway.Gateway { return s.gw }

// ID is the session id in the audit trail and in control.json's
// stop_sessions.
func (s *Session) ID() string { return s.audit.Session() }

// Facts are the facts access was last decided on.
func (s *Session) Facts() access.Facts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.facts
}

// Serve connects the gateway to one client on t and returns when the
// client leaves, the kill switch or policy stops the session, or ctx ends.
// It always writes session.end.
func (s *Session) Serve(ctx context.Context, t mcp.Transport) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pt := newPendingTransport(t)
	ss, err := s.gw.Server().Connect(ctx, pt, nil)
	if err != nil {
		s.End(EndContext)
		return fmt.Errorf("starting the MCP session: %w", err)
	}
	clientGone := make(chan struct{})
	go func() { ss.Wait(); close(clientGone) }()
	stopped := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.followPolicy(ctx, stopped) }()
	go func() { defer wg.Done(); s.followControl(ctx, stopped) }()

	reason := EndClientLeft
	select {
	case <-clientGone:
	case reason = <-stopped:
	case <-ctx.Done():
		reason = EndContext
	}
	cancel()
	if reason == EndClientLeft || reason == EndContext {
		wg.Wait()
		ss.Close()
		s.End(reason)
		return nil
	}
	// Stopped by the kill switch or policy: every millisecond counts. The
	// cancelled calls answer with the stop sentence (they return at once;
	// the grace only bounds a call that does not), session.end is
	// written, and the watchers are left to end with the process.
	grace, done := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	s.gw.Drain(grace)
	pt.wait(grace)
	done()
	s.end(reason, false)
	ss.Close()
	return nil
}

// stop ends access for this session for good: in-flight calls are
// cancelled and answer with r's sentence.
func (s *Session) stop(r *gateway.Refusal, stopped chan<- string) {
	s.gw.Stop(r)
	select {
	case stopped <- r.Sentence:
	default:
	}
}

func (s *Session) followControl(ctx context.Context, stopped chan<- string) {
	w := control.NewWatcher(statedir.ControlFile(s.cfg.StateDir), control.WithLogger(s.log))
	go w.Run(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case snap := <-w.Changes():
			if snap.Killed() {
				if s.Facts().Killed() {
					// Killed before this session began: it is already in
					// the refused state and waits for a resume.
					continue
				}
				s.stop(access.KillRefusal(snap.State, snap.Err), stopped)
				return
			}
			if s.Facts().Killed() {
				s.applyResume(ctx)
			}
			if snap.Stops(s.ID()) {
				s.stop(&gateway.Refusal{Rule: access.RuleKilled, Sentence: "This session was stopped from the Scispot MCP tray on this workstation; start a new conversation to reconnect."}, stopped)
				return
			}
		}
	}
}

func (s *Session) followPolicy(ctx context.Context, stopped chan<- string) {
	w := policy.Watcher{
		Stores:  s.cfg.Sources.Policy,
		Current: s.Facts().Policy,
		Logger:  s.log,
		OnChange: func(snap policy.Snapshot) {
			s.applyPolicy(ctx, snap, stopped)
		},
	}
	if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("policy changes will not reach this session", "err", err)
	}
}

// applyPolicy re-decides access after a policy change and pushes the
// result to the running session; Enabled: false ends it like a kill.
func (s *Session) applyPolicy(ctx context.Context, snap policy.Snapshot, stopped chan<- string) {
	s.mu.Lock()
	old := s.facts
	s.mu.Unlock()
	facts := access.Refresh(ctx, s.cfg.Sources, old)
	s.mu.Lock()
	s.facts = facts
	s.mu.Unlock()
	r := access.Decide(facts)
	reason := "the admin policy changed"
	if r != nil {
		reason = r.Sentence
	}
	s.append(ctx, audit.Record{Event: audit.EventPolicyChange, Outcome: audit.OutcomeOK, Reason: reason})
	if r != nil && r.Rule == access.RuleDisabled {
		s.stop(r, stopped)
		return
	}
	if r == nil && s.up == nil {
		// Access was refused at start, so there is no upstream to reach:
		// the client must reconnect to pick up the new policy.
		r = &gateway.Refusal{Rule: "restart", Sentence: "The admin policy changed and now allows access; restart the AI client's connection to Scispot to use it."}
	}
	s.gw.SetState(gateway.State{Policy: facts.Policy.Policy, Refusal: r})
}

// applyResume handles a resume in a session that began killed: it has no
// upstream, so the client has to reconnect.
func (s *Session) applyResume(ctx context.Context) {
	s.mu.Lock()
	s.facts.Kill, s.facts.KillErr = control.State{}, nil
	facts := s.facts
	s.mu.Unlock()
	r := access.Decide(facts)
	if r == nil && s.up == nil {
		r = &gateway.Refusal{Rule: "restart", Sentence: "AI access was allowed again on this workstation; restart the AI client's connection to Scispot to use it."}
	}
	s.gw.SetState(gateway.State{Policy: facts.Policy.Policy, Refusal: r})
}

// End writes session.end once and releases the session's resources.
func (s *Session) End(reason string) { s.end(reason, true) }

// end writes session.end; graceful also says goodbye to the upstream.
func (s *Session) end(reason string, graceful bool) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()
	s.ensureStarted(context.Background(), audit.Client{})
	s.mu.Lock()
	client := s.client
	s.mu.Unlock()
	s.append(context.Background(), audit.Record{Event: audit.EventSessionEnd, Client: client, Outcome: audit.OutcomeOK, Reason: reason})
	s.audit.Close()
	if s.up != nil && graceful {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		s.up.Shutdown(ctx)
		cancel()
	}
}

func (s *Session) append(ctx context.Context, r audit.Record) (audit.Record, error) {
	rec, err := s.audit.Append(ctx, r)
	if err != nil {
		s.log.Error("audit append failed", "event", r.Event, "err", err)
	}
	return rec, err
}

// ensureStarted writes session.start (and the refusal the session began
// with) before the session's first other record. The client is known only
// once it has spoken, so the first record it causes carries it.
func (s *Session) ensureStarted(ctx context.Context, client audit.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client.IsZero() {
		s.client = client
	}
	if s.started {
		return nil
	}
	if _, err := s.audit.Append(ctx, audit.Record{Event: audit.EventSessionStart, Client: client, Outcome: audit.OutcomeOK}); err != nil {
		return err
	}
	s.started = true
	if r := s.refusal; r != nil {
		if _, err := s.audit.Append(ctx, audit.Record{Event: audit.EventRefused, Client: client, Outcome: audit.OutcomeDenied, Reason: r.Sentence}); err != nil {
			return err
		}
	}
	return nil
}

// recorder turns gateway events into audit records. session.start is
// written once, when the client first identifies itself.
type recorder struct{ s *Session }

var _ gateway.Recorder = recorder{}

func (r recorder) Record(ctx context.Context, e gateway.Event) error {
	s := r.s
	rec := audit.Record{
		Event:       audit.Event(e.Kind),
		Tool:        e.Tool,
		Args:        e.Args,
		Outcome:     audit.Outcome(e.Outcome),
		Reason:      e.Reason,
		DurationMS:  e.Duration.Milliseconds(),
		ResultBytes: int64(e.ResultBytes),
		Flags:       e.Flags,
	}
	if e.Client != nil {
		rec.Client = audit.Client{Name: e.Client.Name, Version: e.Client.Version}
	}
	if err := s.ensureStarted(ctx, rec.Client); err != nil {
		return err
	}
	if rec.Event == audit.EventSessionStart {
		return nil
	}
	_, err := s.audit.Append(ctx, rec)
	return err
}
