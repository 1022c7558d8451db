package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localhttp"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/stdio"
)

// tokenSource is the keychain as a session sees it: the token the relay
// brought, opened by the service, or why there is none.
type tokenSource struct {
	token string
	err   error
}

func (t tokenSource) Get(ctx context.Context, account string) (string, error) {
	if account != keychain.AccountToken {
		return "", &keychain.Error{Op: "reading", Account: account, Kind: keychain.ErrNotFound, Reason: "the service holds only the Scispot token"}
	}
	if t.err != nil {
		return "", t.err
	}
	if t.token == "" {
		return "", &keychain.Error{Op: "reading", Account: account, Kind: keychain.ErrNotFound, Reason: "no Scispot API token is stored in the keychain"}
	}
	return t.token, nil
}

func (tokenSource) Set(context.Context, string, string) error { return errors.New("read-only") }
func (tokenSource) Delete(context.Context, string) error      { return errors.New("read-only") }

// plainError carries a sentence the relay sent about the keychain.
type plainError string

func (e plainError) Error() string { return string(e) }

// openToken turns what the person's keychain holds into the token. A
// token stored before sealing existed is sealed now; sealed is then what
// the relay must store instead.
func (s *Service) openToken(c *caller, stored, relayErr string) (token, sealed string, err error) {
	stored = strings.TrimSpace(stored)
	switch {
	case relayErr != "":
		return "", "", plainError(relayErr)
	case stored == "":
		return "", "", nil
	case s.key == nil:
		return "", "", plainError("this is the demo instance of Scispot MCP, which cannot use a Scispot token")
	case !seal.IsSealed(stored):
		t, err := keychain.CleanToken(stored)
		if err != nil {
			return "", "", plainError("the item in the keychain is not a Scispot token: run `scispot-mcp token set` again")
		}
		sealed, err := s.key.Seal(c.owner, t)
		if err != nil {
			return "", "", err
		}
		return t, sealed, nil
	}
	t, err := s.key.Open(c.owner, stored)
	switch {
	case errors.Is(err, seal.ErrOtherKey):
		return "", "", plainError("the token in the keychain was sealed for another installation of the Scispot MCP service; run `scispot-mcp token set` again")
	case err != nil:
		return "", "", plainError("the token in the keychain does not open for this account on this device; run `scispot-mcp token set` again")
	}
	return t, "", nil
}

// sourcesFor are the facts of one session of the account.
func (s *Service) sourcesFor(c *caller, token string, tokenErr error) access.Sources {
	acct := c.account
	return access.Sources{
		Policy:      s.cfg.Policy,
		ControlFile: statedir.ControlFile(c.user.dir),
		User:        func() (account.Account, error) { return acct, nil },
		Enroll:      s.cfg.Enroll,
		Keychain:    tokenSource{token: token, err: tokenErr},
		Undelivered: s.undelivered,
		Now:         s.cfg.Now,
	}
}

// undelivered is the oldest audit record a destination still waits for.
func (s *Service) undelivered() (time.Time, bool) {
	if s.fwd == nil {
		return time.Time{}, false
	}
	return s.fwd.OldestUndelivered()
}

// hostRequest is what a relay or the CLI asked a session for.
type hostRequest struct {
	demo     bool
	token    string
	tokenErr error
	// localSecret is the account's local HTTP secret, which the relay
	// brought so that no result or record of the session carries it.
	localSecret string
	transport   audit.Transport
}

// startHost starts a gateway for one of the account's sessions.
func (s *Service) startHost(ctx context.Context, c *caller, hr hostRequest) (*session.Host, liveHost, error) {
	exe, signer, pid := s.launcher(ctx, c)
	l := liveHost{pid: pid, exe: exe, transport: hr.transport, started: s.cfg.Now()}
	src := s.sourcesFor(c, hr.token, hr.tokenErr)
	src.Launcher = &access.Launcher{Exe: exe, Signer: signer, SignersApply: signersApply}
	if hr.demo && hr.transport == audit.TransportCLI && s.isValidator(c) {
		src.Launcher = nil
	}
	h, err := session.Start(ctx, session.Config{
		Sources:   src,
		Demo:      hr.demo || s.cfg.Mode == localapi.ModeUserDemo,
		StateDir:  c.user.dir,
		Device:    s.cfg.DeviceID,
		Version:   s.cfg.Version,
		Transport: hr.transport,
		Logger:    s.log,
		Upstream:  s.cfg.Upstream,
		Guards:    c.user.guards,
		Secrets:   []string{hr.localSecret},
		SessionsChanged: func() {
			c.user.hub.publish(localapi.Event{Kind: localapi.EventStatus})
		},
		PID:      pid,
		Launcher: audit.Client{Exe: exe, Signer: signer},
		// Writes the AI client cannot have signed go to the account's
		// tray, and the service checks the person's password.
		Ask:             func(ctx context.Context, req confirm.Request) (confirm.Answer, error) { return s.ask(ctx, c.user, req) },
		FullName:        s.cfg.FullName,
		Pins:            s.pinsFor(hr.demo),
		Owner:           c.owner,
		Checkpoints:     s.checkpointSigner(),
		CheckpointEvery: s.cfg.CheckpointEvery,
	})
	return h, l, err
}

// signersApply: only macOS and Windows executables carry a code
// signature the service reads (package codesign), so only there does
// AllowedClientSigners decide anything.
const signersApply = runtime.GOOS == "darwin" || runtime.GOOS == "windows"

// checkpointSigner signs the trails' checkpoints; nil when the service
// has no device key.
func (s *Service) checkpointSigner() note.Signer {
	if s.deviceKey == nil {
		return nil
	}
	return s.deviceKey.Signer()
}

// verifyOptions check the checkpoints of the trails this service wrote
// against its device key.
func (s *Service) verifyOptions() []audit.VerifyOption {
	if s.deviceKey == nil {
		return nil
	}
	return []audit.VerifyOption{audit.WithKeys(s.deviceKey.Verifiers())}
}

// serveMCP is POST /localapi/v0/mcp with Upgrade: after "101 Switching
// Protocols" the connection is one MCP session over newline-delimited
// JSON-RPC, served here until the client leaves or access is stopped.
func (s *Service) serveMCP(w http.ResponseWriter, r *http.Request) {
	c, e := s.callerOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), localapi.UpgradeProtocol) {
		writeError(w, &localapi.Error{Status: http.StatusBadRequest, Sentence: "an MCP session needs Upgrade: " + localapi.UpgradeProtocol})
		return
	}
	demo := r.Header.Get(localapi.HeaderDemo) == "1"
	if s.cfg.Mode == localapi.ModeUserDemo && !demo {
		writeError(w, &localapi.Error{Status: http.StatusForbidden, Rule: "no-service",
			Sentence: "The Scispot MCP service (scispot-mcpd) is not installed on this workstation, and without it only the demo workspace can run; ask your IT admin to install Scispot MCP Desktop."})
		return
	}
	token, sealed, tokenErr := "", "", error(nil)
	if !demo {
		token, sealed, tokenErr = s.openToken(c, r.Header.Get(localapi.HeaderToken), r.Header.Get(localapi.HeaderTokenError))
	}
	transport := audit.TransportStdio
	if r.Header.Get(localapi.HeaderTransport) == string(audit.TransportCLI) {
		transport = audit.TransportCLI
	}
	// The session outlives nothing it started: its watchers end with it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	h, live, err := s.startHost(ctx, c, hostRequest{demo: demo, token: token, tokenErr: tokenErr,
		localSecret: r.Header.Get(localapi.HeaderLocalSecret), transport: transport})
	if err != nil {
		writeError(w, &localapi.Error{Status: http.StatusInternalServerError, Sentence: err.Error()})
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		h.Close(session.EndContext)
		writeError(w, &localapi.Error{Status: http.StatusInternalServerError, Sentence: "the connection cannot carry an MCP session"})
		return
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		h.Close(session.EndContext)
		return
	}
	defer conn.Close()
	head := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + localapi.UpgradeProtocol + "\r\n"
	if sealed != "" {
		head += localapi.HeaderSealed + ": " + sealed + "\r\n"
	}
	if _, err := rw.WriteString(head + "\r\n"); err != nil || rw.Flush() != nil {
		h.Close(session.EndContext)
		return
	}
	conn.SetDeadline(time.Time{})
	c.user.addHost(h, live)
	defer c.user.removeHost(h)
	if err := h.Serve(ctx, &stdio.Transport{In: rw.Reader, Out: conn}); err != nil {
		s.log.Warn("MCP session ended with an error", "account", c.account.Name, "err", err)
	}
	h.Close(session.EndClientLeft)
}

// httpKey names the gateway that serves one account's loopback HTTP
// relay: the demo, or Scispot with one token, behind one local secret.
type httpKey struct {
	demo        bool
	token       string // fingerprint
	localSecret string // fingerprint
}

type httpHost struct {
	host    *session.Host
	handler http.Handler
	pid     int
}

// serveMCPHTTP is everything under /localapi/v0/mcp-http/: the loopback
// HTTP relay (serve --http) passes each request of its clients here; the
// relay checked their Host, Origin and local secret.
func (s *Service) serveMCPHTTP(w http.ResponseWriter, r *http.Request) {
	c, e := s.callerOf(r)
	if e != nil {
		writeError(w, e)
		return
	}
	demo := r.Header.Get(localapi.HeaderDemo) == "1"
	if s.cfg.Mode == localapi.ModeUserDemo && !demo {
		writeError(w, &localapi.Error{Status: http.StatusForbidden, Rule: "no-service",
			Sentence: "The Scispot MCP service (scispot-mcpd) is not installed on this workstation, and without it only the demo workspace can run."})
		return
	}
	token, _, tokenErr := "", "", error(nil)
	if !demo {
		token, _, tokenErr = s.openToken(c, r.Header.Get(localapi.HeaderToken), r.Header.Get(localapi.HeaderTokenError))
	}
	hh, err := s.httpHostFor(r.Context(), c, hostRequest{demo: demo, token: token, tokenErr: tokenErr,
		localSecret: r.Header.Get(localapi.HeaderLocalSecret), transport: audit.TransportHTTP})
	if err != nil {
		writeError(w, &localapi.Error{Status: http.StatusInternalServerError, Sentence: err.Error()})
		return
	}
	if f := hh.host.Facts(); f.Policy.Err == nil && !f.Policy.Policy.AllowLocalHTTP {
		writeError(w, &localapi.Error{Status: http.StatusForbidden, Rule: access.RuleDisabled, Sentence: localHTTPOff})
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.TrimPrefix(r.URL.Path, localapi.Prefix+"mcp-http/")
	for _, h := range []string{localapi.HeaderToken, localapi.HeaderTokenError, localapi.HeaderDemo, localapi.HeaderLocalSecret} {
		r2.Header.Del(h)
	}
	hh.handler.ServeHTTP(w, r2)
}

const localHTTPOff = "The admin policy does not allow the local HTTP server on this workstation (AllowLocalHTTP is false); use the stdio entry that `scispot-mcp setup` writes."

func (s *Service) httpHostFor(ctx context.Context, c *caller, hr hostRequest) (*httpHost, error) {
	key := httpKey{demo: hr.demo}
	if hr.token != "" {
		key.token = keychain.Fingerprint(hr.token)
	}
	if hr.localSecret != "" {
		key.localSecret = keychain.Fingerprint(hr.localSecret)
	}
	u := c.user
	u.mu.Lock()
	hh, ok := u.http[key]
	u.mu.Unlock()
	if ok {
		select {
		case <-hh.host.Stopped():
			// Stopped by the kill switch: after a resume, a new gateway.
		default:
			return hh, nil
		}
	}
	h, live, err := s.startHost(context.WithoutCancel(ctx), c, hr)
	if err != nil {
		return nil, err
	}
	h.Watch(context.WithoutCancel(ctx))
	hh = &httpHost{host: h, handler: localhttp.Handler(h.Gateway().Server(), s.log), pid: live.pid}
	u.mu.Lock()
	if old, ok := u.http[key]; ok && old != hh {
		defer old.host.Close(session.EndStopped)
	}
	u.http[key] = hh
	u.mu.Unlock()
	return hh, nil
}

func errorf(status int, rule, format string, args ...any) *localapi.Error {
	return &localapi.Error{Status: status, Rule: rule, Sentence: fmt.Sprintf(format, args...)}
}

// isValidator reports whether the caller is the installed scispot-mcp
// running `validate`, or the installed tray (which opens sessions only to
// validate); see Validators. The file the process runs must be the
// installed one itself, not another shown at its path by a private mount.
func (s *Service) isValidator(c *caller) bool {
	v := s.cfg.Validators
	if s.cfg.ProcessExe == nil || s.cfg.ProcessExeFile == nil || c.cred.PID <= 0 || (v.CLI == "" && v.Tray == "") {
		return false
	}
	exe, err := s.cfg.ProcessExe(c.cred.PID)
	if err != nil || exe == "" || (exe != v.Tray && exe != v.CLI) {
		return false
	}
	running, err := s.cfg.ProcessExeFile(c.cred.PID)
	if err != nil {
		return false
	}
	installed, err := os.Stat(exe)
	if err != nil || !os.SameFile(running, installed) {
		return false
	}
	if exe == v.Tray {
		return true
	}
	// The same program is also the relay (serve) an AI client starts;
	// only its validate command is validation.
	if s.cfg.ProcessArgs == nil {
		return false
	}
	args, err := s.cfg.ProcessArgs(c.cred.PID)
	return err == nil && len(args) > 1 && args[1] == "validate"
}
