package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localhttp"
	"github.com/scispot/mcp-desktop/mcpserver/relay"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--demo] [--http 127.0.0.1:PORT [--print-config CLIENT]]")
	useDemo := fs.Bool("demo", false, "serve the built-in demo workspace instead of Scispot")
	httpAddr := fs.String("http", "", "serve over Streamable HTTP on this loopback address instead of stdio (policy AllowLocalHTTP)")
	printFor := fs.String("print-config", "", "with --http: once listening, print a ready connection for this client ("+strings.Join(localhttp.EntryClients(), ", ")+")")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *printFor != "" {
		if *httpAddr == "" {
			return usagef("--print-config needs --http")
		}
		if !slices.Contains(localhttp.EntryClients(), *printFor) {
			return usagef("--print-config %q: choose one of %s", *printFor, strings.Join(localhttp.EntryClients(), ", "))
		}
	}
	if *httpAddr != "" {
		if err := localhttp.CheckAddr(*httpAddr); err != nil {
			return usagef("%v", err)
		}
		return serveHTTP(ctx, env, *useDemo, *httpAddr, *printFor)
	}
	return serveStdio(ctx, env, *useDemo)
}

// storedToken is what the keychain holds for the service to open, or the
// sentence saying why it could not be read.
func storedToken(ctx context.Context, env Env) (token, problem string) {
	t, err := env.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case err == nil:
		return t, ""
	case errors.Is(err, keychain.ErrNotFound):
		return "", ""
	}
	return "", err.Error()
}

// localSecret is the account's local HTTP secret, if it has one, so the
// service can keep it out of every result and record. It is read, never
// created: an account that never ran serve --http has none to leak.
func localSecret(ctx context.Context, env Env) string {
	s, err := env.Keychain.Get(ctx, keychain.AccountLocalSecret)
	if err != nil {
		return ""
	}
	return s
}

// resealed replaces a token stored before sealing existed with its sealed
// form, so the keychain no longer holds anything usable elsewhere.
func resealed(ctx context.Context, env Env, sealed string) {
	if sealed == "" {
		return
	}
	if err := env.Keychain.Set(ctx, keychain.AccountToken, sealed); err != nil {
		env.Logger.Warn("could not replace the plain token in the keychain with its sealed form", "err", err)
	}
}

// serveStdio relays the AI client's stdio to the service. Without a
// service the client still gets the refused state and its sentence.
func serveStdio(ctx context.Context, env Env, demo bool) error {
	refuse := func(r *gateway.Refusal) error {
		// Clients show a server's stderr in their logs: say it there too.
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: access blocked: %s\n", r.Sentence)
		return relay.Refused(ctx, env.Stdin, env.Stdout, r, env.Build.Version)
	}
	c, err := env.service(ctx, demo)
	var re *refusedError
	if errors.As(err, &re) {
		return refuse(re.r)
	}
	if err != nil {
		return err
	}
	opts := localapi.MCPOptions{Demo: demo, Transport: string(audit.TransportStdio)}
	if !demo {
		opts.Token, opts.TokenError = storedToken(ctx, env)
		opts.LocalSecret = localSecret(ctx, env)
	}
	conn, sealed, err := c.OpenMCP(ctx, opts)
	if err != nil {
		var e *localapi.Error
		if errors.As(err, &e) {
			return refuse(&gateway.Refusal{Rule: e.Rule, Sentence: e.Sentence})
		}
		return refuse(noService(err))
	}
	resealed(ctx, env, sealed)
	err = relay.Stdio(ctx, env.Stdin, env.Stdout, conn)
	conn.Close()
	if errors.Is(err, relay.ErrServiceGone) {
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: %s\n", relay.GoneSentence)
		return &exitCodeError{code: ExitFailed}
	}
	return err
}

// serveHTTP relays loopback Streamable HTTP to the service. It guards the
// door the way the service cannot see it: loopback only, Host and Origin of
// this machine, the local secret. The service decides the rest. With
// printFor, a ready connection for that client goes to stdout.
func serveHTTP(ctx context.Context, env Env, demo bool, addr, printFor string) error {
	return runHTTPRelay(ctx, env, demo, addr, func(url, secret string) error {
		fmt.Fprintf(env.Stderr, "Scispot MCP is serving on %s — clients send its local secret as Authorization: Bearer; `scispot-mcp serve --http %s --print-config CLIENT` prints a ready entry.\n", url, addr)
		if printFor == "" {
			return nil
		}
		state, err := env.stateDir()
		if err != nil {
			return err
		}
		c := localhttp.Connection{URL: url, Secret: secret, HeaderFile: statedir.LocalHTTPHeaderFile(state)}
		if printFor == "claude-desktop" || printFor == "mcp-remote" {
			if err := c.WriteHeaderFile(); err != nil {
				return err
			}
		}
		entry, err := c.Entry(printFor)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, entry)
		return nil
	})
}

// runHTTPRelay is serve --http and the tray's Start local server: it calls
// ready with the URL and the local secret once it listens, and stops if
// ready fails.
func runHTTPRelay(ctx context.Context, env Env, demo bool, addr string, ready func(url, secret string) error) error {
	c, err := env.service(ctx, demo)
	if err != nil {
		return err
	}
	var token, problem string
	if !demo {
		token, problem = storedToken(ctx, env)
	}
	st, err := c.Status(ctx, localapi.StatusRequest{Token: token, TokenError: problem})
	if err != nil {
		return apiError(err)
	}
	if st.Policy.Valid && st.Policy.Effective["AllowLocalHTTP"] != true {
		return &refusedError{r: &gateway.Refusal{Rule: access.RuleDisabled, Sentence: "The admin policy does not allow the local HTTP server on this workstation (AllowLocalHTTP is false); use the stdio entry that `scispot-mcp setup` writes."}}
	}
	secret, err := localhttp.Secret(ctx, env.Keychain)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	proxy := &httputil.ReverseProxy{
		// The local secret goes only to the system service.
		Transport:     c.HTTPTransport(!demo),
		FlushInterval: -1, // event streams pass through as they come
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "scispot-mcpd.local"
			pr.Out.URL.Path = localapi.Prefix + "mcp-http" + pr.In.URL.Path
			pr.Out.URL.RawPath = ""
			pr.Out.Header.Del("Authorization") // the local secret stays here
			if demo {
				pr.Out.Header.Set(localapi.HeaderDemo, "1")
			}
			if token != "" {
				pr.Out.Header.Set(localapi.HeaderToken, token)
			}
			if problem != "" {
				pr.Out.Header.Set(localapi.HeaderTokenError, problem)
			}
			if !demo {
				pr.Out.Header.Set(localapi.HeaderLocalSecret, secret)
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"error":"service_unavailable","error_description":%q}`, relay.GoneSentence)
		},
	}
	srv := &http.Server{
		Handler:           localhttp.Guard(proxy, secret),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	// The relay ends when the kill switch or the admin stops access, as a
	// stdio session does: the service says so on the event stream.
	stopped := make(chan string, 1)
	events, err := c.Events(ctx)
	if err != nil {
		ln.Close()
		return apiError(err)
	}
	go func() {
		// A relay started while access is stopped serves the refusal and
		// waits for a resume; it ends when access goes from on to off.
		off := func(st localapi.Status) bool { return st.Killed || st.Access.Rule == access.RuleDisabled }
		wasOff := off(st)
		for e := range events.C {
			if e.Kind != localapi.EventStatus {
				continue
			}
			now, err := c.Status(ctx, localapi.StatusRequest{Token: token, TokenError: problem})
			if err != nil {
				continue
			}
			if off(now) && !wasOff {
				stopped <- now.Access.Reason
				return
			}
			wasOff = off(now)
		}
		if ctx.Err() == nil {
			stopped <- relay.GoneSentence
		}
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if err := ready(fmt.Sprintf("http://%s/", ln.Addr()), secret); err != nil {
		srv.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case why := <-stopped:
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: %s\n", why)
	case err := <-served:
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	}
	shut, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(shut)
	return nil
}
