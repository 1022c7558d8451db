package peercred

// On Windows, seen from the server end, the caller's identity is the
// access token the kernel captured when the client opened the named pipe.
// The server reads it by impersonating the client on a throwaway OS thread
// (ImpersonateNamedPipeClient, then OpenThreadToken). That token belongs to
// the connection itself, so it is right even when the client's pid has
// since been reused, and it is the identity of the thread that opened the
// pipe (which may be impersonating someone) rather than of its process.
//
// The client must open the pipe at the identification impersonation level
// or above; mcpserver/localsock.Dial does (identification only lets the
// server read the token, not act as the client). A client that opens it at
// the anonymous level gives the server no token, and Get fails.
//
// Seen from the client end, the identity is the pipe's owner (see
// serverCred).

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/windows"
)

// procImpersonateNamedPipeClient is advapi32!ImpersonateNamedPipeClient,
// which golang.org/x/sys/windows does not wrap. Loaded on first use from
// System32 only; never reassigned.
var procImpersonateNamedPipeClient = windows.NewLazySystemDLL("advapi32.dll").NewProc("ImpersonateNamedPipeClient")

// pipeHandle is what either end of a go-winio named pipe connection (from
// mcpserver/localsock's Listen or Dial) provides.
type pipeHandle interface {
	Fd() uintptr
}

func get(c net.Conn) (Cred, error) {
	ph, ok := c.(pipeHandle)
	if !ok {
		return Cred{}, fmt.Errorf("reading peer credentials of a %T: %w", c, ErrUnsupportedConn)
	}
	h := windows.Handle(ph.Fd())
	var flags uint32
	if err := windows.GetNamedPipeInfo(h, &flags, nil, nil, nil); err != nil {
		return Cred{}, fmt.Errorf("reading peer credentials: finding which end of a named pipe this is (GetNamedPipeInfo): %w", err)
	}
	if flags&windows.PIPE_SERVER_END == 0 {
		return serverCred(h)
	}
	return clientCred(h)
}

// clientCred identifies the client of the server pipe h.
func clientCred(h windows.Handle) (Cred, error) {
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(h, &pid); err != nil {
		return Cred{}, fmt.Errorf("reading the pipe client's pid (GetNamedPipeClientProcessId): %w", err)
	}
	tok, err := clientToken(h)
	if err != nil {
		return Cred{}, err
	}
	defer tok.Close()
	tu, err := tok.GetTokenUser()
	if err != nil {
		return Cred{}, fmt.Errorf("reading the user of the pipe client's token: %w", err)
	}
	return Cred{UID: -1, GID: -1, PID: int(pid), SID: tu.User.Sid.String(), Account: accountOf(tu.User.Sid)}, nil
}

// serverCred identifies the server of the pipe, seen from the client end h.
//
// A user's process cannot read the token of a service running as SYSTEM,
// so here SID is the owner of the pipe's security descriptor. The kernel
// records it when the first instance of the pipe name is created, and lets
// the creator name only its own user or one of its groups flagged for
// ownership (any SID only with SeRestorePrivilege, which only
// administrators hold): a user cannot create a pipe that claims to belong
// to SYSTEM. mcpserver/localsock names SYSTEM as the owner when the service
// runs as SYSTEM.
func serverCred(h windows.Handle) (Cred, error) {
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(h, &pid); err != nil {
		return Cred{}, fmt.Errorf("reading the pipe server's pid (GetNamedPipeServerProcessId): %w", err)
	}
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return Cred{}, fmt.Errorf("reading the owner of the pipe (GetSecurityInfo): %w", err)
	}
	owner, _, err := sd.Owner()
	if err != nil {
		return Cred{}, fmt.Errorf("reading the owner of the pipe: %w", err)
	}
	if owner == nil {
		return Cred{}, errors.New("reading the owner of the pipe: it has none")
	}
	return Cred{UID: -1, GID: -1, PID: int(pid), SID: owner.String(), Account: accountOf(owner)}, nil
}

// accountOf resolves a SID to domain\name, or "" when it cannot.
func accountOf(sid *windows.SID) string {
	account, domain, _, err := sid.LookupAccount("")
	if err != nil {
		return ""
	}
	if domain == "" {
		return account
	}
	return domain + `\` + account
}

// clientToken returns the access token of the client of the server pipe h.
//
// Impersonation changes the identity of the OS thread it runs on, so it
// runs on a goroutine of its own that locks itself to its thread and never
// unlocks: when that goroutine returns, the Go runtime ends the thread, and
// no other goroutine can ever run under the client's identity, even if
// RevertToSelf were to fail.
func clientToken(h windows.Handle) (windows.Token, error) {
	type result struct {
		tok windows.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: see above.
		if r, _, errno := procImpersonateNamedPipeClient.Call(uintptr(h)); r == 0 {
			done <- result{err: fmt.Errorf("impersonating the pipe client to read its token (ImpersonateNamedPipeClient): %w", errno)}
			return
		}
		var tok windows.Token
		err := windows.OpenThreadToken(windows.CurrentThread(), windows.TOKEN_QUERY, true, &tok)
		revertErr := windows.RevertToSelf()
		switch {
		case errors.Is(err, windows.ERROR_CANT_OPEN_ANONYMOUS):
			err = fmt.Errorf("reading the pipe client's token: the client connected anonymously (it must dial with mcpserver/localsock.Dial): %w", err)
		case err != nil:
			err = fmt.Errorf("reading the pipe client's token (OpenThreadToken): %w", err)
		case revertErr != nil:
			tok.Close()
			err = fmt.Errorf("ending the impersonation of the pipe client (RevertToSelf): %w", revertErr)
		}
		done <- result{tok: tok, err: err}
	}()
	r := <-done
	return r.tok, r.err
}

func processExe(pid int) (string, error) {
	h, err := openProcess(pid)
	if err != nil {
		return "", fmt.Errorf("reading the executable of process %d: %w", pid, err)
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil {
		return "", fmt.Errorf("reading the executable of process %d (QueryFullProcessImageName): %w", pid, err)
	}
	return windows.UTF16ToString(buf[:n]), nil
}

// openProcess opens pid with the least access that still reads its image
// name; OpenProcess reports a pid that is not in use as an invalid
// parameter.
func openProcess(pid int) (windows.Handle, error) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
		return 0, fmt.Errorf("%w (%v)", ErrNoProcess, err)
	}
	if err != nil {
		return 0, fmt.Errorf("OpenProcess: %w", err)
	}
	return h, nil
}

func parentPID(pid int) (int, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return 0, fmt.Errorf("reading the parent of process %d (CreateToolhelp32Snapshot): %w", pid, err)
	}
	defer windows.CloseHandle(snap)
	var pe windows.ProcessEntry32
	pe.Size = uint32(unsafe.Sizeof(pe))
	for err = windows.Process32First(snap, &pe); err == nil; err = windows.Process32Next(snap, &pe) {
		if pe.ProcessID == uint32(pid) {
			return int(pe.ParentProcessID), nil
		}
	}
	if errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return 0, fmt.Errorf("reading the parent of process %d: %w", pid, ErrNoProcess)
	}
	return 0, fmt.Errorf("reading the parent of process %d (Process32Next): %w", pid, err)
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
