// Package localsock is the transport of scispot-mcpd's local API: a Unix
// socket on Linux and macOS, a named pipe on Windows, behind one Listen
// (the service) and one Dial (the CLI, the tray and the serve relay).
//
//	Linux    /run/scispot-mcp/mcpd.sock   folder 0755 root, socket 0666
//	macOS    /var/run/scispot-mcp.sock    socket 0666
//	Windows  \\.\pipe\scispot-mcp         Authenticated Users read/write,
//	                                      SYSTEM and Administrators full
//	                                      control, local clients only
//
// Every local user may connect. Connecting proves nothing: the service asks
// the operating system who is calling (device/peercred.Get on the accepted
// connection) and authorises each request from that answer, never from
// anything the caller sends.
//
// What makes the endpoint trustworthy for the clients is where it lives:
// only root (or SYSTEM) can create it. On Unix the socket's folder must be
// owned by root or by the service's own user and must not be writable by
// other users unless it is sticky (like /tmp), otherwise Listen refuses with
// ErrUnsafeDir; the service's packaging creates /run/scispot-mcp as 0755
// root:root, and Listen creates it so when it is missing. Only the folder
// that holds the socket is checked, not the folders above it. On Windows the
// service creates the pipe before any user can log on, and the first
// instance of a pipe name decides its security descriptor (see
// localsock_windows.go).
//
// A client about to send something secret (an account password) should
// first check who serves the endpoint: device/peercred.Get on the client's
// end of the connection reports root, or on Windows a pipe owned by SYSTEM,
// for the real service.
//
// Listen never removes something it did not make: a socket file is replaced
// only when nobody answers on it (a service that crashed), a live socket
// gives ErrInUse, and anything else at the path gives ErrNotSocket.
package localsock

import (
	"context"
	"errors"
	"net"
	"runtime"
)

// Default endpoints of the system service's local API (design.md, "Where
// things live").
const (
	linuxPath   = "/run/scispot-mcp/mcpd.sock"
	darwinPath  = "/var/run/scispot-mcp.sock"
	windowsPath = `\\.\pipe\scispot-mcp`
)

var (
	// ErrInUse means a live service already listens at the path.
	ErrInUse = errors.New("another service is already listening there")

	// ErrNotSocket means something other than a socket (a regular file, a
	// folder, a symlink…) is at the socket's path; Listen leaves it alone.
	ErrNotSocket = errors.New("not a socket; refusing to replace it")

	// ErrUnsafeDir means the socket's folder could let another user replace
	// the socket: it is not a folder, is writable by others without the
	// sticky bit, or belongs to a user other than root and the service.
	ErrUnsafeDir = errors.New("unsafe socket folder")

	// ErrNotRunning means nothing listens at the path: the service is not
	// installed or not running.
	ErrNotRunning = errors.New("scispot-mcpd is not running")

	// ErrUnsupported means this platform has neither Unix sockets nor named
	// pipes.
	ErrUnsupported = errors.New("local sockets are not supported on this platform")
)

// DefaultPath returns the path of the system service's local API on this
// platform.
func DefaultPath() string {
	switch runtime.GOOS {
	case "linux":
		return linuxPath
	case "windows":
		return windowsPath
	default: // macOS and the BSDs
		return darwinPath
	}
}

// Listen creates the local API endpoint at path (a Unix socket path, or a
// named pipe name \\.\pipe\… on Windows) and listens on it. Closing the
// listener removes the socket file.
func Listen(path string) (net.Listener, error) {
	return listen(path)
}

// Dial connects to the local API endpoint at path. When nothing listens
// there the error matches ErrNotRunning. ctx bounds the connection attempt
// only, not the returned connection.
func Dial(ctx context.Context, path string) (net.Conn, error) {
	return dial(ctx, path)
}
