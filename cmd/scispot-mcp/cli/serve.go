package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localhttp"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/stdio"
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
	h, err := startSession(ctx, env, *useDemo, audit.TransportStdio)
	if err != nil {
		return err
	}
	if r := h.Gateway().State().Refusal; r != nil {
		// Clients show a server's stderr in their logs: say it there too.
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: access blocked: %s\n", r.Sentence)
	}
	if err := h.Serve(ctx, &stdio.Transport{In: env.Stdin, Out: env.Stdout}); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serving MCP on stdio: %w", err)
	}
	return nil
}

// serveHTTP runs the gateway on loopback Streamable HTTP until ctx ends or
// the kill switch or policy stops it. Each MCP session is audited like a
// stdio one, with transport "http". With printFor, a ready connection for
// that client goes to stdout once the server listens.
func serveHTTP(ctx context.Context, env Env, useDemo bool, addr, printFor string) error {
	return runHTTPGateway(ctx, env, useDemo, addr, func(url, secret string) error {
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

// runHTTPGateway is serve --http and the tray's Start local server: it
// calls ready with the URL and the local secret once it listens, and
// stops if ready fails.
func runHTTPGateway(ctx context.Context, env Env, useDemo bool, addr string, ready func(url, secret string) error) error {
	h, err := startSession(ctx, env, useDemo, audit.TransportHTTP)
	if err != nil {
		return err
	}
	facts := h.Facts()
	if facts.Policy.Err == nil && !facts.Policy.Policy.AllowLocalHTTP {
		h.Close(session.EndContext)
		return &refusedError{r: &gateway.Refusal{Rule: access.RuleDisabled, Sentence: "The admin policy does not allow the local HTTP server on this workstation (AllowLocalHTTP is false); use the stdio entry that `scispot-mcp setup` writes."}}
	}
	secret, err := localhttp.Secret(ctx, env.Keychain)
	if err != nil {
		h.Close(session.EndContext)
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		h.Close(session.EndContext)
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           localhttp.Guard(localhttp.Handler(h.Gateway().Server(), env.Logger), secret),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	h.Watch(ctx)
	if err := ready(fmt.Sprintf("http://%s/", ln.Addr()), secret); err != nil {
		srv.Close()
		h.Close(session.EndContext)
		return err
	}
	if r := h.Gateway().State().Refusal; r != nil {
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: access blocked: %s\n", r.Sentence)
	}
	reason := session.EndContext
	select {
	case <-ctx.Done():
	case <-h.Stopped():
		reason = h.StopReason()
	case err := <-served:
		h.Close(session.EndContext)
		return fmt.Errorf("serving HTTP on %s: %w", addr, err)
	}
	// Cancelled calls answer with the stop sentence before we go.
	grace, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	h.Gateway().Drain(grace)
	srv.Shutdown(grace)
	h.Close(reason)
	return nil
}
