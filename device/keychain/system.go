package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds each call to the OS keychain when SystemOptions do
// not say otherwise. It is long enough for a person to answer an unlock
// prompt and short enough that a hung Secret Service does not hang the app.
const DefaultTimeout = 30 * time.Second

// SystemOptions configure NewSystem. A nil *SystemOptions means defaults.
type SystemOptions struct {
	// Timeout bounds each call; zero or negative means DefaultTimeout. The
	// caller's context can only shorten it.
	Timeout time.Duration
}

// System returns the OS keychain with DefaultTimeout on every call.
func System() Store { return NewSystem(nil) }

// NewSystem returns the OS keychain. Create one per process and share it.
//
// go-keyring has no context support, so each call runs in its own goroutine
// and the Store stops waiting when the context ends or the timeout passes
// (reported as ErrUnavailable). The abandoned call still finishes in the
// background (a Set may still store its secret), and until it does, later
// calls on this Store wait for it: the keychain sees one request at a time,
// in order, and a hung keychain costs one goroutine, not one per call.
//
// On Linux, when DBUS_SESSION_BUS_ADDRESS is unset the desktop session's
// bus is looked for at $XDG_RUNTIME_DIR/bus, then /run/user/<uid>/bus (a
// socket this account owns); when none is found every call fails at once
// with ErrUnavailable, naming what was tried, and D-Bus is not touched:
// godbus would otherwise run dbus-launch and leave a stray dbus-daemon
// behind.
func NewSystem(opts *SystemOptions) Store {
	timeout := DefaultTimeout
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	return newSystem(newPlatform(os.Getenv), timeout)
}

// backend is the part of go-keyring's API this package uses; tests replace it.
type backend interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
}

// goKeyring calls go-keyring's OS provider.
type goKeyring struct{}

func (goKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (goKeyring) Set(service, user, password string) error {
	return keyring.Set(service, user, password)
}
func (goKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// explanation is what a platform says about a backend error.
type explanation struct {
	kind   error  // ErrUnavailable, ErrLocked or nil
	reason string // plain sentence
	// opaque drops the underlying error: its text could hold secret material
	// (for example a decoding error that quotes a byte of the stored value).
	opaque bool
}

// platform is what each OS file provides.
type platform struct {
	backend backend
	// ready reports, before the keychain is touched, why it cannot be used
	// (for example no D-Bus session bus); nil means go ahead.
	ready func() *explanation
	// explain turns a backend error other than keyring.ErrNotFound into
	// plain words.
	explain func(error) explanation
}

type system struct {
	service  string
	timeout  time.Duration
	platform platform
	// busy holds a token while a backend call runs, including one the caller
	// stopped waiting for; see NewSystem.
	busy chan struct{}
}

var _ Store = (*system)(nil)

func newSystem(p platform, timeout time.Duration) *system {
	return &system{
		service:  Service,
		timeout:  timeout,
		platform: p,
		busy:     make(chan struct{}, 1),
	}
}

func (s *system) Get(ctx context.Context, account string) (string, error) {
	if err := checkArgs(opGet, account, nil); err != nil {
		return "", err
	}
	return s.call(ctx, opGet, account, "", func(b backend) (string, error) {
		return b.Get(s.service, account)
	})
}

func (s *system) Set(ctx context.Context, account, secret string) error {
	if err := checkArgs(opSet, account, &secret); err != nil {
		return err
	}
	_, err := s.call(ctx, opSet, account, secret, func(b backend) (string, error) {
		return "", b.Set(s.service, account, secret)
	})
	return err
}

func (s *system) Delete(ctx context.Context, account string) error {
	if err := checkArgs(opDelete, account, nil); err != nil {
		return err
	}
	_, err := s.call(ctx, opDelete, account, "", func(b backend) (string, error) {
		return "", b.Delete(s.service, account)
	})
	return err
}

// errPanic stands in for a panic inside go-keyring (it dereferences a nil
// signal when the bus connection closes during a prompt). The panic value is
// not kept: it is not ours to print.
var errPanic = errors.New("the keychain library failed unexpectedly")

type result struct {
	value string
	err   error
}

// call runs fn on the backend with the timeout, and turns its error into an
// *Error. secret is what Set is storing ("" otherwise); it is used only to
// make sure no error text contains it.
func (s *system) call(ctx context.Context, op, account, secret string, fn func(backend) (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", contextError(op, account, err)
	}
	if s.platform.ready != nil {
		if ex := s.platform.ready(); ex != nil {
			return "", &Error{Op: op, Account: account, Kind: ex.kind, Reason: ex.reason}
		}
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	select {
	case s.busy <- struct{}{}:
	case <-ctx.Done():
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", contextError(op, account, ctx.Err())
		}
		return "", &Error{Op: op, Account: account, Kind: ErrUnavailable, Err: ctx.Err(),
			Reason: "the keychain is still busy with an earlier request that did not finish — if a keychain prompt is open, answer it and try again"}
	}

	done := make(chan result, 1) // buffered: an abandoned call must not block
	go func() {
		defer func() { <-s.busy }()
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: errPanic}
			}
		}()
		v, err := fn(s.platform.backend)
		done <- result{value: v, err: err}
	}()

	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// Prefer a result that arrived at the same moment: a Set that
		// finished must not be reported as failed.
		select {
		case r = <-done:
		default:
			return "", contextError(op, account, ctx.Err())
		}
	}
	if r.err == nil {
		return r.value, nil
	}
	return "", s.describe(op, account, secret, r)
}

// describe turns a backend error into an *Error whose text cannot contain
// the secret being stored or any value the backend returned with the error.
func (s *system) describe(op, account, secret string, r result) error {
	if errors.Is(r.err, keyring.ErrNotFound) {
		return notFound(op, account)
	}
	if errors.Is(r.err, errPanic) {
		return &Error{Op: op, Account: account, Kind: ErrUnavailable, Err: errPanic,
			Reason: "the keychain connection failed unexpectedly — try again"}
	}
	if errors.Is(r.err, keyring.ErrSetDataTooBig) {
		return &Error{Op: op, Account: account, Err: r.err,
			Reason: "the secret is too large for this keychain"}
	}
	ex := s.platform.explain(r.err)
	cause := r.err
	if ex.opaque || mentions(r.err, secret) || mentions(r.err, r.value) {
		cause = nil
	}
	if ex.reason == "" {
		ex.reason = "the keychain reported an unexpected error"
	}
	return &Error{Op: op, Account: account, Kind: ex.kind, Reason: ex.reason, Err: cause}
}

// mentions reports whether err's text, or its Go-syntax dump (which a careless
// caller might print), contains secret.
func mentions(err error, secret string) bool {
	if secret == "" {
		return false
	}
	return strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%#v", err), secret)
}
