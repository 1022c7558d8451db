package keychain

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// Plain-words reasons for Linux, where the keychain is a Secret Service
// provider reached over the D-Bus session bus.
const (
	reasonNoSessionBus = "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service can be reached — run this from a desktop session, or start one with dbus-run-session"
	reasonBusConnect   = "could not connect to the D-Bus session bus of this desktop session — log in to the desktop again, or start a session with dbus-run-session"
	reasonNoService    = "no Secret Service is running on this desktop session — start gnome-keyring or KeePassXC's Secret Service integration"
	reasonLocked       = "the login keyring is locked — unlock it and try again"
	reasonNoDefault    = "there is no default keyring, or it is locked — create or unlock the login keyring (for example in Passwords and Keys) and try again"
	reasonUnsupported  = "the Secret Service on this desktop does not support what this app needs — use gnome-keyring or KeePassXC's Secret Service integration"
	reasonBusDenied    = "the D-Bus session bus refused access to the Secret Service — check sandbox permissions (for example Flatpak's org.freedesktop.secrets access)"
	reasonBusLost      = "the connection to the Secret Service was lost — try again"
	reasonLinuxUnknown = "the Secret Service reported an unexpected error"
)

// busEnv names the variable godbus reads to find the session bus.
const busEnv = "DBUS_SESSION_BUS_ADDRESS"

func newPlatform(getenv func(string) string) platform {
	return platform{
		backend: secretService{},
		ready: func() *explanation {
			// Without an address godbus runs dbus-launch, which leaves a stray
			// dbus-daemon behind; a keychain read must never do that.
			if addr := strings.TrimSpace(getenv(busEnv)); addr == "" || addr == "autolaunch:" {
				return &explanation{kind: ErrUnavailable, reason: reasonNoSessionBus}
			}
			return nil
		},
		explain: explainSecretService,
	}
}

// secretService connects to the session bus itself before calling
// go-keyring, so that "no bus" and "no Secret Service on the bus" are told
// apart. godbus shares the connection, so this costs nothing after the first
// call.
type secretService struct{ goKeyring }

// busError marks a failure to connect to the session bus.
type busError struct{ err error }

func (e *busError) Error() string { return "connecting to the D-Bus session bus: " + e.err.Error() }
func (e *busError) Unwrap() error { return e.err }

func (secretService) connect() error {
	if _, err := dbus.SessionBus(); err != nil {
		return &busError{err: err}
	}
	return nil
}

func (s secretService) Get(service, user string) (string, error) {
	if err := s.connect(); err != nil {
		return "", err
	}
	return s.goKeyring.Get(service, user)
}

func (s secretService) Set(service, user, password string) error {
	if err := s.connect(); err != nil {
		return err
	}
	return s.goKeyring.Set(service, user, password)
}

func (s secretService) Delete(service, user string) error {
	if err := s.connect(); err != nil {
		return err
	}
	return s.goKeyring.Delete(service, user)
}

// explainSecretService maps go-keyring and D-Bus errors to plain words.
// D-Bus errors from the Secret Service carry the error name and a message
// from the daemon, never the secret, so they are kept as the cause.
func explainSecretService(err error) explanation {
	var be *busError
	if errors.As(err, &be) {
		return explanation{kind: ErrUnavailable, reason: reasonBusConnect}
	}
	if name, ok := dbusErrorName(err); ok {
		switch {
		case name == "org.freedesktop.Secret.Error.IsLocked":
			return explanation{kind: ErrLocked, reason: reasonLocked}
		case name == "org.freedesktop.DBus.Error.ServiceUnknown",
			name == "org.freedesktop.DBus.Error.NameHasNoOwner",
			name == "org.freedesktop.DBus.Error.NoReply",
			name == "org.freedesktop.DBus.Error.Timeout",
			name == "org.freedesktop.DBus.Error.TimedOut",
			strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn."):
			return explanation{kind: ErrUnavailable, reason: reasonNoService}
		case name == "org.freedesktop.DBus.Error.UnknownMethod",
			name == "org.freedesktop.DBus.Error.UnknownObject",
			name == "org.freedesktop.DBus.Error.UnknownInterface",
			name == "org.freedesktop.DBus.Error.UnknownProperty",
			name == "org.freedesktop.Secret.Error.NoSuchObject",
			name == "org.freedesktop.Secret.Error.NoSession":
			return explanation{kind: ErrUnavailable, reason: reasonUnsupported}
		case name == "org.freedesktop.DBus.Error.AccessDenied":
			return explanation{kind: ErrUnavailable, reason: reasonBusDenied}
		case name == "org.freedesktop.DBus.Error.Disconnected",
			name == "org.freedesktop.DBus.Error.NoServer":
			return explanation{kind: ErrUnavailable, reason: reasonBusLost}
		}
		return explanation{reason: reasonLinuxUnknown}
	}
	// go-keyring reports a locked collection whose unlock prompt was
	// dismissed, or could not be shown, only by this text.
	if msg := err.Error(); strings.HasPrefix(msg, "failed to unlock correct collection") {
		if strings.Contains(msg, "/aliases/default") {
			return explanation{kind: ErrLocked, reason: reasonNoDefault}
		}
		return explanation{kind: ErrLocked, reason: reasonLocked}
	}
	var opErr *net.OpError
	if errors.Is(err, dbus.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &opErr) {
		return explanation{kind: ErrUnavailable, reason: reasonBusLost}
	}
	return explanation{reason: reasonLinuxUnknown}
}

// dbusErrorName returns the D-Bus error name; godbus returns dbus.Error by
// value, but a pointer is accepted too.
func dbusErrorName(err error) (string, bool) {
	var v dbus.Error
	if errors.As(err, &v) {
		return v.Name, true
	}
	var p *dbus.Error
	if errors.As(err, &p) && p != nil {
		return p.Name, true
	}
	return "", false
}
