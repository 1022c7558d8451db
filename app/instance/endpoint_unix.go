//go:build !windows

package instance

import (
	"context"
	"net"
	"os"
	"path/filepath"
)

const sockName = "tray.sock"

// listen opens the Unix socket. The caller holds the lock, so a socket
// file already there is left over from a crash and is replaced.
func listen(dir string) (net.Listener, string, error) {
	path := filepath.Join(dir, sockName)
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, "", err
	}
	// The state folder is 0700 already; the socket itself is the user's only.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, "", err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, "", nil
}

func dial(ctx context.Context, dir string) (net.Conn, string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dir, sockName))
	return c, "", err
}

func cleanup(dir string) {}
