package localapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// ErrNoService means nothing answers on the service's socket: scispot-mcpd
// is not installed or not running.
var ErrNoService = errors.New("the Scispot MCP service (scispot-mcpd) is not running on this workstation")

// ErrNotSystem means the service that answered is not the system service
// (it does not run as root or SYSTEM), so nothing secret is sent to it.
var ErrNotSystem = errors.New("the process answering on the Scispot MCP service's socket is not the system service")

// Client talks to one service. The zero value is not usable: set Socket
// and Dial.
type Client struct {
	// Socket is the path of the service's socket or pipe.
	Socket string
	// Dial connects to Socket (localsock.Dial).
	Dial func(ctx context.Context, path string) (net.Conn, error)
	// Identity reads the server's peer credentials from a connection
	// (peercred.Get); nil means it is not checked, which only tests do.
	Identity func(net.Conn) (peercred.Cred, error)
	// Name labels this front end in the records of what it asks for
	// ("scispot-mcp-cli", "scispot-mcp-tray"); empty means the CLI.
	Name string
	// Approves says this front end puts writes to the person (the tray):
	// while its event stream is open, the service asks there instead of
	// refusing at once. Other streams (audit tail --follow, serve --http)
	// only listen.
	Approves bool
	// System checks on every request that the server runs as the system,
	// as requests carrying a secret always do: for answers someone relies
	// on (validate --verify), which a service the account runs itself
	// (SCISPOT_MCPD_SOCKET, a socket of its own) must not give.
	System bool
}

// host is what URLs name; the transport ignores it.
const host = "scispot-mcpd.local"

func (c *Client) dial(ctx context.Context, system bool) (net.Conn, error) {
	system = system || c.System
	conn, err := c.Dial(ctx, c.Socket)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (%s: %v)", ErrNoService, c.Socket, err)
	}
	if system && c.Identity != nil {
		cred, err := c.Identity(conn)
		if err != nil || !isSystem(cred) {
			conn.Close()
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNotSystem, err)
			}
			return nil, fmt.Errorf("%w (it runs as uid %d %s); nothing secret was sent", ErrNotSystem, cred.UID, cred.Account)
		}
	}
	return conn, nil
}

// isSystem: root on Unix, LocalSystem (S-1-5-18) on Windows.
func isSystem(c peercred.Cred) bool { return c.UID == 0 || c.SID == "S-1-5-18" }

// httpClient makes one client whose connections are checked as system
// when system is set.
func (c *Client) httpClient(system bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.dial(ctx, system)
		},
		DisableKeepAlives: true,
	}}
}

// do sends one request; out may be nil.
func (c *Client) do(ctx context.Context, system bool, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+host+Prefix+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient(system).Do(req)
	if err != nil {
		return unwrapURLError(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the Scispot MCP service's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("reading the Scispot MCP service's answer: %w", err)
	}
	return nil
}

// unwrapURLError keeps net/http's "Post \"http://…\":" prefix out of the
// sentences people read.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Status reports access for the calling account. The keychain's item is
// sent only to the system service (it is sealed, but a planted socket
// learns nothing).
func (c *Client) Status(ctx context.Context, r StatusRequest) (Status, error) {
	var s Status
	err := c.do(ctx, r.Token != "", http.MethodPost, "status", r, &s)
	return s, err
}

// Kill stops all AI access for the calling account at once; anyone may.
func (c *Client) Kill(ctx context.Context, r KillRequest) error {
	r.Password = ""
	return c.do(ctx, false, http.MethodPost, "kill", r, nil)
}

// Resume allows AI access again. The service checks the account password
// itself; it is sent only to the system service.
func (c *Client) Resume(ctx context.Context, r KillRequest) error {
	return c.do(ctx, r.Password != "", http.MethodPost, "resume", r, nil)
}

// StopSession ends one of the calling account's live sessions.
func (c *Client) StopSession(ctx context.Context, id string) error {
	return c.do(ctx, false, http.MethodPost, "sessions/stop", map[string]string{"id": id}, nil)
}

// SealToken seals a token for the keychain (sent only to the system
// service).
func (c *Client) SealToken(ctx context.Context, r SealRequest) (TokenInfo, error) {
	if r.Client == "" {
		r.Client = c.Name
	}
	var t TokenInfo
	err := c.do(ctx, true, http.MethodPost, "token/seal", r, &t)
	return t, err
}

// TokenStatus describes what the keychain holds, without revealing it.
func (c *Client) TokenStatus(ctx context.Context, stored string) (TokenInfo, error) {
	var t TokenInfo
	err := c.do(ctx, true, http.MethodPost, "token/status", TokenQuery{Token: stored, Client: c.Name}, &t)
	return t, err
}

// TokenRemoved records that the person removed the token from the keychain.
func (c *Client) TokenRemoved(ctx context.Context, stored string) error {
	return c.do(ctx, true, http.MethodPost, "token/removed", TokenQuery{Token: stored, Client: c.Name}, nil)
}

// Tools lists the tools a session would see, with the policy's verdict on
// each hidden one.
func (c *Client) Tools(ctx context.Context, r ToolsRequest) ([]ToolInfo, error) {
	var out []ToolInfo
	err := c.do(ctx, r.Token != "" || r.LocalSecret != "", http.MethodPost, "tools", r, &out)
	return out, err
}

// ToolChanges lists the allowed tools whose definition changed since it
// was approved on this workstation and that the calling account has not
// accepted, with the old and the new definition. The service lists
// Scispot first (with the keychain's item, sent only to the system
// service) so that the list is current.
func (c *Client) ToolChanges(ctx context.Context, r ToolsRequest) ([]ToolChange, error) {
	var out []ToolChange
	err := c.do(ctx, r.Token != "" || r.LocalSecret != "", http.MethodPost, "tools/changes", r, &out)
	return out, err
}

// AcceptTool accepts a changed tool definition for the calling account.
// The service checks the account password itself; it is sent only to the
// system service.
func (c *Client) AcceptTool(ctx context.Context, r AcceptToolRequest) error {
	return c.do(ctx, r.Password != "", http.MethodPost, "tools/accept", r, nil)
}

// Record asks the service to audit an action taken in the person's
// session.
func (c *Client) Record(ctx context.Context, r RecordRequest) error {
	return c.do(ctx, false, http.MethodPost, "record", r, nil)
}

// FileValidation asks the service to check, render and record a
// validation report; the caller writes the files it returns.
func (c *Client) FileValidation(ctx context.Context, r FileValidationRequest) (FiledValidation, error) {
	var out FiledValidation
	err := c.do(ctx, false, http.MethodPost, "validation/file", r, &out)
	return out, err
}

// Records returns the calling account's audit records (an administrator's
// All returns every account's).
func (c *Client) Records(ctx context.Context, q RecordsQuery) ([]audit.Record, error) {
	var out []audit.Record
	err := c.do(ctx, false, http.MethodPost, "audit/records", q, &out)
	return out, err
}

// Verify checks the calling account's audit trail (an administrator's, every
// trail) in the service.
func (c *Client) Verify(ctx context.Context, all bool) (VerifyResult, error) {
	var out VerifyResult
	err := c.do(ctx, false, http.MethodPost, "audit/verify", RecordsQuery{All: all}, &out)
	return out, err
}

// Answer gives the person's decision on a write; the password goes only to
// the system service.
func (c *Client) Answer(ctx context.Context, a Answer) error {
	return c.do(ctx, a.Password != "", http.MethodPost, "confirm/answer", a, nil)
}

// Events follows the calling account's events until ctx ends or the
// service goes away; the channel is closed then, and Err says why.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	return c.events(ctx, c.Approves)
}

// Approvals is Events as a front end that puts writes to the person,
// whatever Approves says: validate's signed-write case answers its own
// demo write this way, with the password the service checks, as the tray
// would.
func (c *Client) Approvals(ctx context.Context) (*EventStream, error) {
	return c.events(ctx, true)
}

func (c *Client) events(ctx context.Context, approves bool) (*EventStream, error) {
	url := "http://" + host + Prefix + "events"
	if approves {
		url += "?approves=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	hc := c.httpClient(false)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return nil, decodeError(resp.StatusCode, b)
	}
	s := &EventStream{C: make(chan Event, 256)}
	go s.read(resp.Body)
	return s, nil
}

// EventStream is a live event stream.
type EventStream struct {
	C   chan Event
	err error
}

// Err says why the stream ended; valid once C is closed.
func (s *EventStream) Err() error { return s.err }

func (s *EventStream) read(body io.ReadCloser) {
	defer close(s.C)
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Kind == "" {
			continue
		}
		s.C <- e
	}
	s.err = sc.Err()
	if s.err == nil {
		s.err = io.EOF
	}
}

// MCPOptions describe an MCP session to open.
type MCPOptions struct {
	Demo bool
	// Token is the keychain's item; TokenError why it could not be read.
	Token, TokenError string
	// LocalSecret is the local HTTP secret, if the account has one.
	LocalSecret string
	// Transport is "stdio" or "cli", for the audit trail.
	Transport string
}

// OpenMCP opens an MCP session over the local API: after it returns, conn
// carries newline-delimited JSON-RPC, and sealed is set when the service
// sealed a plain token (the caller replaces the keychain item with it).
func (c *Client) OpenMCP(ctx context.Context, o MCPOptions) (conn net.Conn, sealed string, err error) {
	conn, err = c.dial(ctx, o.Token != "" || o.LocalSecret != "")
	if err != nil {
		return nil, "", err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+host+Prefix+"mcp", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", UpgradeProtocol)
	if o.Demo {
		req.Header.Set(HeaderDemo, "1")
	}
	if o.Token != "" {
		req.Header.Set(HeaderToken, o.Token)
	}
	if o.TokenError != "" {
		req.Header.Set(HeaderTokenError, strings.ReplaceAll(o.TokenError, "\n", " "))
	}
	if o.Transport != "" {
		req.Header.Set(HeaderTransport, o.Transport)
	}
	if o.LocalSecret != "" {
		req.Header.Set(HeaderLocalSecret, o.LocalSecret)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("opening an MCP session with the Scispot MCP service: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("opening an MCP session with the Scispot MCP service: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		conn.Close()
		return nil, "", decodeError(resp.StatusCode, b)
	}
	conn.SetDeadline(time.Time{})
	return &bufferedConn{Conn: conn, r: br}, resp.Header.Get(HeaderSealed), nil
}

// bufferedConn reads first what the response reader already buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// CloseWrite half-closes the connection when the underlying one can, so
// the service sees the end of the client's input.
func (b *bufferedConn) CloseWrite() error {
	if cw, ok := b.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return b.Conn.Close()
}

// HTTPTransport is a RoundTripper that sends every request to the service,
// for the loopback HTTP relay (serve --http). With system, it connects
// only to the system service (the relay sends the local secret).
func (c *Client) HTTPTransport(system bool) http.RoundTripper {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return c.dial(ctx, system)
		},
		MaxIdleConns:    16,
		IdleConnTimeout: time.Minute,
	}
}
