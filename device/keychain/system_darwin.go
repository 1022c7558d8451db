package keychain

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os/exec"
)

// Plain-words reasons for macOS, where go-keyring drives /usr/bin/security.
const (
	reasonNoSecurityTool = "the macOS Keychain could not be reached: /usr/bin/security could not be run"
	reasonMacNoUI        = "the macOS Keychain is locked and cannot ask for its password from this session (for example over SSH) — unlock it with \"security unlock-keychain\" or from the logged-in desktop and try again"
	reasonMacAuthFailed  = "the macOS Keychain refused access — the password was wrong or access was denied; try again and choose Allow"
	reasonMacCancelled   = "the macOS Keychain refused access because the prompt was cancelled — try again and choose Allow or Always Allow"
	reasonMacNoKeychain  = "this user has no default macOS Keychain — open Keychain Access and create or reset the login keychain"
	reasonMacNotAvail    = "the macOS Keychain service is not available in this session"
	reasonMacReadOnly    = "the macOS Keychain is read-only — check its settings in Keychain Access"
	reasonMacBadItem     = "the Keychain item is not in the format this app writes — remove it and store the token again"
	reasonMacUnknown     = "the macOS Keychain reported an unexpected error"
)

// Exit statuses of /usr/bin/security: the low byte of the Security
// framework's OSStatus (errSecItemNotFound -25300 exits with 44).
const (
	exitInteractionNotAllowed = 36  // errSecInteractionNotAllowed -25308
	exitNoDefaultKeychain     = 37  // errSecNoDefaultKeychain -25307
	exitNoSuchKeychain        = 50  // errSecNoSuchKeychain -25294
	exitAuthFailed            = 51  // errSecAuthFailed -25293
	exitReadOnly              = 52  // errSecReadOnly -25292
	exitNotAvailable          = 53  // errSecNotAvailable -25291
	exitUserCanceled          = 128 // errSecUserCanceled -128
)

func newPlatform(func(string) string) platform {
	return platform{backend: goKeyring{}, explain: explainMacKeychain}
}

// explainMacKeychain maps go-keyring's errors on macOS to plain words. The
// exit status text ("exit status 51") never holds the secret: go-keyring
// passes it on stdin and does not put the tool's output in the error.
func explainMacKeychain(err error) explanation {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case exitInteractionNotAllowed:
			return explanation{kind: ErrLocked, reason: reasonMacNoUI}
		case exitAuthFailed:
			return explanation{kind: ErrLocked, reason: reasonMacAuthFailed}
		case exitUserCanceled:
			return explanation{kind: ErrLocked, reason: reasonMacCancelled}
		case exitNoDefaultKeychain, exitNoSuchKeychain:
			return explanation{kind: ErrUnavailable, reason: reasonMacNoKeychain}
		case exitNotAvailable:
			return explanation{kind: ErrUnavailable, reason: reasonMacNotAvail}
		case exitReadOnly:
			return explanation{reason: reasonMacReadOnly}
		}
		return explanation{reason: reasonMacUnknown}
	}
	var pathErr *fs.PathError
	if errors.Is(err, exec.ErrNotFound) || errors.As(err, &pathErr) {
		return explanation{kind: ErrUnavailable, reason: reasonNoSecurityTool}
	}
	// A decoding error can quote a byte of the stored value: drop it.
	var hexErr hex.InvalidByteError
	var b64Err base64.CorruptInputError
	if errors.As(err, &hexErr) || errors.As(err, &b64Err) || errors.Is(err, hex.ErrLength) {
		return explanation{reason: reasonMacBadItem, opaque: true}
	}
	return explanation{reason: reasonMacUnknown}
}
