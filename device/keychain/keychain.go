// Package keychain keeps the user's Scispot API token (and the local HTTP
// secret) in the operating system's keychain: the macOS Keychain, Windows
// Credential Manager, or a Secret Service provider on Linux (gnome-keyring,
// KeePassXC, KWallet).
//
// The token never leaves the keychain except to be sent upstream, so this
// package is careful that no error it returns can carry a secret: errors are
// plain sentences built from fixed text, and an underlying error is only
// attached when its text cannot contain the secret being handled.
//
// Callers depend on [Store]; production code gets one from [System], tests
// use [NewMemory]:
//
//	store := keychain.System()
//	token, err := store.Get(ctx, keychain.AccountToken)
//	switch {
//	case errors.Is(err, keychain.ErrNotFound):
//		// ask the user to run "scispot-mcp token set"
//	case errors.Is(err, keychain.ErrUnavailable), errors.Is(err, keychain.ErrLocked):
//		// show err: it says what is wrong and what to do
//	}
//
// Records refer to a token by [Fingerprint], never by value.
package keychain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keychain item names. They are part of the product contract (other tools and
// admins look for them), so they must never change.
const (
	Service            = "io.scispot.mcp"
	AccountToken       = "api-token"
	AccountLocalSecret = "local-http-secret"
)

// Store is what callers need from a keychain. Implementations are safe for
// concurrent use.
type Store interface {
	// Get returns the secret stored for account, or an error that matches
	// ErrNotFound when there is none.
	Get(ctx context.Context, account string) (string, error)
	// Set stores secret for account, replacing any earlier value.
	Set(ctx context.Context, account, secret string) error
	// Delete removes account's secret, or returns an error that matches
	// ErrNotFound when there is none.
	Delete(ctx context.Context, account string) error
}

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNotFound means the keychain holds no item for the account.
	ErrNotFound = errors.New("keychain item not found")
	// ErrUnavailable means the keychain could not be reached: no Secret
	// Service is running, there is no D-Bus session bus, the keychain did not
	// answer in time, or the platform has no supported keychain.
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrLocked means the keychain is locked, or the user dismissed or denied
	// the prompt to unlock it or to allow access. Not every platform can tell
	// this apart from ErrUnavailable.
	ErrLocked = errors.New("keychain locked")
)

// Error describes a failed keychain operation in plain words. Reason is one
// sentence for a person: what is wrong and what to do about it.
type Error struct {
	Op      string // what was being done: "reading", "storing", "removing", "checking the token"
	Account string // the keychain account; never a secret
	Kind    error  // ErrNotFound, ErrUnavailable, ErrLocked, ErrInvalidToken or nil
	Reason  string // plain sentence; may be empty when Kind or Err says enough
	// Err is the underlying error, if any. It is left nil whenever its text
	// could contain the secret.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("keychain: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		if e.Account != "" {
			fmt.Fprintf(&b, " %q", e.Account)
		}
		b.WriteString(": ")
	}
	switch {
	case e.Reason != "":
		b.WriteString(e.Reason)
		if e.Err != nil {
			fmt.Fprintf(&b, " (%v)", e.Err)
		}
	case e.Kind != nil && e.Err != nil:
		fmt.Fprintf(&b, "%v: %v", e.Kind, e.Err)
	case e.Kind != nil:
		b.WriteString(e.Kind.Error())
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("unknown error")
	}
	return b.String()
}

// Unwrap lets errors.Is find both the kind and the underlying error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Operation names used in errors.
const (
	opGet    = "reading"
	opSet    = "storing"
	opDelete = "removing"

	opCheckToken = "checking the token"
)

// notFound is the error every Store returns for a missing item.
func notFound(op, account string) *Error {
	reason := "there is no such item in the keychain"
	if account == AccountToken {
		reason = `no Scispot API token is stored in the keychain — add one with "scispot-mcp token set" or from the tray menu`
	}
	return &Error{Op: op, Account: account, Kind: ErrNotFound, Reason: reason}
}

// contextError reports a cancelled or expired context. An expired deadline
// counts as ErrUnavailable: the keychain did not answer in time.
func contextError(op, account string, err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Op: op, Account: account, Kind: ErrUnavailable, Err: err,
			Reason: "the keychain did not answer in time — if a keychain prompt is open, answer it and try again"}
	}
	return &Error{Op: op, Account: account, Err: err, Reason: "the request was cancelled"}
}

// checkArgs rejects requests no keychain should see. The secret is only
// tested for emptiness so that nothing about it can end up in the error.
func checkArgs(op, account string, secret *string) error {
	if account == "" {
		return &Error{Op: op, Account: account, Reason: "the keychain account name is empty"}
	}
	for _, r := range account {
		if r < 0x20 || r == 0x7f {
			return &Error{Op: op, Account: account, Reason: "the keychain account name contains a control character"}
		}
	}
	if secret != nil && *secret == "" {
		return &Error{Op: op, Account: account, Reason: "refusing to store an empty secret"}
	}
	return nil
}

// Fingerprint identifies a token in records and status output without
// revealing it: the first 12 hex characters of its SHA-256. Pass the cleaned
// token (see CleanToken) so that the same token always has the same
// fingerprint. The format is part of the audit record contract; never change
// it.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])[:12]
}
