// Package osauth checks an OS account's password, for the actions that
// need the person and not merely a process running as their account:
// lifting the kill switch (resume) and approving a write from the tray.
//
// The tray or CLI asks the person for their password and sends it to
// scispot-mcpd over the local socket; the service has already learned the
// account from the kernel (peer credentials) and calls
//
//	err := osauth.CheckPassword(ctx, account, password)
//	switch {
//	case err == nil:                              // the person proved who they are
//	case errors.Is(err, osauth.ErrWrongPassword): // say so; let them try again
//	case errors.Is(err, osauth.ErrUnsupported):   // this build cannot check: refuse
//	default:                                      // refuse, and log err
//	}
//
// Linux and macOS check through PAM (service [DefaultService], then
// "login"), running both the auth and the account stacks, so a locked or
// expired account fails like it would at the login prompt. Windows asks
// LogonUserW for a network logon. Builds without cgo on Linux and macOS
// cannot check passwords and return [ErrUnsupported]: scispot-mcpd is built
// with cgo.
//
// No error, log line or panic from this package contains the password.
package osauth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"os/user"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors that [CheckPassword] and [FullName] wrap. Test with errors.Is.
var (
	// ErrWrongPassword means authentication failed: the password is not
	// right for the account (PAM's auth stack or Windows refused it). An
	// empty password always gets this answer. With PAM, a locked password
	// (usermod -L, passwd -l) also looks like a wrong one.
	ErrWrongPassword = errors.New("wrong password")

	// ErrAccountRefused means the OS refuses the account now even though
	// the password may be right: it has expired, is disabled or locked
	// out, its password has expired and must be changed first, or it may
	// not log on at this time or from here (PAM's account stack, Windows
	// logon restrictions).
	ErrAccountRefused = errors.New("the OS refuses this account now (expired, locked or disabled, or its password must be changed)")

	// ErrUnknownAccount means the OS knows no account of that name, or the
	// name cannot be one.
	ErrUnknownAccount = errors.New("no such OS account")

	// ErrUnsupported means this build or platform cannot check passwords
	// (Linux and macOS without cgo, other systems). It matches
	// errors.ErrUnsupported too.
	ErrUnsupported = fmt.Errorf("checking OS account passwords is not supported by this build: %w", errors.ErrUnsupported)
)

// DefaultService is the PAM service scispot-mcpd checks passwords with:
// /etc/pam.d/scispot-mcp, which the Linux package installs.
const DefaultService = "scispot-mcp"

// fallbackService is used when DefaultService is not installed (a build
// run from source, macOS, whose installer ships no PAM file).
//
// "login" and not "other": login is the stack for a person proving who
// they are at the console, present on every Linux distribution and on
// macOS, and it carries the machine's rules for that (lockout counters
// such as pam_faillock, pam_faildelay, pam_nologin, macOS's
// pam_opendirectory). "other" is the catch-all for unconfigured programs:
// pam_deny on many distributions (every check would fail) and elsewhere
// whatever the admin left there. Stacks of programs that switch users
// (su, sudo, runuser) are never candidates: they start with pam_rootok,
// which lets any caller running as root through without a password — and
// scispot-mcpd runs as root.
const fallbackService = "login"

// Options changes how [Options.CheckPassword] checks. The zero value is
// what [CheckPassword] uses.
type Options struct {
	// Service is the PAM service (a file name in /etc/pam.d) to check
	// with. Empty means DefaultService if it is installed, else "login".
	// A named service must be installed: PAM would otherwise fall back to
	// "other" without a word, so a missing one is an error. The service's
	// file, and every folder above it, must be owned by root and writable
	// by no one else. Windows ignores Service.
	Service string
}

// maxPasswordBytes bounds what is handed to PAM or Windows: a PAM
// conversation answer is at most 512 bytes (PAM_MAX_RESP_SIZE), a Windows
// password at most 256 characters.
const maxPasswordBytes = 512

// maxAccountBytes bounds an account name (Linux allows 32, Windows 256
// for DOMAIN\user or a user principal name).
const maxAccountBytes = 512

// inflight holds one token per check that is still inside PAM or
// LogonUserW; each platform sets maxInflight. It is process-wide on
// purpose: a check abandoned by its caller (ctx done) keeps an OS thread
// until the OS answers — a directory server that never answers,
// pam_faildelay's sleep — and a caller that gives up and retries must not
// pile up threads or sidestep the delay after a failure. Waiting callers
// are served in turn. It is a fixed-size limiter that nothing changes,
// not a registry.
var inflight = make(chan struct{}, maxInflight)

// Supported reports whether this build can check passwords. When it is
// false, CheckPassword always fails with ErrUnsupported.
func Supported() bool { return supported }

// CheckPassword reports whether password is account's OS password, with
// the zero [Options]. It returns nil when it is; otherwise an error
// matching ErrWrongPassword, ErrAccountRefused, ErrUnknownAccount or
// ErrUnsupported, or another error that says what failed (PAM not
// installed, a directory server unreachable, ctx done).
//
// account is the login name as the OS knows it (Windows: DOMAIN\user, a
// user principal name, or a local user name). ctx bounds the wait: when it
// is done, CheckPassword returns ctx's error at once, while PAM or Windows
// finishes in the background (PAM sleeps after a failure).
func CheckPassword(ctx context.Context, account string, password string) error {
	return Options{}.CheckPassword(ctx, account, password)
}

// CheckPassword is [CheckPassword] with these options.
func (o Options) CheckPassword(ctx context.Context, account string, password string) error {
	if !supported {
		return fmt.Errorf("checking the password of %q: %w", account, ErrUnsupported)
	}
	if err := validAccount(account); err != nil {
		return fmt.Errorf("checking the password of %q: %w", account, err)
	}
	// An empty password never reaches PAM: pam_unix's nullok would accept
	// it for an account that has none. A NUL would end the C string early
	// and check a shorter password than the one given.
	if password == "" || len(password) > maxPasswordBytes || strings.IndexByte(password, 0) >= 0 {
		return fmt.Errorf("checking the password of %q: %w", account, ErrWrongPassword)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("checking the password of %q: %w", account, err)
	}
	select {
	case inflight <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("checking the password of %q: waiting for a free slot: %w", account, ctx.Err())
	}
	done := make(chan error, 1) // buffered: the goroutine never blocks on an abandoned check
	go func() {
		defer func() { <-inflight }()
		done <- checkPassword(ctx, account, password, o)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("checking the password of %q: %w", account, ctx.Err())
	}
}

// validAccount refuses names that no OS account can have and that would
// reach C or a log line damaged: empty, too long, or with control
// characters (a NUL would cut the name short).
func validAccount(account string) error {
	if account == "" {
		return fmt.Errorf("empty account name: %w", ErrUnknownAccount)
	}
	if len(account) > maxAccountBytes || !utf8.ValidString(account) {
		return fmt.Errorf("not a valid account name: %w", ErrUnknownAccount)
	}
	for _, r := range account {
		if unicode.IsControl(r) {
			return fmt.Errorf("account name has a control character: %w", ErrUnknownAccount)
		}
	}
	return nil
}

// maxFullNameBytes bounds the printed name that signatures carry.
const maxFullNameBytes = 256

// FullName returns account's printed name for electronic signatures: on
// Linux and macOS the first comma-separated part of the GECOS field, on
// Windows the account's full name where the OS has one; the login name
// when the OS has none. Control and bidirectional-override characters are
// dropped and white space collapsed, so the name prints as it reads.
//
// The account is the signer's identity; the printed name is only what the
// OS says about it, and some systems let a person edit their own (chfn
// where login.defs' CHFN_RESTRICT includes "f").
func FullName(account string) (string, error) {
	if err := validAccount(account); err != nil {
		return "", fmt.Errorf("finding the full name of %q: %w", account, err)
	}
	u, err := user.Lookup(account)
	if err == nil {
		return printedName(u.Name, account), nil
	}
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) && runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		// os/user without cgo reads only /etc/passwd; accounts from a
		// directory (SSSD, LDAP, winbind) come from NSS through getent.
		gecos, found, gerr := getentGECOS(account)
		if gerr == nil && found {
			return printedName(gecos, account), nil
		}
		if gerr != nil {
			return "", fmt.Errorf("finding the full name of %q: it is not in /etc/passwd and NSS could not be asked: %w", account, gerr)
		}
	}
	if errors.As(err, &unknown) {
		return "", fmt.Errorf("finding the full name of %q: %w", account, ErrUnknownAccount)
	}
	return "", fmt.Errorf("finding the full name of %q: %w", account, err)
}

// getentGECOS asks NSS for account's passwd entry and returns the first
// comma-separated part of its GECOS field. found is false when NSS knows
// no such account; err when getent could not be asked.
func getentGECOS(account string) (gecos string, found bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getent", "passwd", "--", account).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 { // getent: key not found
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("running getent passwd: %w", err)
	}
	gecos, found = passwdGECOS(out, account)
	return gecos, found, nil
}

// passwdGECOS finds account's line in passwd(5) text and returns the first
// comma-separated part of its GECOS field. The name must match: getent
// answers a numeric key with the entry of that uid.
func passwdGECOS(passwd []byte, account string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(passwd))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) != 7 || f[0] != account {
			continue
		}
		gecos, _, _ := strings.Cut(f[4], ",")
		return gecos, true
	}
	return "", false
}

// printedName cleans name for printing beside a signature, or gives
// account when nothing printable is left.
func printedName(name, account string) string {
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), isBidiControl(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+utf8.RuneLen(r) > maxFullNameBytes {
			break
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return account
	}
	return b.String()
}

// isBidiControl reports the characters that reorder how text prints
// (Unicode's Bidi_Control property), which could make a name read as
// another.
func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}
