package peercred

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// get reads SO_PEERCRED: the credentials the kernel stored for the peer
// when it called connect(2) (or listen(2), seen from the client end). They
// are not affected by anything the peer does afterwards, such as changing
// its uid or passing the socket to another process.
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
		ucred   *unix.Ucred
		credErr error
	)
	if err := raw.Control(func(fd uintptr) {
		ucred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Cred{}, fmt.Errorf("reaching the socket to read peer credentials: %w", err)
	}
	if credErr != nil {
		return Cred{}, fmt.Errorf("reading peer credentials (SO_PEERCRED): %w", credErr)
	}
	return Cred{
		UID:     int(ucred.Uid),
		GID:     int(ucred.Gid),
		PID:     int(ucred.Pid),
		Account: accountName(ucred.Uid),
	}, nil
}

func processExe(pid int) (string, error) {
	link := "/proc/" + strconv.Itoa(pid) + "/exe"
	exe, err := os.Readlink(link)
	if err != nil {
		return "", fmt.Errorf("reading the executable of process %d: %w", pid, procErr(err))
	}
	return exe, nil
}

func processExeFile(pid int) (fs.FileInfo, error) {
	fi, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return nil, fmt.Errorf("reading the executable of process %d: %w", pid, procErr(err))
	}
	return fi, nil
}

func processArgs(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, fmt.Errorf("reading the arguments of process %d: %w", pid, procErr(err))
	}
	if len(b) == 0 {
		// A zombie or a kernel thread has none.
		return nil, fmt.Errorf("reading the arguments of process %d: none", pid)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), nil
}

func parentPID(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("reading the parent of process %d: %w", pid, procErr(err))
	}
	st, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("reading the parent of process %d: parsing /proc/%d/stat: %w", pid, pid, err)
	}
	if st.PID != pid {
		return 0, fmt.Errorf("reading the parent of process %d: /proc/%d/stat is about process %d", pid, pid, st.PID)
	}
	return st.PPID, nil
}

// procErr turns "no /proc/<pid>" into ErrNoProcess, keeping the OS error
// in the message.
func procErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("%w (%v)", ErrNoProcess, err)
	}
	return err
}
