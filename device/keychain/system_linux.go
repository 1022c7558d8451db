package keychain

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"
)

// Plain-words reasons for Linux, where the keychain is a Secret Service
// provider reached over the D-Bus session bus.
const (
	reasonNoSessionBus = "no D-Bus session bus was found (tried %s), so no Secret Service can be reached — run this from a desktop session, or start one with dbus-run-session"
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
	return newLinuxPlatform(busLocator{getenv: getenv, setenv: os.Setenv, uid: os.Getuid(), stat: os.Stat})
}

func newLinuxPlatform(loc busLocator) platform {
	return platform{
		backend: secretService{},
		ready: func() *explanation {
			// Without an address godbus runs dbus-launch, which leaves a stray
			// dbus-daemon behind; a keychain read must never do that.
			if _, tried := loc.find(); len(tried) > 0 {
				return &explanation{kind: ErrUnavailable, reason: fmt.Sprintf(reasonNoSessionBus, strings.Join(tried, ", "))}
			}
			return nil
		},
		explain: explainSecretService,
	}
}

// busLocator finds the desktop session's bus when the environment does
// not name it. AI clients such as the MCP Inspector start servers with
// only HOME, PATH, SHELL and TERM, yet the person is logged in to a desktop
// whose bus listens at $XDG_RUNTIME_DIR/bus, which systemd puts at
// /run/user/<uid>/bus.
type busLocator struct {
	getenv func(string) string
	// setenv tells godbus, which reads only the environment, where the
	// bus is (godbus itself sets the variable the same way when it
	// discovers a bus).
	setenv func(key, value string) error
	uid    int
	stat   func(string) (fs.FileInfo, error)
}

// find returns the bus address, or what was tried when there is none.
func (l busLocator) find() (addr string, tried []string) {
	if a := strings.TrimSpace(l.getenv(busEnv)); a != "" && a != "autolaunch:" {
		return a, nil
	}
	tried = append(tried, busEnv+" is not set")
	var paths []string
	if dir := l.getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) {
		paths = append(paths, filepath.Join(dir, "bus"))
	}
	if p := filepath.Join("/run/user", strconv.Itoa(l.uid), "bus"); len(paths) == 0 || paths[0] != p {
		paths = append(paths, p)
	}
	for _, p := range paths {
		why := l.check(p)
		if why == "" {
			addr = "unix:path=" + dbus.EscapeBusAddressValue(p)
			if err := l.setenv(busEnv, addr); err != nil {
				tried = append(tried, fmt.Sprintf("%s: %v", p, err))
				continue
			}
			return addr, nil
		}
		tried = append(tried, p+" "+why)
	}
	return "", tried
}

// check says why p is not this user's session bus, or "" when it is. A
// socket that another account owns is never used: the bus would answer
// for that account's keychain, or for whoever planted it.
func (l busLocator) check(p string) string {
	fi, err := l.stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist"
	case err != nil:
		return "cannot be read"
	case fi.Mode().Type() != fs.ModeSocket:
		return "is not a socket"
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != l.uid {
		return "belongs to another account"
	}
	return ""
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
