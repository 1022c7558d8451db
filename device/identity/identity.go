// Package identity gives this device the stable identifier that audit
// records carry in their "device" field.
//
// The identifier is machineid's ProtectedID for AppID: an HMAC-SHA256 of
// the app ID keyed by the OS machine id (/var/lib/dbus/machine-id or
// /etc/machine-id on Linux, IOPlatformUUID on macOS, MachineGuid on
// Windows). This package never reads the raw machine id itself, and never
// returns it or puts it in an error.
//
// Two caveats are inherent in the source. Machines cloned from one image
// share a machine id, and so a device id, until the image is regenerated
// (dbus-uuidgen, sysprep). And an empty machine id file yields, without
// error, the HMAC of an empty key — the same value on every such machine;
// this package reports that case as ErrNoMachineID instead.
package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/denisbrodbeck/machineid"
)

// AppID keys the protected id, so that this app's device id cannot be
// matched against another app's.
const AppID = "io.scispot.mcp"

// ErrNoMachineID means the OS has no usable machine id.
var ErrNoMachineID = errors.New("no machine id")

// ErrUnexpectedID means the source returned something that is not a
// protected id (64 lower-case hex digits). The value is not repeated in
// the error, in case it is a raw machine id.
var ErrUnexpectedID = errors.New("machine id source returned an unexpected value")

// DeviceID returns this device's protected id.
func DeviceID() (string, error) {
	return ProtectedID(machineid.ProtectedID)
}

// ProtectedID returns source(AppID), checked: an error from source, an empty
// result or the protected id of an empty machine id is an error wrapping
// ErrNoMachineID, and anything but 64 lower-case hex digits is
// ErrUnexpectedID. Tests pass their own source; DeviceID passes machineid's.
func ProtectedID(source func(appID string) (string, error)) (string, error) {
	id, err := source(AppID)
	if err != nil {
		return "", fmt.Errorf("reading the machine id: %w: %w", ErrNoMachineID, firstLineError{err})
	}
	id = strings.TrimSpace(id)
	if id == "" || id == protectedIDOfEmpty(AppID) {
		return "", fmt.Errorf("reading the machine id: the OS machine id is empty: %w", ErrNoMachineID)
	}
	if !isProtectedForm(id) {
		return "", fmt.Errorf("reading the machine id: %w", ErrUnexpectedID)
	}
	return id, nil
}

// protectedIDOfEmpty is what machineid.ProtectedID returns for an empty
// machine id: HMAC-SHA256(key "", appID).
func protectedIDOfEmpty(appID string) string {
	mac := hmac.New(sha256.New, nil)
	mac.Write([]byte(appID))
	return hex.EncodeToString(mac.Sum(nil))
}

// isProtectedForm reports whether s looks like a hex-encoded SHA-256 HMAC.
// A raw machine id (32 hex digits on Linux, a dashed GUID elsewhere) does not.
func isProtectedForm(s string) bool {
	if len(s) != hex.EncodedLen(sha256.Size) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// firstLineError shows only the first line of err. machineid's errors can
// carry the full ioreg output on macOS, raw IOPlatformUUID included; the
// first line says what failed without it. The whole error stays reachable
// through Unwrap for errors.Is.
type firstLineError struct{ err error }

func (e firstLineError) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	const max = 200
	if len(msg) > max {
		msg = msg[:max] + "…"
	}
	return msg
}

func (e firstLineError) Unwrap() error { return e.err }
