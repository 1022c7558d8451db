package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/guard/injection"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("the Scispot connection is closed")

// ErrNoToken is returned by NewHTTP when the token is empty.
var ErrNoToken = errors.New("no Scispot API token was given")

// errTimedOut is the cause of our own per-call deadline, so it can be told
// apart from a deadline the caller set.
var errTimedOut = errors.New("per-call timeout")

// Kind says what went wrong with the upstream, in the terms a person acts on.
type Kind int

const (
	// Unavailable: Scispot did not answer — timeout, 5xx, DNS, TLS,
	// connection refused or dropped. Read-only calls are retried once.
	Unavailable Kind = iota + 1
	// Unauthorized: Scispot refused the token (HTTP 401 or 403).
	Unauthorized
	// RateLimited: Scispot asked us to slow down (HTTP 429).
	RateLimited
	// BadResponse: something answered, but not as an MCP server: a body
	// that is not JSON-RPC, an unexpected content type or HTTP status, a
	// redirect to another host.
	BadResponse
	// Rejected: the MCP server answered the request with a JSON-RPC error
	// (for example an unknown tool or invalid arguments). A tool that fails
	// on its own terms is not an error at all: its result has IsError set.
	Rejected
)

func (k Kind) String() string {
	switch k {
	case Unavailable:
		return "unavailable"
	case Unauthorized:
		return "unauthorized"
	case RateLimited:
		return "rate-limited"
	case BadResponse:
		return "bad-response"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is every failure of ListTools and CallTool except cancellation by
// the caller (which returns the context's cause) and ErrClosed. Its Error
// text is one sentence a scientist can act on and never contains the token.
type Error struct {
	Kind Kind
	// Status is the HTTP status the upstream answered with, 0 if none.
	Status int
	// RetryAfter is the delay Scispot asked for (RateLimited, and 503 when
	// the header was sent); for RateLimited without a header it is 30 s.
	RetryAfter time.Duration
	// Detail is the short cause inside the sentence, e.g. "connection
	// refused" or "HTTP 503".
	Detail string
	// Err is the underlying error, for errors.Is and errors.As. Its text
	// comes from the SDK and the network and is not meant for people.
	Err error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Unauthorized:
		return "Scispot rejected the API token stored on this workstation; set a new one with `scispot-mcp token set`."
	case RateLimited:
		return fmt.Sprintf("Scispot is rate-limiting requests; retry after %d s.", wholeSeconds(e.RetryAfter))
	case Unavailable:
		return "Scispot did not answer: " + e.Detail + "."
	case BadResponse:
		return "Scispot's MCP server sent a response this app cannot read: " + e.Detail + "."
	case Rejected:
		return "Scispot refused the request: " + e.Detail + "."
	}
	return "Scispot failed: " + e.Detail + "."
}

func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether the failure is Scispot being unreachable or
// overloaded rather than refusing this workstation: waiting may fix it.
func (e *Error) Transient() bool {
	return e.Kind == Unavailable || e.Kind == RateLimited || e.Kind == BadResponse
}

// KindOf returns the Kind of the *Error in err's chain, or 0 if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// classifier turns what a call returned, and what the wire showed, into an
// *Error. It holds the two things that shape the sentence besides the error:
// the configured timeout and the secrets to keep out of it.
type classifier struct {
	timeout time.Duration
	now     func() time.Time
	// redact removes the token (which a server may echo from the request
	// headers) and anything token-shaped.
	redact redact.Redactor
}

// classify explains err, which a call or connect under ctx returned; w is
// what the wire showed (empty in process). Cancellation by the caller is
// returned as the context's cause, unchanged in meaning.
func (c classifier) classify(ctx context.Context, err error, w wire) error {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if errors.Is(cause, errTimedOut) {
			return &Error{Kind: Unavailable, Detail: "timed out after " + shortDuration(c.timeout), Err: fmt.Errorf("%w: %w", context.DeadlineExceeded, err)}
		}
		return fmt.Errorf("calling Scispot was cancelled: %w", cause)
	}
	if errors.Is(err, errRepeatedCursor) {
		return &Error{Kind: BadResponse, Detail: errRepeatedCursor.Error(), Err: err}
	}
	switch st := w.status; {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return &Error{Kind: Unauthorized, Status: st, Detail: fmt.Sprintf("HTTP %d", st), Err: err}
	case st == http.StatusTooManyRequests:
		d, ok := parseRetryAfter(w.retryAfter, c.now())
		if !ok {
			d = defaultRetryAfter
		}
		return &Error{Kind: RateLimited, Status: st, RetryAfter: d, Detail: "HTTP 429", Err: err}
	case st == http.StatusNotFound:
		// Checked before any JSON-RPC error in the body: servers answer a
		// stale session with 404 and an error such as "Session not found".
		return &Error{Kind: BadResponse, Status: st, Detail: "HTTP 404 Not Found", Err: err}
	case st >= 500:
		e := &Error{Kind: Unavailable, Status: st, Detail: fmt.Sprintf("HTTP %d", st), Err: err}
		if d, ok := parseRetryAfter(w.retryAfter, c.now()); ok {
			e.RetryAfter = d
		}
		return e
	}
	var redir *redirectError
	if errors.As(err, &redir) || errors.As(w.sendErr, &redir) {
		return &Error{Kind: BadResponse, Detail: c.serverText(redir.Error()), Err: err}
	}
	for _, e := range []error{err, w.sendErr, w.bodyErr} {
		if detail, ok := networkCause(e); ok {
			return &Error{Kind: Unavailable, Detail: detail, Err: err}
		}
	}
	if rpcErr := serverRPCError(err); rpcErr != nil {
		return &Error{Kind: Rejected, Status: w.status, Detail: c.serverText(rpcErr.Message), Err: err}
	}
	if st := w.status; st != 0 && st/100 != 2 {
		text := http.StatusText(st)
		detail := fmt.Sprintf("HTTP %d", st)
		if text != "" {
			detail += " " + text
		}
		return &Error{Kind: BadResponse, Status: st, Detail: detail, Err: err}
	}
	if w.status/100 == 2 {
		// Something answered 2xx, nothing broke on the wire, and still the
		// SDK could not use it.
		detail := "the reply is not valid MCP JSON-RPC"
		if ct := w.contentType; ct != "application/json" && ct != "text/event-stream" {
			if ct == "" {
				ct = "no content type"
			}
			detail = fmt.Sprintf("it answered with %s instead of MCP JSON-RPC", c.serverText(ct))
		}
		return &Error{Kind: BadResponse, Status: w.status, Detail: detail, Err: err}
	}
	if errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, mcp.ErrSessionMissing) || errors.Is(err, io.EOF) {
		return &Error{Kind: Unavailable, Detail: "the connection closed", Err: err}
	}
	return &Error{Kind: Unavailable, Detail: "the connection failed", Err: err}
}

// serverRPCError finds the JSON-RPC error the server sent, if any, in err's
// chain. The SDK marks its own transport failures with JSON-RPC errors too
// (rejected by transport, client or server closing); those are skipped.
func serverRPCError(err error) *jsonrpc.Error {
	if err == nil {
		return nil
	}
	if w, ok := err.(*jsonrpc.Error); ok {
		switch w.Code {
		case codeRejected, codeServerClosing, codeClientClosing:
		default:
			return w
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return serverRPCError(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if w := serverRPCError(e); w != nil {
				return w
			}
		}
	}
	return nil
}

// Codes of the go-sdk's own jsonrpc2 sentinels (internal/jsonrpc2/wire.go).
const (
	codeRejected      = -32005
	codeServerClosing = -32004
	codeClientClosing = -32003
)

// serverText makes text that came from the other side safe to put in a
// sentence: one line, short, never the token, and never text aimed at an
// AI (these sentences reach the model: in a tool error, in the status
// tool's description).
func (c classifier) serverText(s string) string {
	s = c.redact.String(s)
	if injection.Detect(s) != nil {
		return "its explanation was withheld because it looked like instructions to an AI"
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimRight(strings.TrimSpace(s), ".")
	const maxRunes = 200
	if r := []rune(s); len(r) > maxRunes {
		s = string(r[:maxRunes]) + "…"
	}
	if s == "" {
		s = "no reason given"
	}
	return s
}

// networkCause names a transport failure in a few words, or reports false
// if err is not one.
func networkCause(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "cannot find the host " + dnsErr.Name, true
		}
		return "DNS lookup failed for " + dnsErr.Name, true
	case errors.As(err, &unknownCA):
		return "TLS certificate not trusted", true
	case errors.As(err, &hostErr):
		return "TLS certificate is for a different host", true
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "TLS certificate expired or not yet valid", true
		}
		return "TLS certificate not valid", true
	case errors.As(err, &verify):
		return "TLS certificate not trusted", true
	case errors.As(err, &record):
		return "the server does not speak TLS", true
	case errors.As(err, &alert):
		return "TLS handshake failed", true
	case isConnRefused(err):
		return "connection refused", true
	case isConnReset(err), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection dropped", true
	case errors.As(err, &netErr) && netErr.Timeout():
		return "the network timed out", true
	case errors.As(err, &opErr):
		return "network error", true
	}
	return "", false
}

// shortDuration prints 60s rather than 1m0s.
func shortDuration(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
