//go:build unix

package service

import (
	"errors"
	"fmt"
	"io"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// stateAccount is how the periodic check names an account: its uid, from
// the name of its folder in the service's state (users/uid-N).
type stateAccount = int

// folderAccount is the account of a users/ folder, if it names one.
func folderAccount(folder string) (stateAccount, bool) {
	rest, ok := strings.CutPrefix(folder, "uid-")
	uid, err := strconv.Atoi(rest)
	return uid, ok && err == nil && uid >= 0
}

// accountHome returns the home folder and name of uid from the account
// database.
func accountHome(uid int) (home, name string, err error) {
	u, err := osuser.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", "", fmt.Errorf("finding the home folder of uid %d: %w", uid, err)
	}
	h := filepath.Clean(u.HomeDir)
	if !filepath.IsAbs(h) || h == "/" {
		return "", "", fmt.Errorf("uid %d has no usable home folder (%q)", uid, u.HomeDir)
	}
	return h, u.Username, nil
}

// ownedReader reads a client config for the service, which runs as root,
// so that the person cannot make it read what they could not: a person's
// file must be a regular file the account owns, reached without following
// a symbolic link at its last step (a linked folder on the way leads, at
// worst, to a file the owner check refuses — a project folder named
// /root in ~/.claude.json included); a machine-level file must be root's.
// Reads are bounded and never block on a FIFO.
func ownedReader(uid int) func(string, bool) ([]byte, error) {
	return func(p string, machine bool) ([]byte, error) {
		want := uint32(uid)
		if machine {
			want = 0
		}
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
		if err != nil {
			if errors.Is(err, unix.ELOOP) {
				return nil, fmt.Errorf("%s is a symbolic link; the service does not follow it", p)
			}
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		f := os.NewFile(uintptr(fd), p)
		defer f.Close()
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, &os.PathError{Op: "stat", Path: p, Err: err}
		}
		switch {
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			return nil, fmt.Errorf("%s is not a regular file; not read", p)
		case st.Uid != want:
			return nil, fmt.Errorf("%s belongs to uid %d, not %d; not read", p, st.Uid, want)
		case st.Size > maxConfigBytes:
			return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, maxConfigBytes)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if len(b) > maxConfigBytes {
			return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, maxConfigBytes)
		}
		return b, nil
	}
}
