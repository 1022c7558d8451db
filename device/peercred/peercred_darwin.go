package peercred

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// xucredVersion is XUCRED_VERSION from <sys/ucred.h>; the kernel fills in
// the version of the struct it wrote and only version 0 exists.
const xucredVersion = 0

// get reads LOCAL_PEERCRED (effective uid and groups) and LOCAL_PEERPID:
// what the kernel stored for the peer when it called connect(2) (or
// listen(2), seen from the client end).
func get(c net.Conn) (Cred, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Cred{}, fmt.Errorf("reading peer credentials of a %T: %w", c, ErrUnsupportedConn)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Cred{}, fmt.Errorf("reaching the socket to read peer credentials: %w", err)
	}
	var (
		xu      *unix.Xucred
		pid     int
		credErr error
		pidErr  error
	)
	if err := raw.Control(func(fd uintptr) {
		xu, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		pid, pidErr = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	}); err != nil {
		return Cred{}, fmt.Errorf("reaching the socket to read peer credentials: %w", err)
	}
	if credErr != nil {
		return Cred{}, fmt.Errorf("reading peer credentials (LOCAL_PEERCRED): %w", credErr)
	}
	if pidErr != nil {
		return Cred{}, fmt.Errorf("reading the peer's pid (LOCAL_PEERPID): %w", pidErr)
	}
	if xu.Version != xucredVersion {
		return Cred{}, fmt.Errorf("reading peer credentials (LOCAL_PEERCRED): unknown xucred version %d", xu.Version)
	}
	// cr_groups[0] is the effective gid; a peer always has one.
	if xu.Ngroups < 1 {
		return Cred{}, fmt.Errorf("reading peer credentials (LOCAL_PEERCRED): no groups")
	}
	return Cred{
		UID:     int(xu.Uid),
		GID:     int(xu.Groups[0]),
		PID:     pid,
		Account: accountName(xu.Uid),
	}, nil
}

// processExe reads kern.procargs2 rather than calling proc_pidpath(3):
// proc_pidpath lives in libproc and needs cgo, and the service builds with
// CGO_ENABLED=0. procargs2 holds the path given to execve, which is what
// ps(1) shows too; for a relative one there is no reliable way to resolve
// it afterwards, so that is an error. Only root (the service) may read it
// for other users' processes.
func processExe(pid int) (string, error) {
	b, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		if !exists(pid) {
			return "", fmt.Errorf("reading the executable of process %d: %w (%v)", pid, ErrNoProcess, err)
		}
		return "", fmt.Errorf("reading the executable of process %d (kern.procargs2): %w", pid, err)
	}
	exe, err := parseProcArgs2(b)
	if err != nil {
		return "", fmt.Errorf("reading the executable of process %d: %w", pid, err)
	}
	if !filepath.IsAbs(exe) {
		return "", fmt.Errorf("reading the executable of process %d: it was started through the relative path %q", pid, exe)
	}
	return exe, nil
}

func parentPID(pid int) (int, error) {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.pid", pid)
	if err != nil {
		return 0, fmt.Errorf("reading the parent of process %d (kern.proc.pid): %w", pid, err)
	}
	if len(kps) == 0 {
		return 0, fmt.Errorf("reading the parent of process %d: %w", pid, ErrNoProcess)
	}
	return int(kps[0].Eproc.Ppid), nil
}

// exists reports whether process pid exists, from kern.proc.pid (which
// returns no entry for a pid that is not in use).
func exists(pid int) bool {
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.pid", pid)
	return err != nil || len(kps) > 0
}

func processArgs(pid int) ([]string, error) {
	return nil, fmt.Errorf("reading the arguments of process %d: %w", pid, ErrUnsupported)
}

func processExeFile(pid int) (fs.FileInfo, error) {
	exe, err := processExe(pid)
	if err != nil {
		return nil, err
	}
	return os.Stat(exe)
}
