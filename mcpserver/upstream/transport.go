package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// bearerTransport adds the token to every request bound for the upstream's
// origin and to nothing else, and reports what happened to each POST to the
// probe of the call that sent it.
//
// The go-sdk's streamable client folds HTTP statuses into error strings;
// watching the wire here gives the status, Retry-After and the kind of
// failure without parsing those strings.
//
// It also cuts every request when abort is done, so Shutdown can stop
// waiting for an upstream that does not answer.
type bearerTransport struct {
	base   http.RoundTripper
	origin origin
	header string // "Bearer <token>"; never logged, never part of an error
	abort  context.Context
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	unhook := context.AfterFunc(t.abort, cancel)
	done := func() { unhook(); cancel() }
	// A RoundTripper must not change the caller's request.
	req = req.Clone(ctx)
	if originOf(req.URL) == t.origin {
		req.Header.Set("Authorization", t.header)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		done()
	} else {
		resp.Body = &releasingBody{ReadCloser: resp.Body, release: sync.OnceFunc(done)}
	}
	p := probeFrom(ctx)
	if p == nil || req.Method != http.MethodPost {
		// GETs are the long-lived event stream and DELETEs the goodbye;
		// neither belongs to a call.
		return resp, err
	}
	p.record(resp, err)
	if err == nil && resp.StatusCode/100 == 2 {
		resp.Body = &watchedBody{ReadCloser: resp.Body, p: p, ctx: ctx}
	}
	return resp, err
}

// releasingBody ends the request's abort hook once the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

// probe collects what the wire showed during one call (or one connect), so
// a failure can be explained. It is safe for concurrent use: the SDK may
// write a cancellation notice while the call is being classified.
type probe struct {
	mu          sync.Mutex
	posts       int    // POST requests sent
	status      int    // status of the last POST response, 0 if none
	retryAfter  string // its Retry-After header
	contentType string // its media type
	sendErr     error  // the last error from sending a POST
	bodyErr     error  // a read error on a successful response body
}

type probeKey struct{}

func withProbe(ctx context.Context, p *probe) context.Context {
	return context.WithValue(ctx, probeKey{}, p)
}

func probeFrom(ctx context.Context) *probe {
	p, _ := ctx.Value(probeKey{}).(*probe)
	return p
}

func (p *probe) record(resp *http.Response, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts++
	if err != nil {
		p.sendErr = err
		p.status, p.retryAfter, p.contentType = 0, "", ""
		return
	}
	p.sendErr = nil
	p.status = resp.StatusCode
	p.retryAfter = resp.Header.Get("Retry-After")
	p.contentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
}

// wire is a snapshot of a probe.
type wire struct {
	posts       int
	status      int
	retryAfter  string
	contentType string
	sendErr     error
	bodyErr     error
}

func (p *probe) snapshot() wire {
	if p == nil {
		return wire{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return wire{p.posts, p.status, p.retryAfter, p.contentType, p.sendErr, p.bodyErr}
}

// undelivered reports whether the wire proves the upstream did not act on
// the request: nothing was sent, or the one POST was answered 404 because
// the session was gone. Only then may a write be sent again.
func (w wire) undelivered() bool {
	return w.posts == 0 || (w.posts == 1 && w.status == http.StatusNotFound)
}

// watchedBody notes a broken response body, so a connection that dropped in
// the middle of an answer reads as "did not answer", not as garbage.
type watchedBody struct {
	io.ReadCloser
	p   *probe
	ctx context.Context
}

func (b *watchedBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) && b.ctx.Err() == nil {
		b.p.mu.Lock()
		if b.p.bodyErr == nil {
			b.p.bodyErr = err
		}
		b.p.mu.Unlock()
	}
	return n, err
}

// redirectError refuses a redirect away from the upstream's origin: the
// token must not follow it, and an MCP endpoint that moves hosts is not
// one the admin configured.
type redirectError struct{ host string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("it redirected to another host (%s)", e.host)
}

const maxRedirects = 10

func checkRedirect(o origin, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if originOf(req.URL) != o {
			return &redirectError{host: req.URL.Hostname()}
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// newTransport is the transport to the remote upstream unless the caller
// brings its own (Options.HTTPClient with a Transport). There is no overall
// client timeout: the event stream from the upstream stays open for the
// session's life; each call has its own deadline instead.
//
// Nothing in it comes from the environment, which an AI client's server
// entry can set: the proxy is exactly proxy (the policy's UpstreamProxy;
// nil connects directly, never http.ProxyFromEnvironment, so HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY are ignored), and certificates are verified
// against roots (systemRoots: the distribution's bundle, not
// SSL_CERT_FILE or SSL_CERT_DIR; nil, on macOS and Windows, is the
// operating system's verifier).
func newTransport(proxy *url.URL, roots *x509.CertPool) *http.Transport {
	t := &http.Transport{
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if proxy != nil {
		p := *proxy
		t.Proxy = http.ProxyURL(&p)
	}
	return t
}

// newHTTPClient returns the client the SDK will use: base with the Bearer
// transport and the same-origin redirect rule. base's Transport is used if
// it has one (tests); otherwise, and when base is nil, the client gets its
// own transport from newTransport, which the Client closes.
func newHTTPClient(base *http.Client, proxy *url.URL, o origin, token string, abort context.Context) (client *http.Client, owned *http.Transport) {
	var c http.Client
	if base != nil {
		c = *base
	}
	rt := c.Transport
	if rt == nil {
		owned = newTransport(proxy, systemRoots())
		rt = owned
	}
	c.Transport = &bearerTransport{base: rt, origin: o, header: "Bearer " + token, abort: abort}
	c.CheckRedirect = checkRedirect(o, c.CheckRedirect)
	return &c, owned
}
