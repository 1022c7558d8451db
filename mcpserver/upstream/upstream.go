// Package upstream is the gateway's connection to Scispot's MCP server: the
// remote one over Streamable HTTP with the user's token as a Bearer header,
// or the in-process demo workspace. Both go through the same MCP client
// session code, so the gateway cannot tell them apart.
//
//	c, err := upstream.NewHTTP("https://mcp.scispot.io/", token, &upstream.Options{
//		OnToolsChanged: gw.RefreshLater,
//	})
//	if err != nil { … } // a bad URL; nothing has connected yet
//	defer c.Close()
//	tools, err := c.ListTools(ctx) // connects now
//
// Failures come back as *Error, whose text is one sentence a scientist can
// act on ("Scispot did not answer: connection refused.") and whose Kind the
// gateway can branch on. The token appears in no error and no log line.
//
// The connection is made on first use, shared by concurrent calls, and
// made again once if it breaks. Read-only tools are retried once when
// Scispot is unavailable; writes never are, unless the wire proves the
// upstream never saw them.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// Upstream is what the gateway needs from Scispot's MCP server.
type Upstream interface {
	// ListTools returns every tool the upstream publishes (all pages).
	ListTools(ctx context.Context) ([]*mcp.Tool, error)
	// CallTool forwards one call. A result with IsError set is a result,
	// not an error.
	CallTool(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error)
	Close() error
}

var _ Upstream = (*Client)(nil)

// Options configure a Client. Nil or zero fields take the defaults.
type Options struct {
	// Timeout bounds each ListTools or CallTool, connecting and the retry
	// included. Default 60 s.
	Timeout time.Duration
	// Proxy is the HTTP proxy to reach the remote upstream through (policy
	// key UpstreamProxy, parsed by ParseProxyURL); nil connects directly.
	// It is the only proxy used: HTTPS_PROXY, HTTP_PROXY and NO_PROXY in
	// the environment are ignored. A plain-http (loopback) upstream may go
	// only through a loopback proxy, so the token never crosses the
	// network in the clear.
	Proxy *url.URL
	// HTTPClient is used for the remote upstream; nil means a client with
	// TLS 1.2+, Proxy (never one from the environment), the system's CA
	// certificates (never SSL_CERT_FILE or SSL_CERT_DIR) and
	// connect/handshake timeouts. A client without a Transport gets that
	// transport too; one with its own Transport (tests) is used as it is,
	// and then Proxy must be nil. Its Transport is wrapped to add the
	// token; it should have no overall Timeout, since the upstream's event
	// stream stays open.
	HTTPClient *http.Client
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
	// OnToolsChanged is called, on its own goroutine, after the upstream
	// sends notifications/tools/list_changed. Bursts are coalesced.
	OnToolsChanged func()
	// ClientInfo is what we tell the upstream we are; default
	// {Name: "scispot-mcp-desktop", Version: the module version}.
	ClientInfo *mcp.Implementation
	// Backoff is the pause before retrying a read; default 300 ms.
	Backoff time.Duration
	// Now reads the clock, for Retry-After dates; default time.Now.
	Now func() time.Time
}

const (
	defaultTimeout = 60 * time.Second
	defaultBackoff = 300 * time.Millisecond

	// protocolVersion is the MCP version we open sessions with. It is the
	// newest one negotiated with initialize: Scispot's server speaks the
	// session-based Streamable HTTP protocol, and starting there saves the
	// server/discover probe (and its fallback round trip) on every connect.
	protocolVersion = "2025-11-25"

	// maxPages stops a server that keeps handing out cursors.
	maxPages = 1000
)

// Client is an Upstream. It is safe for concurrent use.
type Client struct {
	opts     Options
	mcp      *mcp.Client
	log      *slog.Logger
	classify classifier
	dial     func(ctx context.Context) (*session, error)
	remote   bool            // the wire can be observed (see probe)
	owned    *http.Transport // closed with the Client; nil if the caller's

	changed chan struct{} // list_changed seen; capacity 1 so bursts coalesce
	quit    chan struct{} // closed by Close

	// abort is cancelled when Shutdown stops waiting: every HTTP request
	// to the upstream is then cut.
	abort       context.Context
	cancelAbort context.CancelFunc

	mu       sync.Mutex
	sess     *session     // the live session, nil before the first call or after a break
	dialing  *pendingDial // non-nil while one caller connects
	closed   bool
	notifier bool           // the OnToolsChanged goroutine is running
	wg       sync.WaitGroup // goroutines the Client started; Add only under mu while !closed
}

// pendingDial is a connect in progress; callers that arrive meanwhile wait for it.
type pendingDial struct {
	done chan struct{} // closed when the connect has finished
	err  error         // its failure, set before done is closed
}

// session is one MCP session with the upstream.
type session struct {
	cs    *mcp.ClientSession
	ended chan struct{} // closed when the connection is gone, whoever ended it
	stop  func() error  // idempotent
}

func (s *session) isEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// NewHTTP returns a Client for the Streamable HTTP MCP server at rawURL,
// which ParseURL must accept, through opts.Proxy if set. It does not
// connect.
func NewHTTP(rawURL, token string, opts *Options) (*Client, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, ErrNoToken
	}
	if opts != nil && opts.Proxy != nil {
		if err := checkProxy(opts.Proxy); err != nil {
			return nil, err
		}
		if u.Scheme == "http" && !isLoopbackHost(opts.Proxy.Hostname()) {
			return nil, fmt.Errorf("%w: the plain-http endpoint on %s may only be reached through a proxy on this machine, not %s",
				ErrInvalidProxy, u.Hostname(), opts.Proxy.Hostname())
		}
		if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
			return nil, fmt.Errorf("%w: a proxy cannot be combined with an HTTP client that brings its own transport", ErrInvalidProxy)
		}
	}
	c := newClient(opts, token)
	c.remote = true
	var hc *http.Client
	hc, c.owned = newHTTPClient(c.opts.HTTPClient, c.opts.Proxy, originOf(u), token, c.abort)
	endpoint := u.String()
	c.dial = func(ctx context.Context) (*session, error) {
		t := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc}
		// The connect has its own probe: the SDK keeps this context's
		// values for the connection's life, and later traffic must not be
		// mistaken for the first call's.
		p := &probe{}
		ctx = withProbe(ctx, p)
		cs, err := c.mcp.Connect(ctx, t, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
		if err != nil {
			return nil, c.classify.classify(ctx, fmt.Errorf("connecting to %s: %w", u.Redacted(), err), p.snapshot())
		}
		c.log.Debug("connected to Scispot", "url", u.Redacted(), "session", cs.ID())
		return newSession(cs, cs.Close), nil
	}
	return c, nil
}

// NewInProcess returns a Client for an MCP server in this process (the demo
// workspace), joined through in-memory transports on first use.
func NewInProcess(srv *mcp.Server, opts *Options) *Client {
	c := newClient(opts, "")
	c.dial = func(ctx context.Context) (*session, error) {
		ct, st := mcp.NewInMemoryTransports()
		ss, err := srv.Connect(context.WithoutCancel(ctx), st, nil)
		if err != nil {
			return nil, c.classify.classify(ctx, fmt.Errorf("starting the in-process server session: %w", err), wire{})
		}
		cs, err := c.mcp.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: protocolVersion})
		if err != nil {
			_ = ss.Close()
			return nil, c.classify.classify(ctx, fmt.Errorf("connecting to the in-process server: %w", err), wire{})
		}
		return newSession(cs, func() error {
			err := cs.Close()
			_ = ss.Close()
			return err
		}), nil
	}
	return c
}

func newClient(opts *Options, token string) *Client {
	c := &Client{changed: make(chan struct{}, 1), quit: make(chan struct{})}
	c.abort, c.cancelAbort = context.WithCancel(context.Background())
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Timeout <= 0 {
		c.opts.Timeout = defaultTimeout
	}
	if c.opts.Backoff <= 0 {
		c.opts.Backoff = defaultBackoff
	}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	c.log = c.opts.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	info := c.opts.ClientInfo
	if info == nil {
		info = &mcp.Implementation{Name: "scispot-mcp-desktop", Version: moduleVersion()}
	}
	c.classify = classifier{timeout: c.opts.Timeout, now: c.opts.Now, redact: redact.New(token)}
	c.mcp = mcp.NewClient(info, &mcp.ClientOptions{
		Logger: c.log,
		// No roots, sampling or elicitation: the gateway only lists and calls.
		Capabilities: &mcp.ClientCapabilities{},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case c.changed <- struct{}{}:
			default: // one is already pending
			}
		},
	})
	return c
}

func newSession(cs *mcp.ClientSession, stop func() error) *session {
	s := &session{cs: cs, ended: make(chan struct{})}
	s.stop = sync.OnceValue(stop)
	return s
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// ListTools returns every tool the upstream publishes, across all pages.
func (c *Client) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	var tools []*mcp.Tool
	err := c.do(ctx, catalog.Read, func(ctx context.Context, cs *mcp.ClientSession) error {
		tools = nil
		params := &mcp.ListToolsParams{}
		seen := map[string]bool{}
		for range maxPages {
			res, err := cs.ListTools(ctx, params)
			if err != nil {
				return err
			}
			tools = append(tools, res.Tools...)
			if res.NextCursor == "" {
				return nil
			}
			if seen[res.NextCursor] {
				return errRepeatedCursor
			}
			seen[res.NextCursor] = true
			params = &mcp.ListToolsParams{Cursor: res.NextCursor}
		}
		return errRepeatedCursor
	})
	if err != nil {
		return nil, err
	}
	return tools, nil
}

// errRepeatedCursor is a tools/list that never ends.
var errRepeatedCursor = errors.New("its tool list never ends (the page cursor repeats)")

// CallTool forwards one tool call. The result comes back exactly as the
// upstream sent it, including IsError results.
func (c *Client) CallTool(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	if params == nil || params.Name == "" {
		return nil, errors.New("calling a Scispot tool: no tool name")
	}
	var res *mcp.CallToolResult
	err := c.do(ctx, catalog.Lookup(params.Name).Kind, func(ctx context.Context, cs *mcp.ClientSession) error {
		var err error
		res, err = cs.CallTool(ctx, params)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// closeGrace is how long Close waits for the upstream to acknowledge the
// end of the session.
const closeGrace = 2 * time.Second

// Close is Shutdown with a two-second grace.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
	defer cancel()
	return c.Shutdown(ctx)
}

// Shutdown ends the session, telling the upstream, and stops what the
// Client started. Calls in flight fail; later calls return ErrClosed. When
// ctx is done before the upstream has answered, every request still open is
// cut, so Shutdown returns promptly (the kill switch must not wait on a
// slow server).
func (c *Client) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	s := c.sess
	c.sess = nil
	close(c.quit)
	c.mu.Unlock()

	unhook := context.AfterFunc(ctx, c.cancelAbort)
	defer unhook()
	var err error
	if s != nil {
		if serr := s.stop(); serr != nil && !errors.Is(serr, io.EOF) {
			err = fmt.Errorf("closing the Scispot session: %w", serr)
		}
	}
	c.wg.Wait()
	c.cancelAbort()
	if c.owned != nil {
		c.owned.CloseIdleConnections()
	}
	return err
}

// do runs op under the per-call timeout on a live session, retrying once
// when that is safe.
func (c *Client) do(ctx context.Context, kind catalog.Kind, op func(context.Context, *mcp.ClientSession) error) error {
	if ctx.Err() != nil {
		return c.classify.classify(ctx, ctx.Err(), wire{})
	}
	ctx, release := detach(ctx)
	defer release()
	ctx, cancel := context.WithTimeoutCause(ctx, c.opts.Timeout, errTimedOut)
	defer cancel()

	gone, err := c.attempt(ctx, op)
	if err == nil {
		return nil
	}
	switch {
	case gone.replayable(kind) && ctx.Err() == nil:
		// The session was gone: send the request again on a new one. A
		// write only when the wire shows it never reached Scispot.
		c.log.Info("Scispot session ended; reconnecting", "kind", KindOf(err).String())
	case kind == catalog.Read && KindOf(err) == Unavailable && ctx.Err() == nil:
		c.log.Info("Scispot unavailable; retrying a read once", "error", err.Error(), "backoff", c.opts.Backoff)
		t := time.NewTimer(c.opts.Backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return c.classify.classify(ctx, err, wire{})
		}
	default:
		return err
	}
	_, err = c.attempt(ctx, op)
	return err
}

// detach returns a context with ctx's cancellation, cause and deadline but
// none of its values. The caller's context is the gateway's inbound
// request, and the go-sdk keeps request state in context values (over HTTP
// the client's MCP-Protocol-Version): carried into the upstream leg, a
// 2026-07-28 client's version was sent to Scispot, which refused it.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancelCause(context.Background())
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	release := func() { stop(); cancel(nil) }
	if dl, ok := ctx.Deadline(); ok {
		var cancelDL context.CancelFunc
		out, cancelDL = context.WithDeadline(out, dl)
		return out, func() { cancelDL(); release() }
	}
	return out, release
}

// lostSession describes an attempt that failed because the session was
// gone.
type lostSession struct {
	gone        bool // the upstream no longer had the session, or the connection ended
	undelivered bool // and the wire proves the request never reached it
}

func (l lostSession) replayable(kind catalog.Kind) bool {
	return l.gone && (kind == catalog.Read || l.undelivered)
}

// attempt runs op once on a live session, reporting whether a failure was
// a lost session.
func (c *Client) attempt(ctx context.Context, op func(context.Context, *mcp.ClientSession) error) (lostSession, error) {
	s, err := c.session(ctx)
	if err != nil {
		return lostSession{}, err
	}
	p := &probe{}
	err = op(withProbe(ctx, p), s.cs)
	if err == nil {
		return lostSession{}, nil
	}
	w := p.snapshot()
	// A 404 means the upstream no longer knows the session, whether or not
	// the SDK recognised it (it does not when the body is a JSON-RPC error
	// with the request's id).
	gone := errors.Is(err, mcp.ErrSessionMissing) || errors.Is(err, mcp.ErrConnectionClosed) ||
		w.status == http.StatusNotFound || s.isEnded()
	classified := c.classify.classify(ctx, err, w)
	if ctx.Err() == nil && (gone || breaksSession(classified)) {
		c.discard(s)
	}
	// In process there is no wire to prove anything, so a write is never
	// sent twice there.
	return lostSession{gone: gone, undelivered: c.remote && w.undelivered()}, classified
}

// breaksSession reports whether, after err, the session should not be used
// again. The SDK keeps sessions through 429 and 5xx answers, and a JSON-RPC
// error is an answer; anything else may have left it half-broken, and a new
// session costs one round trip.
func breaksSession(err error) bool {
	switch KindOf(err) {
	case Unauthorized, BadResponse:
		return true
	case Unavailable:
		var e *Error
		return errors.As(err, &e) && e.Status == 0
	}
	return false
}

// session returns the live session, connecting if there is none. One
// caller connects at a time; the others wait for it, or for their ctx.
func (c *Client) session(ctx context.Context) (*session, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, ErrClosed
		}
		if s := c.sess; s != nil {
			if !s.isEnded() {
				c.mu.Unlock()
				return s, nil
			}
			c.sess = nil
			c.retireLocked(s)
		}
		if d := c.dialing; d != nil {
			c.mu.Unlock()
			select {
			case <-d.done:
				// Share a failure, so a dead upstream is asked once, not once
				// per waiting caller; but a connect that its own caller
				// cancelled says nothing about the upstream: try again.
				if d.err != nil && KindOf(d.err) != 0 {
					return nil, d.err
				}
				continue
			case <-ctx.Done():
				return nil, c.classify.classify(ctx, ctx.Err(), wire{})
			}
		}
		d := &pendingDial{done: make(chan struct{})}
		c.dialing = d
		c.mu.Unlock()

		s, err := c.dial(ctx)

		c.mu.Lock()
		c.dialing = nil
		d.err = err
		close(d.done)
		if err == nil && c.closed {
			c.mu.Unlock()
			_ = s.stop()
			return nil, ErrClosed
		}
		if err == nil {
			c.sess = s
			c.startLocked(s)
		}
		c.mu.Unlock()
		return s, err
	}
}

// startLocked starts the goroutines that watch a new session: one that
// notices the connection ending and, once per Client, the OnToolsChanged
// notifier.
func (c *Client) startLocked(s *session) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = s.cs.Wait()
		close(s.ended)
	}()
	if c.opts.OnToolsChanged != nil && !c.notifier {
		c.notifier = true
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for {
				select {
				case <-c.changed:
					c.opts.OnToolsChanged()
				case <-c.quit:
					return
				}
			}
		}()
	}
}

// discard drops s if it is still the live session, closing it in the
// background so the caller's error returns at once.
func (c *Client) discard(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == s {
		c.sess = nil
		c.retireLocked(s)
	}
}

func (c *Client) retireLocked(s *session) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := s.stop(); err != nil && !errors.Is(err, io.EOF) {
			c.log.Debug("closing a broken Scispot session", "error", c.classify.serverText(err.Error()))
		}
	}()
}
