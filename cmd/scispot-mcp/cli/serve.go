package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localhttp"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/stdio"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--demo] [--http 127.0.0.1:PORT]")
	useDemo := fs.Bool("demo", false, "serve the built-in demo workspace instead of Scispot")
	httpAddr := fs.String("http", "", "serve over Streamable HTTP on this loopback address instead of stdio (policy AllowLocalHTTP)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *httpAddr != "" {
		if err := localhttp.CheckAddr(*httpAddr); err != nil {
			return usagef("%v", err)
		}
		return serveHTTP(ctx, env, *useDemo, *httpAddr)
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
// stdio one, with transport "http".
func serveHTTP(ctx context.Context, env Env, useDemo bool, addr string) error {
	return runHTTPGateway(ctx, env, useDemo, addr, func(url, _ string) {
		fmt.Fprintf(env.Stderr, "Scispot MCP is serving on %s — clients must send Authorization: Bearer <the local secret in the OS keychain, account %q>.\n", url, "local-http-secret")
	})
}

// runHTTPGateway is serve --http and the tray's Start local server: it
// calls ready with the URL and the local secret once it listens.
func runHTTPGateway(ctx context.Context, env Env, useDemo bool, addr string, ready func(url, secret string)) error {
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
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return h.Gateway().Server() }, &mcp.StreamableHTTPOptions{
		Logger:              env.Logger,
		MaxRequestBodyBytes: 16 << 20,
		SessionTimeout:      30 * time.Minute,
	})
	srv := &http.Server{
		Handler:           localhttp.Guard(mcpHandler, secret),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	h.Watch(ctx)
	ready(fmt.Sprintf("http://%s/", ln.Addr()), secret)
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
