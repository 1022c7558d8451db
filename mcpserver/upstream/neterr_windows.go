package upstream

import (
	"errors"

	"golang.org/x/sys/windows"
)

// Windows reports socket errors as WSA codes, which syscall.ECONNREFUSED
// does not match.
func isConnRefused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }

func isConnReset(err error) bool {
	return errors.Is(err, windows.WSAECONNRESET) || errors.Is(err, windows.WSAECONNABORTED)
}
