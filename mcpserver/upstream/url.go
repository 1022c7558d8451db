package upstream

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidURL is wrapped by every error ParseURL (and so NewHTTP) returns.
var ErrInvalidURL = errors.New("invalid Scispot MCP URL")

// ParseURL checks an upstream URL (policy key UpstreamURL) and returns it
// normalised. It must be an absolute http or https URL with a host and no
// user name or password; plain http is accepted only for loopback hosts
// (127.0.0.0/8, ::1, localhost), because anything else would send the
// user's token in the clear.
//
// Error messages never repeat the raw URL: an admin may have pasted a
// secret into it.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: it cannot be parsed as a URL", ErrInvalidURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%w: it must start with https://", ErrInvalidURL)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: it has no host name", ErrInvalidURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: it must not contain a user name or password", ErrInvalidURL)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: port %q of %s is out of range", ErrInvalidURL, p, u.Hostname())
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, fmt.Errorf("%w: it has an empty port", ErrInvalidURL)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%w: %s must be reached over https (plain http is allowed only for 127.0.0.1, ::1 and localhost)", ErrInvalidURL, u.Hostname())
	}
	u.Fragment, u.RawFragment = "", "" // never sent anyway
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// ErrInvalidProxy is wrapped by every error ParseProxyURL (and so NewHTTP,
// for Options.Proxy) returns.
var ErrInvalidProxy = errors.New("invalid proxy for Scispot MCP")

// ParseProxyURL checks an outbound proxy (policy key UpstreamProxy) and
// returns it normalised: "" means none (nil, nil); anything else must be an
// http:// or https:// URL with a host and, optionally, a port (default 80
// and 443), and nothing else: no user name or password, path, query or
// fragment. Like ParseURL, its errors never repeat the raw value.
func ParseProxyURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: it cannot be parsed as a URL", ErrInvalidProxy)
	}
	if err := checkProxy(u); err != nil {
		return nil, err
	}
	n := &url.URL{Scheme: u.Scheme, Host: u.Host}
	return n, nil
}

// checkProxy applies ParseProxyURL's rules to a parsed URL.
func checkProxy(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: it must start with http:// or https://", ErrInvalidProxy)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: it has no host name", ErrInvalidProxy)
	}
	if u.User != nil {
		return fmt.Errorf("%w: it must not contain a user name or password", ErrInvalidProxy)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%w: port %q of %s is out of range", ErrInvalidProxy, p, u.Hostname())
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%w: it has an empty port", ErrInvalidProxy)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%w: it must be only the proxy's scheme, host and port", ErrInvalidProxy)
	}
	return nil
}

// isLoopbackHost reports whether host (without port or brackets) names this
// machine: localhost, 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback()
}

// origin is what a request must match to carry the token: scheme, host and
// port, with the default port made explicit so https://h and https://h:443
// compare equal.
type origin struct {
	scheme, host, port string
}

func originOf(u *url.URL) origin {
	o := origin{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), port: u.Port()}
	if o.port == "" {
		switch o.scheme {
		case "https":
			o.port = "443"
		case "http":
			o.port = "80"
		}
	}
	return o
}
