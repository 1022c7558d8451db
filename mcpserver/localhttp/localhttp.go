// Package localhttp serves the gateway over Streamable HTTP on the
// loopback interface, for AI clients that cannot launch a stdio server.
// Three walls stand in front of the MCP handler:
//
//   - the listener accepts only a loopback address (CheckAddr);
//   - Host and Origin must name this machine, so a web page cannot reach
//     the server through DNS rebinding (403);
//   - every request carries Authorization: Bearer <local secret>, a random
//     32-byte secret kept in the OS keychain — never the Scispot token (401).
package localhttp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/scispot/mcp-desktop/device/keychain"
)

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
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="scispot-mcp-local"`)
			http.Error(w, "Unauthorized: this local server needs its secret as Authorization: Bearer (the tray's Start local server copies a ready snippet)", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
