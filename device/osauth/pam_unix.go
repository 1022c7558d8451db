//go:build (linux || darwin) && cgo

package osauth

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/msteinert/pam/v2"
)

const supported = true

// maxInflight is 1 with PAM: libpam is safe with one handle per thread,
// but the modules in a stack need not be, and one check at a time also
// keeps a caller from guessing in parallel past pam_unix's delay after a
// failure.
const maxInflight = 1

// pamServiceDirs are the folders the PAM library reads a service's file
// from, in its own order, before it falls back to the "other" service or,
// on macOS, to /usr/local/etc/pam.d — a folder Homebrew hands to the
// admin user, where a planted file would decide whether a password is
// right. A service counts as installed only when its file is in one of
// these, so PAM reads the very file that was checked.
func pamServiceDirs() []string {
	if runtime.GOOS == "darwin" {
		// OpenPAM on macOS reads files pushed by an MDM first.
		return []string{"/private/var/db/ManagedConfigurationFiles/com.apple.pam/etc/pam.d", "/etc/pam.d"}
	}
	// Linux-PAM reads /etc/pam.d/SERVICE first (when /etc/pam.d exists,
	// /etc/pam.conf is ignored). A distribution vendor folder
	// (/usr/lib/pam.d) is left out: not every libpam is built to read it,
	// and then PAM would silently use "other".
	return []string{"/etc/pam.d"}
}

// checkPassword runs service's auth stack (pam_authenticate: is the
// password right?) and account stack (pam_acct_mgmt: may the account be
// used now?) for account, answering the password prompt with password.
func checkPassword(ctx context.Context, account, password string, o Options) error {
	service, err := resolveService(o.Service, pamServiceDirs(), 0)
	if err != nil {
		return fmt.Errorf("checking the password of %q: %w", account, err)
	}
	what := fmt.Sprintf("checking the password of %q with PAM service %q", account, service)

	// Many stacks answer "authentication failure" for an unknown account
	// (Debian's common-auth ends in pam_deny); ask NSS first so that the
	// caller learns the account does not exist, and no password is handed
	// to PAM for it.
	var unknown user.UnknownUserError
	if _, err := user.Lookup(account); errors.As(err, &unknown) {
		return fmt.Errorf("%s: %w", what, ErrUnknownAccount)
	}

	// The whole transaction on one thread: modules may keep per-thread
	// state between the calls.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	conv := &conversation{ctx: ctx, password: password}
	tx, err := pam.Start(service, account, conv)
	if err != nil {
		return fmt.Errorf("%s: pam_start: %w", what, err)
	}
	// pam_end only frees the handle; its status adds nothing to ours.
	defer func() { _ = tx.End() }()

	// DisallowNullAuthtok: an account without a password fails too, even
	// where the stack says nullok.
	if err := tx.Authenticate(pam.DisallowNullAuthtok); err != nil {
		return conv.failure(what, "pam_authenticate", err, ErrWrongPassword)
	}
	if err := tx.AcctMgmt(pam.DisallowNullAuthtok); err != nil {
		return conv.failure(what, "pam_acct_mgmt", err, ErrAccountRefused)
	}
	return nil
}

// conversation answers PAM's prompts for one check.
type conversation struct {
	ctx      context.Context
	password string

	answered   bool     // the password prompt was answered
	cancelled  bool     // the prompt came after ctx was done and was refused
	unexpected string   // a prompt that was refused: a second secret, a question
	said       []string // what the modules said (errors and information)
}

var errRefusedPrompt = errors.New("prompt refused")

// RespondPAM answers the first hidden prompt with the password and refuses
// any other question: a stack that asks for more (a one-time code, a
// user name) cannot be answered from here, and the password must reach
// no prompt but the one it was given for.
func (c *conversation) RespondPAM(style pam.Style, msg string) (string, error) {
	switch style {
	case pam.PromptEchoOff:
		if err := c.ctx.Err(); err != nil {
			c.cancelled = true
			return "", err
		}
		if c.answered {
			c.unexpected = msg
			return "", errRefusedPrompt
		}
		c.answered = true
		return c.password, nil
	case pam.ErrorMsg, pam.TextInfo:
		c.note(msg)
		return "", nil
	case pam.PromptEchoOn:
		c.unexpected = msg
	default:
		c.unexpected = fmt.Sprintf("a message of style %d", style)
	}
	return "", errRefusedPrompt
}

// note keeps a module's message for the error, unless it holds the
// password (no module should echo it, but errors must never carry it).
func (c *conversation) note(msg string) {
	msg = strings.TrimSpace(msg)
	if msg == "" || len(c.said) >= 4 || strings.Contains(msg, c.password) {
		return
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	c.said = append(c.said, msg)
}

// failure turns a failed PAM call into this package's errors. sentinel is
// what the call's "no" means: ErrWrongPassword from the auth stack,
// ErrAccountRefused from the account stack.
func (c *conversation) failure(what, call string, err error, sentinel error) error {
	var said string
	if len(c.said) > 0 {
		said = fmt.Sprintf("; PAM said: %q", strings.Join(c.said, " / "))
	}
	if c.cancelled {
		return fmt.Errorf("%s: %w", what, c.ctx.Err())
	}
	if c.unexpected != "" {
		return fmt.Errorf("%s: the PAM stack asked for more than the password (%q), which cannot be answered here; its service file must ask only for the password (%s: %w%s)",
			what, c.unexpected, call, err, said)
	}
	var status pam.Error
	if !errors.As(err, &status) {
		return fmt.Errorf("%s: %s: %w", what, call, err)
	}
	switch {
	case status == pam.ErrAuth, status == pam.ErrMaxtries:
		// sentinel as given
	case status == pam.ErrUserUnknown:
		sentinel = ErrUnknownAccount
	case status == pam.ErrAcctExpired, status == pam.ErrNewAuthtokReqd,
		status == pam.ErrAuthtokExpired, status == pam.ErrCredExpired,
		status == pam.ErrPermDenied, appleAccountLocked(status):
		sentinel = ErrAccountRefused
	default:
		// PAM itself failed (a module missing, a directory server
		// unreachable): no answer about the password.
		return fmt.Errorf("%s: %s: %w%s", what, call, err, said)
	}
	return fmt.Errorf("%s: %w (%s: %w%s)", what, sentinel, call, err, said)
}

// appleAccountLocked reports Apple's OpenPAM extension codes for an
// account locked for a while or for good (PAM_APPLE_ACCT_TEMP_LOCK,
// PAM_APPLE_ACCT_LOCKED).
func appleAccountLocked(status pam.Error) bool {
	return runtime.GOOS == "darwin" && (status == 1024 || status == 1025)
}

// resolveService picks the PAM service to check with and makes sure that
// PAM will read a file only root can change: name if given (it must be
// installed), else DefaultService, else fallbackService. A default service
// whose file is there but not trusted stops the check instead of falling
// back: someone has tampered with it. owner is the uid allowed to own the
// files besides root (0 in production; tests pass their own).
func resolveService(name string, dirs []string, owner uint32) (string, error) {
	if name != "" {
		if name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			return "", fmt.Errorf("%q is not a PAM service name", name)
		}
		if _, err := findService(name, dirs, owner); err != nil {
			return "", err
		}
		return name, nil
	}
	for _, name := range []string{DefaultService, fallbackService} {
		_, err := findService(name, dirs, owner)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("neither PAM service %q nor %q is installed in %s: %w",
		DefaultService, fallbackService, strings.Join(dirs, " or "), fs.ErrNotExist)
}

// findService returns the path of name's file in the first of dirs that
// has one, once it has checked that only root (or owner) can change it.
func findService(name string, dirs []string, owner uint32) (string, error) {
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return "", fmt.Errorf("looking for PAM service %q: %w", name, err)
		}
		if err := checkOwnedByRoot(path, owner); err != nil {
			return "", fmt.Errorf("PAM service %q is not trusted: %w", name, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("PAM service %q is not installed in %s: %w", name, strings.Join(dirs, " or "), fs.ErrNotExist)
}

// checkOwnedByRoot makes sure that no one but root (or owner) can change
// what PAM reads at path: the file it leads to and every folder above it,
// and, when path is a symbolic link, the link and the folders above it,
// are owned by root and writable by no group or other user. A folder with
// the sticky bit may be writable by others, since they cannot rename or
// remove what root owns in it.
func checkOwnedByRoot(path string, owner uint32) error {
	link, err := os.Lstat(path)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", real)
	}
	if err := checkChain(real, owner); err != nil {
		return err
	}
	if link.Mode()&fs.ModeSymlink != 0 {
		if err := checkOwner(path, link, owner); err != nil {
			return err
		}
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return err
		}
		return checkChain(dir, owner)
	}
	return nil
}

// checkChain checks p and every folder above it (p has no symbolic links).
func checkChain(p string, owner uint32) error {
	for {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if err := checkOwner(p, fi, owner); err != nil {
			return err
		}
		sticky := fi.IsDir() && fi.Mode()&fs.ModeSticky != 0
		if fi.Mode()&fs.ModeSymlink == 0 && fi.Mode().Perm()&0o022 != 0 && !sticky {
			return fmt.Errorf("%s is writable by its group or by others (mode %v)", p, fi.Mode().Perm())
		}
		parent := filepath.Dir(p)
		if parent == p {
			return nil
		}
		p = parent
	}
}

func checkOwner(p string, fi fs.FileInfo, owner uint32) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", p)
	}
	if st.Uid != 0 && st.Uid != owner {
		return fmt.Errorf("%s is owned by uid %d, not root", p, st.Uid)
	}
	return nil
}
