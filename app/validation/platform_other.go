//go:build !linux

package validation

import "errors"

// processOwner is not yet implemented beyond Linux; IQ-02 fails rather
// than pass unchecked.
func processOwner(int) (string, error) {
	return "", errors.New("checking the service process's owner is not implemented on this platform yet")
}

func osVersion() string { return "" }

// No package on this platform installs a SHA256SUMS yet, so the IQ cases
// about the package's files skip (see platform_linux.go).
const (
	DefaultSums        = ""
	DefaultSBOM        = ""
	DefaultServiceUnit = ""
	DefaultServiceLink = ""
	DefaultAutostart   = ""
)
