//go:build windows

package osauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
)

const supported = true

// maxInflight: LogonUserW is thread-safe; a few checks may wait on a
// domain controller at once.
const maxInflight = 4

// LogonUserW's logon types and provider (winbase.h).
const (
	logon32LogonInteractive = 2
	logon32LogonNetwork     = 3
	logon32ProviderDefault  = 0
)

var procLogonUserW = windows.NewLazySystemDLL("advapi32.dll").NewProc("LogonUserW")

// checkPassword asks Windows to log account on with password and closes
// the token at once. A network logon checks the password (and the
// account's restrictions: disabled, locked out, expired, logon hours)
// without loading a profile or starting a session. Where policy denies
// network logons to the account — security baselines deny "access this
// computer from the network" to local accounts — Windows says so only
// after the password was accepted, and the check is repeated as an
// interactive logon, the kind the person at this workstation has.
func checkPassword(_ context.Context, account, password string, _ Options) error {
	what := fmt.Sprintf("checking the password of %q", account)
	if err := procLogonUserW.Find(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	name, domain := splitAccount(account)
	namePtr, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return fmt.Errorf("%s: %w", what, ErrUnknownAccount)
	}
	var domainPtr *uint16
	if domain != "" {
		if domainPtr, err = windows.UTF16PtrFromString(domain); err != nil {
			return fmt.Errorf("%s: %w", what, ErrUnknownAccount)
		}
	}
	pw, err := windows.UTF16FromString(password)
	if err != nil {
		return fmt.Errorf("%s: %w", what, ErrWrongPassword)
	}
	defer clear(pw)

	err = logonUser(namePtr, domainPtr, &pw[0], logon32LogonNetwork)
	if errors.Is(err, windows.ERROR_LOGON_TYPE_NOT_GRANTED) {
		err = logonUser(namePtr, domainPtr, &pw[0], logon32LogonInteractive)
	}
	if err == nil {
		return nil
	}
	var sentinel error
	switch {
	case errors.Is(err, windows.ERROR_LOGON_FAILURE):
		sentinel = ErrWrongPassword
	case errors.Is(err, windows.ERROR_NO_SUCH_USER):
		sentinel = ErrUnknownAccount
	case errors.Is(err, windows.ERROR_ACCOUNT_RESTRICTION),
		errors.Is(err, windows.ERROR_INVALID_LOGON_HOURS),
		errors.Is(err, windows.ERROR_INVALID_WORKSTATION),
		errors.Is(err, windows.ERROR_PASSWORD_EXPIRED),
		errors.Is(err, windows.ERROR_PASSWORD_MUST_CHANGE),
		errors.Is(err, windows.ERROR_ACCOUNT_DISABLED),
		errors.Is(err, windows.ERROR_ACCOUNT_EXPIRED),
		errors.Is(err, windows.ERROR_ACCOUNT_LOCKED_OUT),
		errors.Is(err, windows.ERROR_LOGON_TYPE_NOT_GRANTED):
		sentinel = ErrAccountRefused
	default:
		// No domain controller, no memory: no answer about the password.
		return fmt.Errorf("%s: LogonUserW: %w", what, err)
	}
	return fmt.Errorf("%s: %w (LogonUserW: %w)", what, sentinel, err)
}

// logonUser calls LogonUserW and closes the token it gets.
func logonUser(name, domain, password *uint16, logonType uint32) error {
	var token windows.Token
	r, _, err := procLogonUserW.Call(
		uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(domain)),
		uintptr(unsafe.Pointer(password)),
		uintptr(logonType),
		logon32ProviderDefault,
		uintptr(unsafe.Pointer(&token)),
	)
	if r == 0 {
		if err == nil || errors.Is(err, windows.ERROR_SUCCESS) {
			return errors.New("LogonUserW failed without an error code")
		}
		return err
	}
	// The token proved the password; closing it cannot change that.
	_ = token.Close()
	return nil
}

// splitAccount turns DOMAIN\user into its parts; a user principal name
// (user@corp.example) goes whole with no domain, as LogonUserW wants; a
// bare name is a local account (domain ".").
func splitAccount(account string) (name, domain string) {
	if d, n, ok := strings.Cut(account, `\`); ok {
		return n, d
	}
	if strings.Contains(account, "@") {
		return account, ""
	}
	return account, "."
}
