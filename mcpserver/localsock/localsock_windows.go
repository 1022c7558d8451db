package localsock

// Named pipes come from github.com/Microsoft/go-winio. Why a dependency:
// the standard library has no named-pipe support, and a correct pipe server
// needs overlapped I/O bound to the Go runtime's I/O completion port, a pool
// of pipe instances created ahead of clients, deadlines, and a security
// descriptor built from SDDL. go-winio does all of that; it is Microsoft's
// own package, maintained for Docker, containerd and hcsshim and used by
// Tailscale's safesocket for the same job as ours. Its only runtime
// dependency is golang.org/x/sys (already ours), and it needs no cgo.
// What it does for us that we rely on:
//   - every pipe instance is created with FILE_PIPE_REJECT_REMOTE_CLIENTS
//     (PIPE_REJECT_REMOTE_CLIENTS), so the pipe cannot be opened over the
//     network (SMB), whatever the security descriptor says;
//   - the first instance is created with FILE_CREATE, so Listen fails when
//     another process already holds the name instead of joining its pipe;
//   - the server connection exposes its handle (Fd), which device/peercred
//     needs to read the client's token.

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// pipeDACL is the access list of the pipe. It is protected (P: nothing
// inherited) and grants:
//
//	SY  LocalSystem               GA (full control)
//	BA  Administrators            GA
//	OW  the pipe's owner          GA (the service's own account, so an
//	                              instance run by a developer without
//	                              elevation can still add pipe instances)
//	AU  Authenticated Users       0x12019b: read and write, without
//	                              FILE_CREATE_PIPE_INSTANCE
//
// 0x12019b is FILE_GENERIC_READ | (FILE_GENERIC_WRITE &^
// FILE_CREATE_PIPE_INSTANCE). Plain GW would include FILE_APPEND_DATA,
// which on a pipe is FILE_CREATE_PIPE_INSTANCE: any user could then create
// instances of our pipe name and receive other users' connections. Clients
// still open the pipe with GENERIC_WRITE: the pipe file system drops
// FILE_CREATE_PIPE_INSTANCE from a client's requested access before its
// access check.
//
// Anonymous and Guest logons are not Authenticated Users and cannot
// connect. Remote clients are refused by PIPE_REJECT_REMOTE_CLIENTS (see
// above); local processes of users signed in over the network (SSH, WinRM)
// are allowed on purpose, since they are local users too.
const pipeDACL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)(A;;0x12019b;;;AU)"

// pipeSDDL is the pipe's security descriptor. When the service runs as
// LocalSystem it names SYSTEM as the owner: clients tell the real service
// from an impostor by the pipe's owner (device/peercred.Get on the client
// end), which no user can set to SYSTEM, and without it the owner would
// be the token's default owner, which policy may make Administrators.
// Any other account (a developer's unelevated run) gets its default owner.
func pipeSDDL() (string, error) {
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("reading the service's own account: %w", err)
	}
	if tu.User.Sid.IsWellKnown(windows.WinLocalSystemSid) {
		return "O:SY" + pipeDACL, nil
	}
	return pipeDACL, nil
}

// pipeBufferSize is the in and out buffer size of each pipe instance.
const pipeBufferSize = 64 << 10

func listen(path string) (net.Listener, error) {
	sddl, err := pipeSDDL()
	if err != nil {
		return nil, fmt.Errorf("creating the named pipe %s: %w", path, err)
	}
	ln, err := winio.ListenPipe(path, &winio.PipeConfig{
		SecurityDescriptor: sddl,
		InputBufferSize:    pipeBufferSize,
		OutputBufferSize:   pipeBufferSize,
	})
	if err != nil {
		// Creating the first instance of an existing pipe name is refused
		// with "access denied": another service (or a squatter) has it.
		if errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PIPE_BUSY) {
			return nil, fmt.Errorf("creating the named pipe %s: %w: %w", path, ErrInUse, err)
		}
		return nil, fmt.Errorf("creating the named pipe %s: %w", path, err)
	}
	return ln, nil
}

// dial opens the pipe at the identification impersonation level: the
// service may read the caller's token (device/peercred) but cannot act as
// the caller. winio's default, anonymous, would give the service no
// identity at all.
func dial(ctx context.Context, path string) (net.Conn, error) {
	c, err := winio.DialPipeAccessImpLevel(ctx, path,
		windows.GENERIC_READ|windows.GENERIC_WRITE, winio.PipeImpLevelIdentification)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return nil, fmt.Errorf("connecting to the service: %w: %w", ErrNotRunning, err)
		}
		return nil, fmt.Errorf("connecting to the service at %s: %w", path, err)
	}
	return c, nil
}
