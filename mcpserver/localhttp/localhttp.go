// Package localhttp serves the gateway over Streamable HTTP on the
// loopback interface, for AI clients that cannot launch a stdio server.
// Three walls stand in front of the MCP handler:
//
//   - the listener accepts only a loopback address (CheckAddr);
//   - Host and Origin must name this machine, so a web page cannot reach
//     the server through DNS rebinding (403);
//   - every request carries Authorization: Bearer <local secret>, a random
//     32-byte secret kept in the OS keychain — never the Scispot token.
//
// The secret is not OAuth. The MCP authorization spec makes OAuth optional
// and its error table gives 400 to a malformed authorization request; RFC
// 6750 §3.1 answers a request that lacks what the resource needs with
// invalid_request and 400. That is what a missing or wrong secret gets: 400
// with a JSON body whose error_description is the sentence, and no
// WWW-Authenticate. The alternatives were tried with the real clients: on
// any 401, with or without the header, mcp-remote, the Inspector and Claude
// Code probe for OAuth metadata and register a client (mcp-remote then
// waits for a browser); on a 403 Claude Code shows only "Needs
// authentication". With 400 all three show the sentence. Every OAuth
// metadata path under /.well-known/ is 404.
package localhttp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/keychain"
)

// statelessVersion is the first protocol version without sessions
// (SEP-2575): each request stands alone and carries its own version.
const statelessVersion = "2026-07-28"

// Handler serves srv over Streamable HTTP for every protocol version. The
// go-sdk serves 2026-07-28 and later only statelessly and the earlier
// versions only with sessions, so requests that name a stateless version
// in their MCP-Protocol-Version header go to a stateless handler and all
// others (initialize, and everything in a session it opened) to a
// stateful one.
func Handler(srv *mcp.Server, logger *slog.Logger) http.Handler {
	opts := mcp.StreamableHTTPOptions{
		Logger:              logger,
		MaxRequestBodyBytes: 16 << 20,
		SessionTimeout:      30 * time.Minute,
	}
	stateful := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &opts)
	opts.Stateless = true
	stateless := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Mcp-Protocol-Version"); v >= statelessVersion && r.Header.Get("Mcp-Session-Id") == "" {
			stateless.ServeHTTP(w, r)
			return
		}
		stateful.ServeHTTP(w, r)
	})
}

// CheckAddr accepts HOST:PORT only when HOST is a loopback address or
// localhost.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT, such as 127.0.0.1:8765", addr)
	}
	if port == "" {
		return fmt.Errorf("%q has no port", addr)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("the local server listens only on this workstation's loopback address (127.0.0.1 or ::1), not %q", host)
	}
	return nil
}

func loopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Secret returns the local HTTP secret, creating and storing one on first
// use.
func Secret(ctx context.Context, kc keychain.Store) (string, error) {
	s, err := kc.Get(ctx, keychain.AccountLocalSecret)
	if err == nil && s != "" {
		return s, nil
	}
	if err != nil && !errors.Is(err, keychain.ErrNotFound) {
		return "", fmt.Errorf("reading the local server's secret from the keychain: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making the local server's secret: %w", err)
	}
	s = hex.EncodeToString(b)
	if err := kc.Set(ctx, keychain.AccountLocalSecret, s); err != nil {
		return "", fmt.Errorf("storing the local server's secret in the keychain: %w", err)
	}
	return s, nil
}

// refuse answers with a JSON body that OAuth-aware clients and people can
// both read: error and error_description as in RFC 6749, and message.
func refuse(w http.ResponseWriter, status int, code, sentence string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": sentence, "message": sentence})
}

// Guard wraps the MCP handler with the Host, Origin and secret checks.
func Guard(next http.Handler, secret string) http.Handler {
	want := []byte("Bearer " + secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if !loopbackHost(host) {
			http.Error(w, fmt.Sprintf("Forbidden: the Host %q is not this workstation's loopback address", r.Host), http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			u, err := url.Parse(o)
			if err != nil || !loopbackHost(u.Hostname()) {
				http.Error(w, fmt.Sprintf("Forbidden: requests from the web origin %q are not accepted", o), http.StatusForbidden)
				return
			}
		} else if o == "null" {
			http.Error(w, "Forbidden: requests from an opaque origin are not accepted", http.StatusForbidden)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			refuse(w, http.StatusNotFound, "not_found", "This local Scispot MCP server does not use OAuth: send its secret as Authorization: Bearer (`scispot-mcp serve --http ADDR --print-config CLIENT` prints a ready entry).")
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			why := "The local Scispot MCP server needs its secret as Authorization: Bearer, and this request has none"
			if len(got) > 0 {
				why = "The local Scispot MCP server did not accept this request's Authorization header: it needs the local secret (never your Scispot token)"
			}
			refuse(w, http.StatusBadRequest, "invalid_request", why+"; run `scispot-mcp serve --http ADDR --print-config CLIENT`, or use the tray's Start local server, for a ready entry.")
			return
		}
		next.ServeHTTP(w, r)
	})
}
