// Package peercred tells the service who is at the other end of a local
// connection, as the operating system recorded it when the connection was
// made. The caller cannot choose or forge what it reports: scispot-mcpd
// learns who is calling from here, never from anything the caller sends.
//
//	Linux    SO_PEERCRED on the Unix socket: uid, gid and pid at connect(2)
//	macOS    LOCAL_PEERCRED (uid, gid) and LOCAL_PEERPID (pid) on the Unix socket
//	Windows  the named-pipe client's access token (user SID) and
//	         GetNamedPipeClientProcessId (pid); from the client end, the
//	         pipe's owner and GetNamedPipeServerProcessId
//
// Typical use, right after Accept and before reading a request:
//
//	c, err := ln.Accept() // ln from mcpserver/localsock.Listen
//	...
//	who, err := peercred.Get(c)
//	if err != nil {
//		c.Close() // no identity, no service
//		return
//	}
//	// authorise who.UID / who.SID / who.Account against the policy
//
// ProcessExe and ParentPID describe a process by pid, so the service can
// record which program launched the relay (the AI client). They read state
// that belongs to a live process: a pid is only meaningful while that
// process runs (it is reused after it exits), so call them while the
// connection from that process is still open, and treat the answers as
// attribution for the audit trail, not as proof of identity.
//
// The identity itself (uid, gid, SID) is what the kernel captured at connect
// time and stays valid for the whole connection.
package peercred

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/user"
	"strconv"
)

// Cred is the identity of the process at the other end of a connection.
type Cred struct {
	// UID is the effective user ID of the peer when it connected;
	// -1 on Windows, where users are identified by SID.
	UID int
	// GID is the effective group ID of the peer when it connected;
	// -1 on Windows.
	GID int
	// PID is the process ID of the peer when it connected. On Linux it is 0
	// when the peer lives in another PID namespace (a container).
	PID int
	// SID is the peer's user SID in string form (S-1-5-21-…; seen from
	// the client end, the owner of the pipe); Windows only, empty elsewhere.
	SID string
	// Account is the login name resolved from UID or SID (domain\name on
	// Windows), best effort: empty when the name cannot be resolved (for
	// example a UID with no passwd entry). Authorisation that must not fail
	// open should compare UID or SID, or treat an empty Account as unknown.
	Account string
}

var (
	// ErrUnsupported means this platform has no peer-credential
	// implementation (anything but Linux, macOS and Windows).
	ErrUnsupported = errors.New("peer credentials are not supported on this platform")

	// ErrUnsupportedConn means the connection is not of a kind whose peer
	// the operating system identifies: on Unix it must be a *net.UnixConn,
	// on Windows a named-pipe connection from mcpserver/localsock (or
	// github.com/Microsoft/go-winio). TCP connections, in-memory pipes and
	// the like always give this error.
	ErrUnsupportedConn = errors.New("connection type does not carry peer credentials")

	// ErrNoProcess means the process with the given pid does not exist
	// (any more).
	ErrNoProcess = errors.New("no such process")
)

// maxUnwrap bounds how many NetConn layers Get looks through.
const maxUnwrap = 8

// Get returns the identity of the process at the other end of c, which must
// be a connection accepted from mcpserver/localsock's listener (a Unix
// socket, or a named pipe on Windows). Wrappers that expose the underlying
// connection through a NetConn() net.Conn method (like *tls.Conn) are looked
// through.
//
// Get also works on the client end of a connection, so a client can check
// that the real service answers before it sends anything secret. On Unix it
// then reports the process that created the listening socket. On Windows it
// reports the server's pid and, as SID, the owner of the pipe (a user's
// process cannot read a SYSTEM service's token; the owner is set by the
// kernel from the creator's token, so no user can create a pipe owned by
// SYSTEM).
func Get(c net.Conn) (Cred, error) {
	for i := 0; i < maxUnwrap && c != nil; i++ {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn()
	}
	if c == nil {
		return Cred{}, ErrUnsupportedConn
	}
	return get(c)
}

// ProcessExe returns the full path of the executable that process pid runs.
//
//	Linux    readlink /proc/<pid>/exe (" (deleted)" is appended by the
//	         kernel when the file was removed or replaced since it started)
//	macOS    the path the process was executed through, from the
//	         kern.procargs2 sysctl (the same source ps(1) uses; no cgo needed).
//	         An error if that path was relative.
//	Windows  QueryFullProcessImageName
//
// A pid that does not exist gives an error matching ErrNoProcess.
func ProcessExe(pid int) (string, error) {
	if pid <= 0 {
		return "", fmt.Errorf("reading the executable of process %d: invalid pid", pid)
	}
	return processExe(pid)
}

// ProcessArgs returns the arguments process pid was started with, argv[0]
// first.
//
//	Linux    /proc/<pid>/cmdline
//	others   ErrUnsupported
//
// Only the program itself can change them once it runs, so for a known
// executable they say what it was asked to do.
func ProcessArgs(pid int) ([]string, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("reading the arguments of process %d: invalid pid", pid)
	}
	return processArgs(pid)
}

// ProcessExeFile describes the file process pid runs: on Linux the
// file itself, through /proc/<pid>/exe, whatever path the process sees it
// under (a private mount can show another file at the installed path);
// elsewhere the file at ProcessExe's path. Compare it with os.SameFile.
func ProcessExeFile(pid int) (fs.FileInfo, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("reading the executable of process %d: invalid pid", pid)
	}
	return processExeFile(pid)
}

// ParentPID returns the pid of the parent of process pid.
//
//	Linux    field 4 of /proc/<pid>/stat
//	macOS    the kern.proc.pid sysctl (e_ppid)
//	Windows  a Toolhelp32 process snapshot (th32ParentProcessID)
//
// On Linux and macOS an orphan is re-parented (to 1 or a subreaper) when
// its parent exits. Windows records the parent's pid at creation and never
// updates it, so that pid may since belong to another process.
//
// A pid that does not exist gives an error matching ErrNoProcess.
func ParentPID(pid int) (int, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("reading the parent of process %d: invalid pid", pid)
	}
	return parentPID(pid)
}

// accountName resolves a Unix uid to a login name, or "" when it cannot.
// Without cgo os/user reads /etc/passwd only (no LDAP or other NSS
// sources), which is why Account is best effort.
func accountName(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return ""
	}
	return u.Username
}
