package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/upstream"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// testToken is distinctive so a leak into any text is easy to find.
const testToken = "sk-test-7Hq2ZLx9PvR4"

// guard bounds waits that should end quickly, so a bug fails the test
// instead of hanging it. It is not a timing assertion.
const guard = 20 * time.Second

func newClient(t testing.TB, url, token string, opts *upstream.Options) *upstream.Client {
	t.Helper()
	if opts == nil {
		opts = &upstream.Options{}
	}
	if opts.Backoff == 0 {
		opts.Backoff = time.Millisecond
	}
	c, err := upstream.NewHTTP(url, token, opts)
	if err != nil {
		t.Fatalf("NewHTTP: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ctxGuard(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	t.Cleanup(cancel)
	return ctx
}

func toolNames(tools []*mcp.Tool) []string {
	var names []string
	for _, t := range tools {
		names = append(names, t.Name)
	}
	return names
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestListToolsAllPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []upstreamtest.Option
	}{
		{"event streams", nil},
		{"JSON responses", []upstreamtest.Option{upstreamtest.JSONResponse()}},
		{"one page", []upstreamtest.Option{upstreamtest.PageSize(100)}},
		{"stateless", []upstreamtest.Option{upstreamtest.Stateless()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := upstreamtest.New(t, testToken, tc.opts...)
			c := newClient(t, up.URL, testToken, nil)
			tools, err := c.ListTools(ctxGuard(t))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sorted(upstreamtest.ToolNames()), sorted(toolNames(tools))); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
			if len(tools) != 28 {
				t.Errorf("got %d tools, want 28", len(tools))
			}
			for _, tool := range tools {
				if tool.Name == "get_labsheet_row" && (tool.Annotations == nil || !tool.Annotations.ReadOnlyHint) {
					t.Errorf("get_labsheet_row lost its read-only hint: %+v", tool.Annotations)
				}
			}
		})
	}
}

func TestCallToolPassesThrough(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []upstreamtest.Option
	}{
		{"event streams", nil},
		{"JSON responses", []upstreamtest.Option{upstreamtest.JSONResponse()}},
		{"stateless", []upstreamtest.Option{upstreamtest.Stateless()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := upstreamtest.New(t, testToken, tc.opts...)
			c := newClient(t, up.URL, testToken, nil)
			ctx := ctxGuard(t)

			args := json.RawMessage(`{"labsheet":"Cell Lines","uuid":"0b6c-42"}`)
			res, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "get_labsheet_row", Arguments: args})
			if err != nil {
				t.Fatal(err)
			}
			want := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "get_labsheet_row " + string(args)}}}
			if diff := cmp.Diff(jsonOf(t, want), jsonOf(t, res)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			calls := up.Calls()
			if len(calls) != 1 {
				t.Fatalf("upstream saw %d calls, want 1", len(calls))
			}
			if got := calls[0]; got.Tool != "get_labsheet_row" || string(got.Args) != string(args) || got.Authorization != "Bearer "+testToken {
				t.Errorf("upstream saw %+v", got)
			}
			for _, r := range up.RequestLog() {
				if r.Authorization != "Bearer "+testToken {
					t.Errorf("%s %s carried Authorization %q", r.Method, r.RPCMethod, r.Authorization)
				}
			}

			// Rich results, isError and _meta come back as sent.
			rich := &mcp.CallToolResult{
				Meta: mcp.Meta{"scispot/request": "r-1"},
				Content: []mcp.Content{
					&mcp.TextContent{Text: "thumbnail"},
					&mcp.ImageContent{Data: []byte{0x89, 'P', 'N', 'G'}, MIMEType: "image/png"},
				},
				StructuredContent: map[string]any{"rows": []any{map[string]any{"Status": "Active"}}},
				IsError:           true,
			}
			up.SetResult("get_image_thumbnail", rich)
			res, err = c.CallTool(ctx, &mcp.CallToolParams{Name: "get_image_thumbnail", Arguments: map[string]any{"labsheet": "Cell Lines"}})
			if err != nil {
				t.Fatalf("an isError result must not be a Go error: %v", err)
			}
			if diff := cmp.Diff(jsonOf(t, rich), jsonOf(t, res)); diff != "" {
				t.Errorf("rich result (-want +got):\n%s", diff)
			}
		})
	}
}

func jsonOf(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLazy(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	c := newClient(t, up.URL, testToken, nil)
	if n := up.Requests(); n != 0 {
		t.Fatalf("NewHTTP sent %d requests; it must not connect", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := up.Requests(); n != 0 {
		t.Fatalf("Close of an unused client sent %d requests", n)
	}
	if _, err := c.ListTools(ctxGuard(t)); !errors.Is(err, upstream.ErrClosed) {
		t.Fatalf("ListTools after Close = %v, want ErrClosed", err)
	}
}

func TestNewHTTPValidatesURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://mcp.scispot.io/", true},
		{"https://mcp.scispot.io", true},
		{"https://mcp.scispot.io:8443/mcp", true},
		{"http://127.0.0.1:8080/", true},
		{"http://127.5.6.7/", true},
		{"http://[::1]:9/", true},
		{"http://localhost:3000/mcp", true},
		{"HTTP://LOCALHOST/", true},
		{"http://mcp.scispot.io/", false},
		{"http://10.0.0.5/", false},
		{"http://localhost.evil.example/", false},
		{"http://[::ffff:10.0.0.1]/", false},
		{"ftp://mcp.scispot.io/", false},
		{"mcp.scispot.io", false},
		{"https://user:secret@mcp.scispot.io/", false},
		{"https:///path", false},
		{"https://mcp.scispot.io:99999/", false},
		{"", false},
		{"://", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			c, err := upstream.NewHTTP(tc.url, testToken, nil)
			if tc.ok {
				if err != nil {
					t.Fatalf("NewHTTP(%q) = %v", tc.url, err)
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, upstream.ErrInvalidURL) {
				t.Fatalf("NewHTTP(%q) = %v, want ErrInvalidURL", tc.url, err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error repeats the URL's password: %v", err)
			}
		})
	}
}

func TestNewHTTPNeedsAToken(t *testing.T) {
	if _, err := upstream.NewHTTP("https://mcp.scispot.io/", "", nil); !errors.Is(err, upstream.ErrNoToken) {
		t.Errorf("NewHTTP without a token = %v, want ErrNoToken", err)
	}
}

// failCase is one way the upstream can fail, tried both on a cold client
// (the connect fails) and, where the server can switch, on a warm one.
type failCase struct {
	name string
	// start returns the URL to use; up is nil for cases that use their own
	// server.
	start  func(t *testing.T) (url string, up *upstreamtest.Server)
	mode   upstreamtest.Mode // applied to up after the warm-up
	token  string            // default testToken
	opts   upstream.Options
	kind   upstream.Kind
	status int
	want   string // the whole sentence
	// listOK: tools/list still works (only tool calls fail).
	listOK bool
}

func withTestServer(t *testing.T) (string, *upstreamtest.Server) {
	up := upstreamtest.New(t, testToken)
	return up.URL, up
}

var fixedNow = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func failCases() []failCase {
	const unauthorized = "Scispot rejected the API token stored on this workstation; set a new one with `scispot-mcp token set`."
	return []failCase{
		{name: "wrong token", start: withTestServer, token: "sk-test-wrong-token", kind: upstream.Unauthorized, status: 401, want: unauthorized},
		{name: "401", start: withTestServer, mode: upstreamtest.Status(401, ""), kind: upstream.Unauthorized, status: 401, want: unauthorized},
		{name: "403", start: withTestServer, mode: upstreamtest.Status(403, ""), kind: upstream.Unauthorized, status: 403, want: unauthorized},
		{name: "429 seconds", start: withTestServer, mode: upstreamtest.Status(429, "7"), kind: upstream.RateLimited, status: 429, want: "Scispot is rate-limiting requests; retry after 7 s."},
		{name: "429 date", start: withTestServer, mode: upstreamtest.Status(429, fixedNow.Add(90*time.Second).Format(http.TimeFormat)), opts: upstream.Options{Now: func() time.Time { return fixedNow }}, kind: upstream.RateLimited, status: 429, want: "Scispot is rate-limiting requests; retry after 90 s."},
		{name: "429 no header", start: withTestServer, mode: upstreamtest.Status(429, ""), kind: upstream.RateLimited, status: 429, want: "Scispot is rate-limiting requests; retry after 30 s."},
		{name: "500", start: withTestServer, mode: upstreamtest.Status(500, ""), kind: upstream.Unavailable, status: 500, want: "Scispot did not answer: HTTP 500."},
		{name: "503", start: withTestServer, mode: upstreamtest.Status(503, "5"), kind: upstream.Unavailable, status: 503, want: "Scispot did not answer: HTTP 503."},
		{name: "404", start: withTestServer, mode: upstreamtest.Status(404, ""), kind: upstream.BadResponse, status: 404, want: "Scispot's MCP server sent a response this app cannot read: HTTP 404 Not Found."},
		{name: "garbage", start: withTestServer, mode: upstreamtest.Garbage(), kind: upstream.BadResponse, status: 200, want: "Scispot's MCP server sent a response this app cannot read: the reply is not valid MCP JSON-RPC."},
		{name: "hang", start: withTestServer, mode: upstreamtest.Hang(), opts: upstream.Options{Timeout: 200 * time.Millisecond}, kind: upstream.Unavailable, want: "Scispot did not answer: timed out after 200ms."},
		{name: "slow", start: withTestServer, mode: upstreamtest.Slow(time.Hour), opts: upstream.Options{Timeout: 500 * time.Millisecond}, kind: upstream.Unavailable, want: "Scispot did not answer: timed out after 500ms.", listOK: true},
		{name: "not an MCP server", start: htmlServer, kind: upstream.BadResponse, status: 200, want: "Scispot's MCP server sent a response this app cannot read: it answered with text/html instead of MCP JSON-RPC."},
		{name: "connection refused", start: closedPort, kind: upstream.Unavailable, want: "Scispot did not answer: connection refused."},
		{name: "untrusted TLS", start: tlsServer, kind: upstream.Unavailable, want: "Scispot did not answer: TLS certificate not trusted."},
		{name: "redirect to another host", start: redirectAway, kind: upstream.BadResponse, want: "Scispot's MCP server sent a response this app cannot read: it redirected to another host (localhost)."},
		{name: "error echoing the token", start: echoServer, kind: upstream.Rejected, status: 200, want: "Scispot refused the request: your header was Bearer [redacted].", listOK: true},
	}
}

func htmlServer(t *testing.T) (string, *upstreamtest.Server) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<html><body>Lab wiki</body></html>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", nil
}

func closedPort(t *testing.T) (string, *upstreamtest.Server) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/", nil
}

func tlsServer(t *testing.T) (string, *upstreamtest.Server) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request got through an untrusted TLS handshake")
	}))
	// The client refuses the handshake; the server would log it.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/", nil
}

// redirectAway answers every request with a redirect to another loopback
// host, whose server must never be reached.
func redirectAway(t *testing.T) (string, *upstreamtest.Server) {
	var reached atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
	}))
	t.Cleanup(func() {
		other.Close()
		if n := reached.Load(); n != 0 {
			t.Errorf("the redirect target was reached %d times", n)
		}
	})
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	target := "http://localhost:" + port + "/" // same machine, another origin
	srv := httptest.NewServer(http.RedirectHandler(target, http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	return srv.URL + "/", nil
}

// echoServer is an MCP server (no auth check) whose tools fail with a
// JSON-RPC error that repeats the Authorization header.
func echoServer(t *testing.T) (string, *upstreamtest.Server) {
	s := mcp.NewServer(&mcp.Implementation{Name: "echo", Version: "1"}, nil)
	for _, name := range []string{"list_labsheets", "add_labsheet_rows"} {
		s.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, fmt.Errorf("your header was %s.", req.Extra.Header.Get("Authorization"))
		})
	}
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(srv.Close)
	return srv.URL + "/", nil
}

func TestFailures(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	for _, tc := range failCases() {
		for _, warm := range []bool{false, true} {
			name := tc.name + "/cold"
			if warm {
				name = tc.name + "/warm"
			}
			t.Run(name, func(t *testing.T) {
				url, up := tc.start(t)
				if warm && (up == nil || tc.token != "") {
					t.Skip("the server cannot switch from working to failing")
				}
				token := tc.token
				if token == "" {
					token = testToken
				}
				opts := tc.opts
				opts.Logger = logger
				c := newClient(t, url, token, &opts)
				ctx := ctxGuard(t)
				if warm {
					if _, err := c.ListTools(ctx); err != nil {
						t.Fatalf("warm-up: %v", err)
					}
				}
				if up != nil {
					up.SetMode(tc.mode)
					// Let Close say goodbye without waiting on a hung server.
					t.Cleanup(func() { up.SetMode(upstreamtest.Normal()) })
				}

				for _, tool := range []string{"list_labsheets", "add_labsheet_rows"} {
					_, err := c.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"labsheet": "Cell Lines"}})
					checkFailure(t, tc, err)
				}
				if tc.listOK {
					return
				}
				_, err := c.ListTools(ctx)
				checkFailure(t, tc, err)
			})
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the token appears in the log:\n%s", logs.String())
	}
}

func checkFailure(t *testing.T, tc failCase, err error) {
	t.Helper()
	var e *upstream.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *upstream.Error", err, err)
	}
	if e.Kind != tc.kind || e.Status != tc.status {
		t.Errorf("Kind, Status = %v, %d; want %v, %d (%v)", e.Kind, e.Status, tc.kind, tc.status, err)
	}
	if err.Error() != tc.want {
		t.Errorf("error:\n got %s\nwant %s", err.Error(), tc.want)
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), e.Detail} {
		if strings.Contains(text, testToken) || strings.Contains(text, "sk-test-wrong-token") {
			t.Errorf("the token leaked into the error text %q", text)
		}
	}
	if e.Kind == upstream.Unavailable && strings.Contains(tc.want, "timed out") && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a timeout should match context.DeadlineExceeded: %v", err)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  upstreamtest.Mode
		tool  string
		sends int // tools/call POSTs that reach the server
	}{
		{"read 500", upstreamtest.Status(500, ""), "list_labsheets", 2},
		{"read 503", upstreamtest.Status(503, ""), "get_experiment", 2},
		{"write 500", upstreamtest.Status(500, ""), "add_labsheet_rows", 1},
		{"write 503", upstreamtest.Status(503, ""), "update_labsheet_rows", 1},
		{"unknown tool 503", upstreamtest.Status(503, ""), upstreamtest.ExtraTool, 1},
		{"read 429", upstreamtest.Status(429, "1"), "list_labsheets", 1},
		{"read 401", upstreamtest.Status(401, ""), "list_labsheets", 1},
		{"read 403", upstreamtest.Status(403, ""), "list_labsheets", 1},
		{"read garbage", upstreamtest.Garbage(), "list_labsheets", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := upstreamtest.New(t, testToken)
			c := newClient(t, up.URL, testToken, nil)
			ctx := ctxGuard(t)
			if _, err := c.ListTools(ctx); err != nil {
				t.Fatal(err)
			}
			up.SetMode(tc.mode)
			if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: tc.tool}); err == nil {
				t.Fatal("CallTool succeeded against a failing upstream")
			}
			if got := up.CountRPC("tools/call", tc.tool); got != tc.sends {
				t.Errorf("tools/call sent %d times, want %d", got, tc.sends)
			}
		})
	}

	t.Run("read retried on a cold connect", func(t *testing.T) {
		up := upstreamtest.New(t, testToken)
		up.SetMode(upstreamtest.Status(503, ""))
		c := newClient(t, up.URL, testToken, nil)
		_, err := c.ListTools(ctxGuard(t))
		if upstream.KindOf(err) != upstream.Unavailable {
			t.Fatalf("ListTools = %v", err)
		}
		if got := up.CountRPC("initialize", ""); got != 2 {
			t.Errorf("initialize sent %d times, want 2", got)
		}
	})

	t.Run("read recovers on the retry", func(t *testing.T) {
		var failed atomic.Bool
		up := upstreamtest.New(t, testToken)
		// Fail exactly the first tools/call POST with 502.
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(`"tools/call"`)) && failed.CompareAndSwap(false, true) {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			forward(t, w, r, up.URL, body)
		}))
		t.Cleanup(proxy.Close)
		c := newClient(t, proxy.URL+"/", testToken, nil)
		res, err := c.CallTool(ctxGuard(t), &mcp.CallToolParams{Name: "list_locations"})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Content) != 1 || len(up.Calls()) != 1 {
			t.Errorf("result %+v after calls %+v", res, up.Calls())
		}
	})
}

// forward relays one request to the upstream at url, streaming the answer.
func forward(t *testing.T, w http.ResponseWriter, r *http.Request, url string, body []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			_, _ = w.Write(buf[:n])
			w.(http.Flusher).Flush()
		}
		if err != nil {
			return
		}
	}
}

func TestCancelReturnsPromptly(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	up.SetMode(upstreamtest.Slow(time.Hour))
	c := newClient(t, up.URL, testToken, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"})
		done <- err
	}()
	if _, err := up.WaitCalls(ctxGuard(t), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("CallTool = %v, want context.Canceled", err)
		}
		if upstream.KindOf(err) != 0 {
			t.Errorf("a cancelled call is not an upstream failure: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("CallTool did not return after its context was cancelled")
	}
	if n := len(up.Calls()); n != 1 {
		t.Errorf("a cancelled read was sent %d times", n)
	}
}

func TestCancelCauseIsKept(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	up.SetMode(upstreamtest.Slow(time.Hour))
	c := newClient(t, up.URL, testToken, nil)
	killed := errors.New("stopped by kill switch")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "add_labsheet_rows"})
		done <- err
	}()
	if _, err := up.WaitCalls(ctxGuard(t), 1); err != nil {
		t.Fatal(err)
	}
	cancel(killed)
	select {
	case err := <-done:
		if !errors.Is(err, killed) {
			t.Fatalf("CallTool = %v, want the kill switch's cause", err)
		}
	case <-time.After(guard):
		t.Fatal("CallTool did not return after its context was cancelled")
	}
}

func TestReconnectAfterSessionDropped(t *testing.T) {
	for _, tool := range []string{"list_labsheets", "add_labsheet_rows"} {
		t.Run(tool, func(t *testing.T) {
			up := upstreamtest.New(t, testToken)
			c := newClient(t, up.URL, testToken, nil)
			ctx := ctxGuard(t)
			if _, err := c.ListTools(ctx); err != nil {
				t.Fatal(err)
			}
			up.DropSessions()
			if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: tool}); err != nil {
				t.Fatalf("CallTool after the session was dropped: %v", err)
			}
			if got := up.CountRPC("initialize", ""); got != 2 {
				t.Errorf("initialize sent %d times, want 2", got)
			}
			if got := len(up.Calls()); got != 1 {
				t.Errorf("the tool ran %d times, want 1", got)
			}
			// And the new session keeps working.
			if _, err := c.ListTools(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// staleProxy sits in front of up and answers requests of sessions it has
// declared dead the way the TypeScript SDK does: 404 with a JSON-RPC error
// carrying the request's id, which the go-sdk client does not recognise as
// a lost session. kill(rpcMethod, n) is asked before forwarding the n-th
// POST of a method; true kills the session that request belongs to.
func staleProxy(t *testing.T, up *upstreamtest.Server, kill func(rpcMethod string, n int) bool) string {
	var mu sync.Mutex
	dead := map[string]bool{}
	seen := map[string]int{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		_ = json.Unmarshal(body, &msg)
		id := r.Header.Get("Mcp-Session-Id")
		mu.Lock()
		if r.Method == http.MethodPost && msg.Method != "" {
			seen[msg.Method]++
			if id != "" && kill(msg.Method, seen[msg.Method]) {
				dead[id] = true
			}
		}
		isDead := dead[id]
		mu.Unlock()
		if isDead {
			if msg.ID == nil {
				msg.ID = json.RawMessage("null")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":%s}`, msg.ID)
			return
		}
		forward(t, w, r, up.URL, body)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + "/"
}

func TestReconnectOnStaleSession404(t *testing.T) {
	t.Run("write", func(t *testing.T) {
		up := upstreamtest.New(t, testToken)
		url := staleProxy(t, up, func(method string, n int) bool { return method == "tools/call" && n == 2 })
		c := newClient(t, url, testToken, nil)
		ctx := ctxGuard(t)
		if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "create_experiment_stub"}); err != nil {
			t.Fatalf("a write on a stale session: %v", err)
		}
		if got := up.CountRPC("initialize", ""); got != 2 {
			t.Errorf("initialize sent %d times, want 2", got)
		}
		if got := up.CountRPC("tools/call", "create_experiment_stub"); got != 1 {
			t.Errorf("the write reached the upstream %d times, want 1", got)
		}
	})
	t.Run("list, between pages", func(t *testing.T) {
		up := upstreamtest.New(t, testToken) // 28 tools in pages of 10
		url := staleProxy(t, up, func(method string, n int) bool { return method == "tools/list" && n == 2 })
		c := newClient(t, url, testToken, nil)
		tools, err := c.ListTools(ctxGuard(t))
		if err != nil {
			t.Fatalf("ListTools across a lost session: %v", err)
		}
		if len(tools) != 28 {
			t.Errorf("got %d tools, want 28", len(tools))
		}
		if got := up.CountRPC("tools/list", ""); got != 4 {
			t.Errorf("tools/list reached the upstream %d times, want 1 + 3", got)
		}
	})
}

func TestReconnectAfterUpstreamFailure(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	c := newClient(t, up.URL, testToken, nil)
	ctx := ctxGuard(t)
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	up.SetMode(upstreamtest.Garbage())
	if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); upstream.KindOf(err) != upstream.BadResponse {
		t.Fatalf("CallTool = %v, want BadResponse", err)
	}
	up.SetMode(upstreamtest.Normal())
	if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
		t.Fatalf("CallTool after the upstream recovered: %v", err)
	}
}

func TestShutdownCutsAHungUpstream(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	c := newClient(t, up.URL, testToken, nil)
	if _, err := c.ListTools(ctxGuard(t)); err != nil {
		t.Fatal(err)
	}
	up.SetMode(upstreamtest.Hang())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no patience at all: the kill switch
	done := make(chan error, 1)
	go func() { done <- c.Shutdown(ctx) }()
	// The SDK itself gives up on the goodbye after 5 s; Shutdown must not
	// wait for that.
	select {
	case <-done:
	case <-time.After(4 * time.Second):
		t.Fatal("Shutdown waited for a hung upstream")
	}
	if _, err := c.ListTools(ctxGuard(t)); !errors.Is(err, upstream.ErrClosed) {
		t.Errorf("ListTools after Shutdown = %v", err)
	}
}

func TestToolsChanged(t *testing.T) {
	changed := make(chan struct{}, 10)
	opts := func() *upstream.Options {
		return &upstream.Options{OnToolsChanged: func() { changed <- struct{}{} }, Backoff: time.Millisecond}
	}
	check := func(t *testing.T, c *upstream.Client, add func(string)) {
		ctx := ctxGuard(t)
		before, err := c.ListTools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		add("annotate_plate")
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal("OnToolsChanged was not called")
		}
		after, err := c.ListTools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before)+1 || !slices.Contains(toolNames(after), "annotate_plate") {
			t.Errorf("tools after the change: %v", toolNames(after))
		}
	}
	t.Run("http", func(t *testing.T) {
		up := upstreamtest.New(t, testToken)
		c := newClient(t, up.URL, testToken, opts())
		check(t, c, up.AddTool)
	})
	t.Run("in process", func(t *testing.T) {
		srv := smallServer()
		c := upstream.NewInProcess(srv, opts())
		t.Cleanup(func() { _ = c.Close() })
		check(t, c, func(name string) {
			srv.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, echo)
		})
	})
}

func echo(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: req.Params.Name + " " + string(req.Params.Arguments)}}}, nil
}

// smallServer is a two-tool stand-in for the demo workspace.
func smallServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "demo", Version: "test"}, &mcp.ServerOptions{PageSize: 1})
	s.AddTool(&mcp.Tool{Name: "list_labsheets", InputSchema: map[string]any{"type": "object"}}, echo)
	s.AddTool(&mcp.Tool{Name: "get_labsheet_row", InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "not found: row 42"}}}, nil
	})
	return s
}

func TestInProcess(t *testing.T) {
	c := upstream.NewInProcess(smallServer(), nil)
	t.Cleanup(func() { _ = c.Close() })
	ctx := ctxGuard(t)
	tools, err := c.ListTools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"get_labsheet_row", "list_labsheets"}, sorted(toolNames(tools))); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	res, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets", Arguments: json.RawMessage(`{"folder":"Cells"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Content[0].(*mcp.TextContent).Text; got != `list_labsheets {"folder":"Cells"}` {
		t.Errorf("result text %q", got)
	}
	res, err = c.CallTool(ctx, &mcp.CallToolParams{Name: "get_labsheet_row"})
	if err != nil || !res.IsError {
		t.Errorf("isError result: %+v, %v", res, err)
	}
	_, err = c.CallTool(ctx, &mcp.CallToolParams{Name: "no_such_tool"})
	if upstream.KindOf(err) != upstream.Rejected || !strings.Contains(err.Error(), `unknown tool "no_such_tool"`) {
		t.Errorf("unknown tool: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); !errors.Is(err, upstream.ErrClosed) {
		t.Errorf("CallTool after Close = %v", err)
	}
}

func TestInProcessReconnects(t *testing.T) {
	srv := smallServer()
	c := upstream.NewInProcess(srv, &upstream.Options{Backoff: time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	ctx := ctxGuard(t)
	if _, err := c.ListTools(ctx); err != nil {
		t.Fatal(err)
	}
	for ss := range srv.Sessions() {
		_ = ss.Close()
	}
	if _, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
		t.Fatalf("a read after the server ended the session: %v", err)
	}
}

func TestConcurrentCallsShareOneSession(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	c := newClient(t, up.URL, testToken, nil)
	ctx := ctxGuard(t)
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "get_experiment", Arguments: map[string]any{"hrid": fmt.Sprintf("EXP-%d", i)}})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := up.CountRPC("initialize", ""); got != 1 {
		t.Errorf("initialize sent %d times, want 1", got)
	}
	if got := len(up.Calls()); got != n {
		t.Errorf("%d calls reached the upstream, want %d", got, n)
	}
}

func TestCustomHTTPClient(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	var seen atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := newClient(t, up.URL, testToken, &upstream.Options{HTTPClient: hc, ClientInfo: &mcp.Implementation{Name: "scispot-mcp-cli", Version: "1.2.3"}})
	if _, err := c.CallTool(ctxGuard(t), &mcp.CallToolParams{Name: "list_labspaces"}); err != nil {
		t.Fatal(err)
	}
	if seen.Load() == 0 {
		t.Error("the caller's HTTP client was not used")
	}
	if got := up.Calls()[0].Authorization; got != "Bearer "+testToken {
		t.Errorf("Authorization %q through a custom client", got)
	}
	if _, ok := hc.Transport.(roundTripFunc); !ok || hc.CheckRedirect != nil {
		t.Error("the caller's HTTP client was modified")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func BenchmarkCallDirect(b *testing.B) {
	up := upstreamtest.New(b, testToken)
	c := newClient(b, up.URL, testToken, nil)
	benchCalls(b, c)
}

func BenchmarkCallInProcess(b *testing.B) {
	c := upstream.NewInProcess(smallServer(), nil)
	b.Cleanup(func() { _ = c.Close() })
	benchCalls(b, c)
}

func benchCalls(b *testing.B, c *upstream.Client) {
	ctx := context.Background()
	params := &mcp.CallToolParams{Name: "list_labsheets", Arguments: json.RawMessage(`{"folder":"Cells"}`)}
	if _, err := c.CallTool(ctx, params); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.CallTool(ctx, params); err != nil {
			b.Fatal(err)
		}
	}
}
