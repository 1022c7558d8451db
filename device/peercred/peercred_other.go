//go:build !linux && !darwin && !windows

package peercred

import (
	"fmt"
	"io/fs"
	"net"
	"os"
)

func get(net.Conn) (Cred, error) {
	return Cred{}, fmt.Errorf("reading peer credentials: %w", ErrUnsupported)
}

func processExe(pid int) (string, error) {
	return "", fmt.Errorf("reading the executable of process %d: %w", pid, ErrUnsupported)
}

func parentPID(pid int) (int, error) {
	return 0, fmt.Errorf("reading the parent of process %d: %w", pid, ErrUnsupported)
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
