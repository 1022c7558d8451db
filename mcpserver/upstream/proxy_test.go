package upstream_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/upstream"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// proxyEnv are the variables Go's http.ProxyFromEnvironment reads.
var proxyEnv = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "REQUEST_METHOD"}

// testProxy is a forward HTTP proxy on loopback, as a lab's proxy would
// be: it relays absolute-form requests (to plain-http servers) and tunnels
// CONNECT (to https servers), and records what it was asked.
type testProxy struct {
	URL   string
	conns atomic.Int32 // connections accepted

	mu   sync.Mutex
	seen []string // "CONNECT host:port" or "POST http://host:port/"
}

func newTestProxy(t *testing.T) *testProxy {
	t.Helper()
	p := &testProxy{}
	relay := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.Out.Host = "" },
		Transport:     &http.Transport{Proxy: nil},
		FlushInterval: -1, // event streams
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.RequestURI)
		p.mu.Unlock()
		switch {
		case r.Method == http.MethodConnect:
			p.tunnel(t, w, r)
		case r.URL.IsAbs():
			relay.ServeHTTP(w, r)
		default:
			http.Error(w, "this is a proxy", http.StatusBadRequest)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *testProxy) tunnel(t *testing.T, w http.ResponseWriter, r *http.Request) {
	up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		t.Errorf("proxy: hijack: %v", err)
		return
	}
	_, _ = io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	go func() {
		defer up.Close()
		defer conn.Close()
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, rw); done <- struct{}{} }()
		go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
		<-done
	}()
}

func (p *testProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func mustProxyURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := upstream.ParseProxyURL(raw)
	if err != nil || u == nil {
		t.Fatalf("ParseProxyURL(%q) = %v, %v", raw, u, err)
	}
	return u
}

// setEnvProxy points every proxy variable of the environment at p, as an
// AI client's server entry could.
func setEnvProxy(t *testing.T, p *testProxy) {
	for _, k := range proxyEnv {
		t.Setenv(k, "")
	}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		t.Setenv(k, p.URL)
	}
}

// TestProxyFromPolicy: with UpstreamProxy set, a loopback upstream is
// reached through that proxy (loopback is not exempt, as it is in Go's
// environment rules), and the proxy named by the environment sees nothing.
func TestProxyFromPolicy(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	policyProxy := newTestProxy(t)
	envProxy := newTestProxy(t)
	setEnvProxy(t, envProxy)

	c := newClient(t, up.URL, testToken, &upstream.Options{Proxy: mustProxyURL(t, policyProxy.URL)})
	if _, err := c.CallTool(ctxGuard(t), &mcp.CallToolParams{Name: "list_labspaces"}); err != nil {
		t.Fatal(err)
	}
	var posts int
	for _, r := range policyProxy.requests() {
		if r == "POST "+up.URL {
			posts++
		}
	}
	if posts < 2 { // initialize and the call, at least
		t.Errorf("the policy's proxy relayed %d POSTs to %s, want every one; it saw %q", posts, up.URL, policyProxy.requests())
	}
	if n := envProxy.conns.Load(); n != 0 {
		t.Errorf("the environment's proxy got %d connections: %q", n, envProxy.requests())
	}
	if calls := up.Calls(); len(calls) != 1 || calls[0].Authorization != "Bearer "+testToken {
		t.Errorf("upstream calls = %+v, want the one call with the token", calls)
	}
}

// TestEnvironmentProxyIgnored: with no UpstreamProxy, HTTPS_PROXY and
// HTTP_PROXY in the environment are not used. net/http reads those
// variables once per process, so the client runs in a helper process that
// starts with them set. The endpoint is a name that Go's environment rules
// would send to the proxy (they exempt only loopback addresses and
// "localhost"); the same helper with Go's default client shows that they
// do.
func TestEnvironmentProxyIgnored(t *testing.T) {
	envProxy := newTestProxy(t)
	const endpoint = "https://scispot-upstream.invalid/mcp"

	out := runHelper(t, "upstream", endpoint, proxyVars(envProxy.URL)...)
	if !strings.Contains(out, fmt.Sprintf("done: kind %d", upstream.Unavailable)) {
		t.Fatalf("helper: %s; want Unavailable (the name does not resolve)", out)
	}
	if n := envProxy.conns.Load(); n != 0 {
		t.Errorf("the environment's proxy got %d connections: %q", n, envProxy.requests())
	}

	// In this process too, with the variables set late, a loopback upstream
	// is reached directly.
	setEnvProxy(t, envProxy)
	up := upstreamtest.New(t, testToken)
	c := newClient(t, up.URL, testToken, nil)
	if _, err := c.CallTool(ctxGuard(t), &mcp.CallToolParams{Name: "list_labspaces"}); err != nil {
		t.Fatal(err)
	}
	if n := envProxy.conns.Load(); n != 0 {
		t.Errorf("the environment's proxy got %d connections: %q", n, envProxy.requests())
	}

	// The control: Go's default client, started with the same
	// environment, goes to the proxy.
	out = runHelper(t, "default-client", endpoint, proxyVars(envProxy.URL)...)
	if !strings.Contains(out, "done:") {
		t.Fatalf("helper: %s", out)
	}
	if got := envProxy.requests(); len(got) == 0 || got[0] != "CONNECT scispot-upstream.invalid:443" {
		t.Errorf("control: the proxy saw %q, want the default client's CONNECT; the test proves nothing otherwise", got)
	}
}

func proxyVars(proxy string) []string {
	return []string{"HTTPS_PROXY=" + proxy, "HTTP_PROXY=" + proxy, "https_proxy=" + proxy, "http_proxy=" + proxy}
}

// TestCertificateEnvironmentIgnored: SSL_CERT_FILE and SSL_CERT_DIR naming
// an attacker's CA do not make the attacker's TLS server trusted, so the
// token is never sent to it. crypto/x509 reads those variables once per
// process, so the client also runs in a helper process that starts with
// them set; the same helper with Go's default client shows that they make
// an ordinary client trust the attacker.
func TestCertificateEnvironmentIgnored(t *testing.T) {
	var reached atomic.Int32
	attacker := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	attacker.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	attacker.StartTLS()
	t.Cleanup(attacker.Close)

	dir := t.TempDir()
	bundle := filepath.Join(dir, "attacker-ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: attacker.Certificate().Raw})
	if err := os.WriteFile(bundle, pemData, 0o644); err != nil {
		t.Fatal(err)
	}
	certVars := []string{"SSL_CERT_FILE=" + bundle, "SSL_CERT_DIR=" + dir}

	out := runHelper(t, "upstream", attacker.URL+"/", certVars...)
	if !strings.Contains(out, fmt.Sprintf("done: kind %d", upstream.Unavailable)) || !strings.Contains(out, "TLS certificate not trusted") {
		t.Errorf("helper: %s; want Unavailable: TLS certificate not trusted", out)
	}

	// In this process too, with the variables set late.
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", dir)
	for _, k := range proxyEnv {
		t.Setenv(k, "")
	}
	c := newClient(t, attacker.URL+"/", testToken, &upstream.Options{Timeout: 5 * time.Second})
	_, err := c.CallTool(ctxGuard(t), &mcp.CallToolParams{Name: "list_labspaces"})
	if upstream.KindOf(err) != upstream.Unavailable || !strings.Contains(err.Error(), "TLS certificate not trusted") {
		t.Errorf("CallTool = %v, want Unavailable: TLS certificate not trusted", err)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the attacker's server got %d requests", n)
	}

	// The control.
	out = runHelper(t, "default-client", attacker.URL, certVars...)
	if !strings.Contains(out, "done: status 200") || reached.Load() != 1 {
		t.Errorf("control: the default client with SSL_CERT_FILE got %q (%d requests), want status 200; the test proves nothing otherwise", out, reached.Load())
	}
}

// runHelper runs TestHelperProcess in a new process, whose environment is
// this one without proxy or certificate variables, plus env.
func runHelper(t *testing.T, mode, target string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "SSL_CERT_FILE" || k == "SSL_CERT_DIR" || slices.Contains(proxyEnv, k) {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, append([]string{"UPSTREAM_HELPER=" + mode, "UPSTREAM_HELPER_TARGET=" + target}, env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper %s: %v\n%s", mode, err, out.String())
	}
	return out.String()
}

// TestHelperProcess is the helper of runHelper. Mode "upstream" lists the
// tools of the target with this package's client; mode "default-client"
// gets it with http.DefaultClient (proxy from the environment, system roots
// that SSL_CERT_FILE can replace).
func TestHelperProcess(t *testing.T) {
	mode, target := os.Getenv("UPSTREAM_HELPER"), os.Getenv("UPSTREAM_HELPER_TARGET")
	if mode == "" {
		t.Skip("helper process only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch mode {
	case "upstream":
		c, err := upstream.NewHTTP(target, testToken, &upstream.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.ListTools(ctx)
		fmt.Printf("done: kind %d: %v\n", upstream.KindOf(err), err)
	case "default-client":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// With the proxy, an error is expected (its tunnel to the
			// unresolvable name fails): what matters is what it saw.
			fmt.Println("done: error:", err)
			return
		}
		_ = resp.Body.Close()
		fmt.Println("done: status", resp.StatusCode)
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
}

func TestParseProxyURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://proxy.lab.example:3128":   "http://proxy.lab.example:3128",
		"https://proxy.lab.example:8443/": "https://proxy.lab.example:8443",
		"http://127.0.0.1:3128":           "http://127.0.0.1:3128",
		"http://[::1]:3128":               "http://[::1]:3128",
		"http://proxy":                    "http://proxy",
	} {
		u, err := upstream.ParseProxyURL(raw)
		if err != nil || u.String() != want {
			t.Errorf("ParseProxyURL(%q) = %v, %v; want %s", raw, u, err, want)
		}
	}
	if u, err := upstream.ParseProxyURL(""); u != nil || err != nil {
		t.Errorf(`ParseProxyURL("") = %v, %v; want no proxy`, u, err)
	}
	for _, raw := range []string{
		"proxy:3128", "socks5://127.0.0.1:1080", "http://", "http://:3128", "http:proxy",
		"http://user:secret@proxy:3128", "http://proxy:0", "http://proxy:99999", "http://proxy:",
		"http://proxy:3128/path", "http://proxy:3128?q", "http://proxy:3128#f", "http://[::1",
	} {
		u, err := upstream.ParseProxyURL(raw)
		if !errors.Is(err, upstream.ErrInvalidProxy) {
			t.Errorf("ParseProxyURL(%q) = %v, %v; want ErrInvalidProxy", raw, u, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q repeats the password", err)
		}
	}
}

func TestNewHTTPProxyRules(t *testing.T) {
	remote := mustProxyURL(t, "http://proxy.lab.example:3128")
	local := mustProxyURL(t, "http://127.0.0.1:3128")
	tests := []struct {
		name     string
		endpoint string
		opts     upstream.Options
		ok       bool
	}{
		{"https through a remote proxy", "https://mcp.scispot.io/", upstream.Options{Proxy: remote}, true},
		{"loopback http through a loopback proxy", "http://127.0.0.1:8080/", upstream.Options{Proxy: local}, true},
		{"loopback http through a remote proxy: the token would cross the network", "http://127.0.0.1:8080/", upstream.Options{Proxy: remote}, false},
		{"proxy with credentials", "https://mcp.scispot.io/", upstream.Options{Proxy: &url.URL{Scheme: "http", Host: "proxy:3128", User: url.UserPassword("a", "b")}}, false},
		{"proxy with another scheme", "https://mcp.scispot.io/", upstream.Options{Proxy: &url.URL{Scheme: "socks5", Host: "proxy:1080"}}, false},
		{"proxy and a client's own transport", "https://mcp.scispot.io/", upstream.Options{Proxy: remote, HTTPClient: &http.Client{Transport: http.DefaultTransport}}, false},
		{"proxy and a client without transport", "https://mcp.scispot.io/", upstream.Options{Proxy: remote, HTTPClient: &http.Client{}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := upstream.NewHTTP(tt.endpoint, testToken, &tt.opts)
			if c != nil {
				_ = c.Close()
			}
			if tt.ok != (err == nil) {
				t.Fatalf("NewHTTP = %v, want ok %t", err, tt.ok)
			}
			if err != nil && !errors.Is(err, upstream.ErrInvalidProxy) {
				t.Errorf("error %v does not wrap ErrInvalidProxy", err)
			}
		})
	}
}

// TestTransportTunnelsTLSThroughProxy: an https upstream is reached through
// an http proxy with CONNECT, and its certificate is checked against the
// roots the transport was given, end to end through the tunnel.
func TestTransportTunnelsTLSThroughProxy(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	proxy := newTestProxy(t)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	tr := upstream.NewTransport(mustProxyURL(t, proxy.URL), roots)
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	if got := proxy.requests(); len(got) != 1 || got[0] != "CONNECT "+host {
		t.Errorf("the proxy saw %q, want one CONNECT %s", got, host)
	}

	// Without the upstream's CA in the roots, the tunnel does not help.
	tr2 := upstream.NewTransport(mustProxyURL(t, proxy.URL), x509.NewCertPool())
	t.Cleanup(tr2.CloseIdleConnections)
	if _, err := (&http.Client{Transport: tr2}).Get(srv.URL); err == nil {
		t.Error("an upstream signed by an unknown CA was trusted through the proxy")
	}

	// No proxy: the transport has none at all.
	if tr := upstream.NewTransport(nil, nil); tr.Proxy != nil {
		t.Error("a transport without a policy proxy has a Proxy function")
	}
}

// TestSystemRootsIgnoreEnvironment: the pool the service verifies against
// is the distribution's bundle, whatever SSL_CERT_FILE and SSL_CERT_DIR say.
func TestSystemRootsIgnoreEnvironment(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	bundle := filepath.Join(dir, "attacker.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", dir)

	verify := func(pool *x509.CertPool) error {
		_, err := srv.Certificate().Verify(x509.VerifyOptions{Roots: pool})
		return err
	}
	// The loader does read a bundle it is pointed at, and skips hash links
	// to names in the same folder.
	if err := os.Symlink("attacker.pem", filepath.Join(dir, "0123abcd.0")); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	if err := verify(upstream.LoadRoots([]string{filepath.Join(dir, "missing.pem"), bundle}, nil)); err != nil {
		t.Errorf("LoadRoots with the bundle: %v", err)
	}
	if err := verify(upstream.LoadRoots(nil, []string{dir})); err != nil {
		t.Errorf("LoadRoots with the folder: %v", err)
	}

	pool := upstream.SystemRootPool()
	if pool == nil {
		t.Skip("the operating system's verifier, which reads no environment variable")
	}
	if err := verify(pool); err == nil {
		t.Error("the system pool trusts the CA that SSL_CERT_FILE names")
	}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil && pool.Equal(x509.NewCertPool()) {
		t.Error("the system pool is empty although the distribution's bundle exists")
	}
}
