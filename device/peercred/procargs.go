package peercred

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// parseProcArgs2 returns the executable path from the value of the macOS
// kern.procargs2 sysctl for one process. The kernel lays it out as
//
//	argc (int32, native byte order) | exec path | NUL… | argv[0] NUL … | envp …
//
// where the exec path is the path the process was started through, as
// given to execve(2) or posix_spawn(2).
//
// It lives in a file without build constraints so it is tested on every
// platform; it only ever runs on macOS.
func parseProcArgs2(b []byte) (string, error) {
	const argcLen = 4
	if len(b) < argcLen {
		return "", errors.New("kern.procargs2: shorter than argc")
	}
	if int32(binary.NativeEndian.Uint32(b)) < 0 {
		return "", errors.New("kern.procargs2: negative argc")
	}
	path, _, ok := bytes.Cut(b[argcLen:], []byte{0})
	if !ok {
		return "", errors.New("kern.procargs2: executable path is not terminated")
	}
	if len(path) == 0 {
		return "", errors.New("kern.procargs2: empty executable path")
	}
	return string(path), nil
}
