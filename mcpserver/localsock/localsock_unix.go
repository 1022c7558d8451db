//go:build unix

package localsock

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

const (
	// socketMode lets every local user connect; authorisation is per
	// request, from the peer's credentials.
	socketMode = 0o666
	// dirMode is for a socket folder Listen creates: everyone may reach
	// the socket, only its owner may add or remove entries.
	dirMode = 0o755
	// probeTimeout bounds the check for a live service on an existing
	// socket. Connecting to a local socket does not wait for the other
	// side to accept, so this only matters for a hung kernel.
	probeTimeout = 2 * time.Second
)

func listen(path string) (net.Listener, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("listening on %q: the socket path must be absolute", path)
	}
	if err := prepareDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	// Between removeStale and here a second service could start and take
	// the path; Listen then fails with "address already in use", which is
	// the right outcome. Only one service instance is started by the
	// service manager, so this window is not worth a lock file.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	// bind(2) applied the umask; set the mode the contract promises. The
	// folder is not writable by others, so nobody can swap the socket in
	// between.
	if err := os.Chmod(path, socketMode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("opening the socket %s to local users: %w", path, err)
	}
	return ln, nil
}

// prepareDir makes sure dir exists and that no other user can replace what
// is in it.
func prepareDir(dir string) error {
	fi, err := os.Stat(dir) // follows symlinks: macOS's /var/run is one
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("creating the socket folder: %w", err)
		}
		// MkdirAll applied the umask; every user must be able to reach
		// the socket.
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("setting the mode of the socket folder: %w", err)
		}
		fi, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("checking the socket folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("checking the socket folder %s: not a folder: %w", dir, ErrUnsafeDir)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("checking the socket folder %s: every user may write to it (mode %s) and it is not sticky: %w",
			dir, fi.Mode(), ErrUnsafeDir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if owner := int(st.Uid); owner != 0 && owner != os.Geteuid() {
			return fmt.Errorf("checking the socket folder %s: owned by uid %d, neither root nor this service: %w",
				dir, owner, ErrUnsafeDir)
		}
	}
	return nil
}

// removeStale clears path for a new socket: nothing there is fine, a
// socket nobody answers on is removed, anything else is an error.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listening on %s: found %s: %w", path, describe(fi.Mode()), ErrNotSocket)
	}
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		c.Close()
		return fmt.Errorf("listening on %s: %w", path, ErrInUse)
	}
	// Only "connection refused" proves that nobody listens. Anything else
	// (permission denied, a full backlog, a timeout) could be a live
	// service, so the socket stays.
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("checking whether a service still listens on %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the stale socket %s: %w", path, err)
	}
	return nil
}

// describe names a file type for an error message.
func describe(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "a regular file"
	case t&fs.ModeDir != 0:
		return "a folder"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	default:
		return "a " + t.String() + " file"
	}
}

func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("connecting to the service: %w: %w", ErrNotRunning, err)
		}
		return nil, fmt.Errorf("connecting to the service: %w", err)
	}
	return c, nil
}
