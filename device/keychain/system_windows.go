package keychain

import (
	"errors"
	"syscall"
)

// Plain-words reasons for Windows Credential Manager.
const (
	reasonWinNoLogon  = "Windows Credential Manager is not available in this logon session (for example a service account or a network logon) — sign in to Windows interactively and try again"
	reasonWinDenied   = "Windows Credential Manager refused access — check that policy allows saving credentials on this computer"
	reasonWinNoMemory = "Windows Credential Manager ran out of resources — try again"
	reasonWinUnknown  = "Windows Credential Manager reported an unexpected error"
)

// Win32 error codes returned by the Cred* functions.
const (
	errorAccessDenied       = syscall.Errno(5)
	errorNotEnoughMemory    = syscall.Errno(8)
	errorNoSuchLogonSession = syscall.Errno(1312)
)

func newPlatform(func(string) string) platform {
	return platform{backend: goKeyring{}, explain: explainCredentialManager}
}

// explainCredentialManager maps Credential Manager errors (Win32 error
// codes, which never hold the secret) to plain words.
func explainCredentialManager(err error) explanation {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case errorNoSuchLogonSession:
			return explanation{kind: ErrUnavailable, reason: reasonWinNoLogon}
		case errorAccessDenied:
			return explanation{kind: ErrUnavailable, reason: reasonWinDenied}
		case errorNotEnoughMemory:
			return explanation{kind: ErrUnavailable, reason: reasonWinNoMemory}
		}
	}
	return explanation{reason: reasonWinUnknown}
}
