// Package upstreamtest runs a stand-in for Scispot's MCP server on
// 127.0.0.1, for tests of the upstream client, the gateway and the serve
// command (a subprocess can be pointed at its URL).
//
// It speaks real Streamable HTTP (the go-sdk's handler), requires
// "Authorization: Bearer <token>", publishes the catalog's 27 tools plus
// ExtraTool, records every request and call, and can be told to misbehave
// at the transport (SetMode) or as a hostile server (hostile.go: huge
// error results, poisoned tool definitions, the token echoed back, tools
// no release knows):
//
//	up := upstreamtest.New(t, "test-token")
//	up.SetMode(upstreamtest.Status(503, "2"))
//	up.SetTool(upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true}))
//	up.SetResultFunc("get_experiment", upstreamtest.EchoToken)
//	… // exercise the code under test against up.URL
//	calls := up.Calls()
package upstreamtest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Call is one tools/call that reached a tool handler.
type Call struct {
	Tool string
	// Args are the arguments exactly as received ("{}" when none).
	Args json.RawMessage
	// Authorization is the header the request carried.
	Authorization string
}

// Request is one HTTP request the server saw, whatever the mode.
type Request struct {
	Method string // HTTP method
	// RPCMethod is the JSON-RPC method of a POSTed request or notification,
	// "" for a response or an unreadable body.
	RPCMethod string
	// Tool is params.name of a tools/call.
	Tool          string
	Authorization string
}

type modeKind int

const (
	normal modeKind = iota
	slow
	status
	garbage
	hang
)

// Mode is how the server treats what arrives next.
type Mode struct {
	kind       modeKind
	delay      time.Duration
	status     int
	retryAfter string
}

// Normal answers as an MCP server.
func Normal() Mode { return Mode{} }

// Slow makes every tool handler wait d (or until the call is cancelled)
// before answering. The call is recorded before the wait, so WaitCalls
// tells a test that it has arrived.
func Slow(d time.Duration) Mode { return Mode{kind: slow, delay: d} }

// Status answers every HTTP request with code and, if not empty, a
// Retry-After header (seconds or an HTTP-date).
func Status(code int, retryAfter string) Mode {
	return Mode{kind: status, status: code, retryAfter: retryAfter}
}

// Garbage answers every HTTP request 200 with Content-Type
// application/json and a body that is not JSON.
func Garbage() Mode { return Mode{kind: garbage} }

// Hang accepts every HTTP request and never answers it.
func Hang() Mode { return Mode{kind: hang} }

// Option configures New.
type Option func(*config)

type config struct {
	jsonResponse bool
	stateless    bool
	pageSize     int
}

// JSONResponse makes the server answer POSTs with application/json
// instead of event streams (both are valid Streamable HTTP).
func JSONResponse() Option { return func(c *config) { c.jsonResponse = true } }

// Stateless makes the server keep no sessions (no Mcp-Session-Id, no
// event stream for notifications), as some deployments do.
func Stateless() Option { return func(c *config) { c.stateless = true } }

// PageSize sets how many tools one tools/list page holds; default 10, so
// listing all 28 takes three pages.
func PageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// Server is a loopback Scispot MCP stand-in. Its methods are safe for
// concurrent use.
type Server struct {
	// URL is the MCP endpoint, http://127.0.0.1:PORT/.
	URL string

	token   string
	mcp     *mcp.Server
	http    *httptest.Server
	handler http.Handler
	specs   map[string]toolSpec
	closing chan struct{} // closed at cleanup; ends Hang and Slow waits

	mu          sync.Mutex
	mode        Mode
	modeChanged chan struct{}            // closed and replaced by SetMode; releases Hang
	ending      map[string]chan struct{} // by session ID: closed when the session is being ended
	calls       []Call
	requests    []Request
	results     map[string]func(Call) *mcp.CallToolResult
	arrived     chan struct{} // closed and replaced whenever a call is recorded
}

// New starts a server that accepts token, and stops it when the test ends.
func New(t testing.TB, token string, opts ...Option) *Server {
	t.Helper()
	cfg := config{pageSize: 10}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		token:   token,
		specs:   specs(),
		closing: make(chan struct{}),
		results: map[string]func(Call) *mcp.CallToolResult{},
		arrived: make(chan struct{}),

		modeChanged: make(chan struct{}),
		ending:      map[string]chan struct{}{},
	}
	quiet := slog.New(slog.DiscardHandler)
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "scispot-test-upstream", Version: "test"}, &mcp.ServerOptions{
		Logger:   quiet,
		PageSize: cfg.pageSize,
		// Tools only, and say that the list can change.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
	})
	for _, name := range ToolNames() {
		s.mcp.AddTool(toolDef(name, s.specs), s.handleTool)
	}
	s.handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
		JSONResponse: cfg.jsonResponse,
		Stateless:    cfg.stateless,
		Logger:       quiet,
	})
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.http.URL + "/"
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.closing)
	s.http.CloseClientConnections()
	s.http.Close()
	// Sessions whose client never said goodbye would keep a goroutine.
	s.DropSessions()
}

// SetMode changes how later requests are treated.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
	close(s.modeChanged)
	s.modeChanged = make(chan struct{})
}

// Calls returns every tools/call that reached a tool handler, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// WaitCalls waits until at least n calls have been recorded and returns
// them, or returns ctx's error.
func (s *Server) WaitCalls(ctx context.Context, n int) ([]Call, error) {
	for {
		s.mu.Lock()
		if len(s.calls) >= n {
			calls := slices.Clone(s.calls)
			s.mu.Unlock()
			return calls, nil
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Requests returns the number of HTTP requests seen.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// RequestLog returns every HTTP request seen, in order.
func (s *Server) RequestLog() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRPC returns how many POSTs carried the JSON-RPC method (and, for
// tools/call, the tool, unless tool is "").
func (s *Server) CountRPC(method, tool string) int {
	n := 0
	for _, r := range s.RequestLog() {
		if r.RPCMethod == method && (tool == "" || r.Tool == tool) {
			n++
		}
	}
	return n
}

// AddTool publishes another tool (with an open schema unless it is in the
// catalog); connected clients get notifications/tools/list_changed.
func (s *Server) AddTool(name string) {
	s.mcp.AddTool(toolDef(name, s.specs), s.handleTool)
}

// SetTool publishes def as it is (replacing a tool of the same name), for
// definitions no real Scispot would publish; connected clients are
// notified. Calls get the echo unless SetResult says otherwise.
func (s *Server) SetTool(def *mcp.Tool) {
	s.mcp.AddTool(def, s.handleTool)
}

// RemoveTool withdraws a tool; connected clients are notified.
func (s *Server) RemoveTool(name string) { s.mcp.RemoveTools(name) }

// SetResult makes calls of tool return res instead of the echo; nil
// restores the echo.
func (s *Server) SetResult(tool string, res *mcp.CallToolResult) {
	if res == nil {
		s.SetResultFunc(tool, nil)
		return
	}
	s.SetResultFunc(tool, func(Call) *mcp.CallToolResult { return res })
}

// SetResultFunc makes calls of tool return what f makes of the call (its
// arguments and Authorization header); nil restores the echo.
func (s *Server) SetResultFunc(tool string, f func(Call) *mcp.CallToolResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.results, tool)
		return
	}
	s.results[tool] = f
}

// DropSessions ends every MCP session, as a server restart would: later
// requests carrying their session IDs get 404.
func (s *Server) DropSessions() {
	for ss := range s.mcp.Sessions() {
		s.endSession(ss.ID())
		_ = ss.Close()
	}
}

// endSession releases the Slow handlers of a session about to be closed:
// the SDK's close waits for handlers in flight.
func (s *Server) endSession(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.ending[id]
	if !ok {
		ch = make(chan struct{})
		s.ending[id] = ch
	}
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (s *Server) sessionEnding(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.ending[id]
	if !ok {
		ch = make(chan struct{})
		s.ending[id] = ch
	}
	return ch
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Authorization: r.Header.Get("Authorization")}
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			http.Error(w, "reading the body failed", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &msg) == nil {
			rec.RPCMethod = msg.Method
			if msg.Method == "tools/call" {
				rec.Tool = msg.Params.Name
			}
		}
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	mode, modeChanged := s.mode, s.modeChanged
	s.mu.Unlock()

	switch mode.kind {
	case hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		case <-modeChanged:
			// Hung requests end with the mode, so a test can let its
			// client close without waiting out the SDK's timeouts.
			http.Error(w, "the test upstream stopped hanging", http.StatusServiceUnavailable)
		}
		return
	case status:
		if mode.retryAfter != "" {
			w.Header().Set("Retry-After", mode.retryAfter)
		}
		if mode.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		http.Error(w, http.StatusText(mode.status), mode.status)
		return
	case garbage:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><body>Welcome to the lab network. Please sign in.</body></html>")
		return
	}
	want := "Bearer " + s.token
	if subtle.ConstantTimeCompare([]byte(rec.Authorization), []byte(want)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "invalid or missing API token", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodDelete {
		s.endSession(r.Header.Get("Mcp-Session-Id"))
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Server) handleTool(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	args := json.RawMessage("{}")
	if len(req.Params.Arguments) > 0 {
		args = slices.Clone(req.Params.Arguments)
	}
	call := Call{Tool: req.Params.Name, Args: args}
	if req.Extra != nil {
		call.Authorization = req.Extra.Header.Get("Authorization")
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	close(s.arrived)
	s.arrived = make(chan struct{})
	mode := s.mode
	result := s.results[call.Tool]
	s.mu.Unlock()

	if mode.kind == slow {
		t := time.NewTimer(mode.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.closing:
			return nil, errors.New("the test upstream is shutting down")
		case <-s.sessionEnding(req.Session.ID()):
			return nil, errors.New("the session ended")
		}
	}
	if result != nil {
		return result(call), nil
	}
	return &mcp.CallToolResult{
		Content: []mcp.Content{&mcp.TextContent{Text: call.Tool + " " + string(args)}},
	}, nil
}
