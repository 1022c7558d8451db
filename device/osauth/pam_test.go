//go:build linux && cgo

package osauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"
)

// The tests below check real passwords of real accounts through the real
// PAM library and the machine's own stacks (common-auth, common-account).
// They need root: they create throwaway accounts and PAM service files in
// /etc/pam.d, and pam_unix reads /etc/shadow only for root. CI runs as
// root. Everything they create is removed in t.Cleanup.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: needs root to create throwaway OS accounts and PAM service files in /etc/pam.d (CI runs as root)")
	}
	for _, tool := range []string{"useradd", "userdel", "usermod", "chpasswd", "chage"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (Debian package passwd): %v", tool, err)
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func run(t *testing.T, stdin string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// newAccount creates an OS account with a random name and password (with
// a space and non-ASCII letters) and removes it, home folder included,
// when the test ends.
func newAccount(t *testing.T, gecos string) (account, password string) {
	t.Helper()
	account = "scispot-pam-" + randomHex(t, 4)
	password = "Pw " + randomHex(t, 8) + " ünï✓"
	args := []string{"--create-home", "--shell", "/bin/sh"}
	if gecos != "" {
		args = append(args, "--comment", gecos)
	}
	run(t, "", "useradd", append(args, account)...)
	t.Cleanup(func() {
		out, err := exec.Command("userdel", "-r", account).CombinedOutput()
		if err != nil {
			// userdel warns (exit 12) when there is no mail spool; the
			// account must be gone all the same.
			if exec.Command("id", account).Run() == nil {
				t.Errorf("removing test account %s: %v\n%s", account, err, out)
			}
		}
	})
	run(t, account+":"+password+"\n", "chpasswd")
	return account, password
}

// installService writes a PAM service file /etc/pam.d/scispot-mcp-test-*
// that is not there yet, and removes it when the test ends.
func installService(t *testing.T, content string) (service, path string) {
	t.Helper()
	service = "scispot-mcp-test-" + randomHex(t, 4)
	path = filepath.Join("/etc/pam.d", service)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatalf("installing a test PAM service: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(path); err != nil {
			t.Errorf("removing test PAM service: %v", err)
		}
	})
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return service, path
}

// shippedService is the file the Linux package installs as
// /etc/pam.d/scispot-mcp.
func shippedService(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../packaging/linux/pam.d/scispot-mcp")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckPasswordPAM(t *testing.T) {
	requireRoot(t)
	service, _ := installService(t, shippedService(t))
	shipped := Options{Service: service}

	jane, janePassword := newAccount(t, "Jane Q. Tester,Lab 3,555-0100,,")
	locked, lockedPassword := newAccount(t, "")
	run(t, "", "usermod", "-L", locked)
	expired, expiredPassword := newAccount(t, "")
	run(t, "", "usermod", "-e", "1", expired) // expired on 2 January 1970
	mustChange, mustChangePassword := newAccount(t, "")
	run(t, "", "chage", "-d", "0", mustChange) // password must be changed first

	// A service file that an account could change is refused even with
	// the right password: one owned by jane, one writable by root's group.
	ownedByUser, ownedByUserPath := installService(t, shippedService(t))
	run(t, "", "chown", jane, ownedByUserPath)
	groupWritable, groupWritablePath := installService(t, shippedService(t))
	if err := os.Chmod(groupWritablePath, 0o664); err != nil {
		t.Fatal(err)
	}
	// A stack whose modules talk: what they say goes into the error.
	talks, _ := installService(t, "auth optional pam_echo.so Ask the lab's IT desk to reset it.\n"+shippedService(t))

	tests := []struct {
		name     string
		opts     Options
		account  string
		password string
		want     error // nil: must succeed
		wantText string
	}{
		{name: "right password", opts: shipped, account: jane, password: janePassword},
		{name: "right password, default service", opts: Options{}, account: jane, password: janePassword},
		{name: "wrong password", opts: shipped, account: jane, password: janePassword + "x", want: ErrWrongPassword},
		{name: "password cut short", opts: shipped, account: jane, password: janePassword[:len(janePassword)-1], want: ErrWrongPassword},
		{name: "right password then NUL and more", opts: shipped, account: jane, password: janePassword + "\x00junk", want: ErrWrongPassword},
		{name: "empty password", opts: shipped, account: jane, password: "", want: ErrWrongPassword},
		{name: "empty password never reaches PAM", opts: Options{Service: service + "-missing"}, account: jane, password: "", want: ErrWrongPassword},
		{name: "unknown account", opts: shipped, account: "scispot-pam-nosuchuser", password: janePassword, want: ErrUnknownAccount},
		{name: "locked account", opts: shipped, account: locked, password: lockedPassword, want: ErrWrongPassword},
		{name: "expired account", opts: shipped, account: expired, password: expiredPassword, want: ErrAccountRefused},
		{name: "password must be changed", opts: shipped, account: mustChange, password: mustChangePassword, want: ErrAccountRefused},
		{name: "service not installed", opts: Options{Service: service + "-missing"}, account: jane, password: janePassword, want: fs.ErrNotExist},
		{name: "service name with a slash", opts: Options{Service: "../pam.d/" + service}, account: jane, password: janePassword, wantText: "not a PAM service name"},
		{name: "service file owned by the account", opts: Options{Service: ownedByUser}, account: jane, password: janePassword, wantText: "not root"},
		{name: "service file writable by a group", opts: Options{Service: groupWritable}, account: jane, password: janePassword, wantText: "writable by its group"},
		{name: "what PAM says", opts: Options{Service: talks}, account: jane, password: janePassword + "x", want: ErrWrongPassword, wantText: `PAM said: "Ask the lab's IT desk to reset it."`},
		{name: "right password, PAM says something", opts: Options{Service: talks}, account: jane, password: janePassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := tt.opts.CheckPassword(ctx, tt.account, tt.password)
			switch {
			case tt.want == nil && tt.wantText == "":
				if err != nil {
					t.Fatalf("CheckPassword = %v, want success", err)
				}
				return
			case err == nil:
				t.Fatal("CheckPassword succeeded, want an error")
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("CheckPassword = %v, want %v", err, tt.want)
			case tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText):
				t.Fatalf("CheckPassword = %v, want an error saying %q", err, tt.wantText)
			}
			for _, p := range []string{janePassword, lockedPassword, expiredPassword, mustChangePassword} {
				if strings.Contains(err.Error(), p) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), p) {
					t.Fatalf("the error shows a password: %v", err)
				}
			}
			t.Logf("error: %v", err)
		})
	}

	t.Run("full name", func(t *testing.T) {
		for account, want := range map[string]string{jane: "Jane Q. Tester", locked: locked} {
			got, err := FullName(account)
			if err != nil || got != want {
				t.Errorf("FullName(%q) = %q, %v; want %q", account, got, err, want)
			}
		}
	})
}

// A check whose PAM stack takes long returns as soon as its context is
// done; the abandoned check still holds its turn until PAM ends.
func TestCheckPasswordPAMContext(t *testing.T) {
	requireRoot(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	const stall = 2 * time.Second
	slow, _ := installService(t, fmt.Sprintf("auth required pam_exec.so quiet %s %d\n", sleep, int(stall/time.Second))+shippedService(t))
	account, password := newAccount(t, "")

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err = Options{Service: slow}.CheckPassword(ctx, account, password)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckPassword = %v, want context.Canceled", err)
	}
	if took > time.Second {
		t.Fatalf("CheckPassword returned %v after it was cancelled at 100ms, want promptly", took)
	}

	// The next check waits for the abandoned one (so nothing is left
	// running when the test ends) and then succeeds on its own.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	start = time.Now()
	if err := (Options{Service: slow}).CheckPassword(ctx2, account, password); err != nil {
		t.Fatalf("CheckPassword after an abandoned check = %v, want success", err)
	}
	// The abandoned check ends 2s after it started at the earliest, then
	// this one stalls 2s of its own.
	if took := time.Since(start); took < 2*stall-200*time.Millisecond {
		t.Errorf("the second check took %v: it did not wait for the abandoned one", took)
	}

	// A check waiting for its turn gives up when its context is done.
	inflight <- struct{}{} // a check in progress
	ctx3, cancel3 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel3()
	start = time.Now()
	err = Options{Service: slow}.CheckPassword(ctx3, account, password)
	<-inflight
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CheckPassword waiting for its turn = %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("CheckPassword waiting for its turn returned after %v, want promptly", took)
	}
}

func TestResolveService(t *testing.T) {
	uid := uint32(os.Getuid())
	dir := t.TempDir()
	if err := checkChain(dir, uid); err != nil {
		t.Skipf("the temporary folder cannot pass the ownership check: %v", err)
	}
	write := func(t *testing.T, dir, name string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("auth required pam_deny.so\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	mkdir := func(t *testing.T) string {
		t.Helper()
		d := filepath.Join(dir, randomHex(t, 4))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}

	both := mkdir(t)
	write(t, both, DefaultService, 0o644)
	write(t, both, "login", 0o644)
	onlyLogin := mkdir(t)
	write(t, onlyLogin, "login", 0o644)
	none := mkdir(t)
	tampered := mkdir(t)
	write(t, tampered, DefaultService, 0o646)
	write(t, tampered, "login", 0o644)
	linked := mkdir(t)
	write(t, linked, "real", 0o644)
	if err := os.Symlink(filepath.Join(linked, "real"), filepath.Join(linked, "custom")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(linked, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	openDir := mkdir(t)
	write(t, openDir, "login", 0o644)
	if err := os.Chmod(openDir, 0o777); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		service string
		dirs    []string
		want    string
		wantErr string
	}{
		{"default installed", "", []string{both}, DefaultService, ""},
		{"default missing: login", "", []string{onlyLogin}, "login", ""},
		{"default in any folder wins over login", "", []string{onlyLogin, both}, DefaultService, ""},
		{"named service: first folder wins", DefaultService, []string{both, tampered}, DefaultService, ""},
		{"named service: first folder wins even when untrusted", DefaultService, []string{tampered, both}, "", "writable by its group or by others"},
		{"default found in a later folder", "", []string{none, both}, DefaultService, ""},
		{"neither installed", "", []string{none}, "", "neither PAM service"},
		{"tampered default: no fallback to login", "", []string{tampered}, "", "writable by its group or by others"},
		{"named service", "login", []string{both}, "login", ""},
		{"named service missing", "custom", []string{both}, "", "not installed"},
		{"named service through a link", "custom", []string{linked}, "custom", ""},
		{"named service is a folder", "folder", []string{linked}, "", "not a regular file"},
		{"folder writable by others", "login", []string{openDir}, "", "writable by its group or by others"},
		{"slash in the name", "a/b", []string{both}, "", "not a PAM service name"},
		{"dot-dot", "..", []string{both}, "", "not a PAM service name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveService(tt.service, tt.dirs, uid)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("resolveService = %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolveService = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The conversation answers the first hidden prompt with the password and
// nothing else; what the modules say is kept, unless it holds the
// password.
func TestConversation(t *testing.T) {
	const password = "s3cret pass"
	type step struct {
		style   pam.Style
		msg     string
		want    string
		wantErr bool
	}
	tests := []struct {
		name           string
		cancelled      bool
		steps          []step
		wantUnexpected string
		wantSaid       []string
	}{
		{name: "one password prompt", steps: []step{{pam.PromptEchoOff, "Password: ", password, false}}},
		{name: "a second secret is refused", steps: []step{
			{pam.PromptEchoOff, "Password: ", password, false},
			{pam.PromptEchoOff, "Verification code: ", "", true},
		}, wantUnexpected: "Verification code: "},
		{name: "a visible question is refused", steps: []step{{pam.PromptEchoOn, "login: ", "", true}}, wantUnexpected: "login: "},
		{name: "messages kept", steps: []step{
			{pam.TextInfo, "Last failed login: yesterday", "", false},
			{pam.ErrorMsg, "  The account is locked.  ", "", false},
			{pam.PromptEchoOff, "Password: ", password, false},
		}, wantSaid: []string{"Last failed login: yesterday", "The account is locked."}},
		{name: "a message holding the password is dropped", steps: []step{
			{pam.TextInfo, "you typed " + password, "", false},
		}},
		{name: "no answer once the context is done", cancelled: true, steps: []step{
			{pam.PromptEchoOff, "Password: ", "", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			c := &conversation{ctx: ctx, password: password}
			for _, st := range tt.steps {
				got, err := c.RespondPAM(st.style, st.msg)
				if got != st.want || (err != nil) != st.wantErr {
					t.Fatalf("RespondPAM(%d, %q) = %q, %v; want %q, error %v", st.style, st.msg, got, err, st.want, st.wantErr)
				}
			}
			if c.unexpected != tt.wantUnexpected {
				t.Errorf("unexpected prompt = %q, want %q", c.unexpected, tt.wantUnexpected)
			}
			if strings.Join(c.said, "|") != strings.Join(tt.wantSaid, "|") {
				t.Errorf("said = %q, want %q", c.said, tt.wantSaid)
			}
			if c.cancelled != tt.cancelled {
				t.Errorf("cancelled = %v, want %v", c.cancelled, tt.cancelled)
			}
		})
	}
}

// PAM's answers map onto this package's errors.
func TestConversationFailure(t *testing.T) {
	tests := []struct {
		name     string
		conv     conversation
		status   error
		sentinel error
		want     []error
		notWant  error
		wantText string
	}{
		{name: "auth error from the auth stack", status: pam.ErrAuth, sentinel: ErrWrongPassword, want: []error{ErrWrongPassword, pam.ErrAuth}},
		{name: "too many tries", status: pam.ErrMaxtries, sentinel: ErrWrongPassword, want: []error{ErrWrongPassword}},
		{name: "auth error from the account stack", status: pam.ErrAuth, sentinel: ErrAccountRefused, want: []error{ErrAccountRefused}},
		{name: "unknown user", status: pam.ErrUserUnknown, sentinel: ErrWrongPassword, want: []error{ErrUnknownAccount}},
		{name: "expired account", status: pam.ErrAcctExpired, sentinel: ErrAccountRefused, want: []error{ErrAccountRefused}},
		{name: "new password required", status: pam.ErrNewAuthtokReqd, sentinel: ErrAccountRefused, want: []error{ErrAccountRefused}},
		{name: "permission denied", status: pam.ErrPermDenied, sentinel: ErrAccountRefused, want: []error{ErrAccountRefused}},
		{name: "directory unreachable is no answer", status: pam.ErrAuthinfoUnavail, sentinel: ErrWrongPassword, want: []error{pam.ErrAuthinfoUnavail}, notWant: ErrWrongPassword},
		{name: "module missing is no answer", status: pam.ErrOpen, sentinel: ErrWrongPassword, want: []error{pam.ErrOpen}, notWant: ErrWrongPassword},
		{name: "a refused question says so", conv: conversation{unexpected: "Verification code: "}, status: pam.ErrConv, sentinel: ErrWrongPassword,
			notWant: ErrWrongPassword, wantText: `asked for more than the password ("Verification code: ")`},
		{name: "what PAM said", conv: conversation{said: []string{"locked for 10 minutes"}}, status: pam.ErrAuth, sentinel: ErrWrongPassword,
			want: []error{ErrWrongPassword}, wantText: `PAM said: "locked for 10 minutes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.conv
			c.ctx = context.Background()
			err := c.failure("checking", "pam_call", tt.status, tt.sentinel)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("failure = %v, want it to match %v", err, w)
				}
			}
			if tt.notWant != nil && errors.Is(err, tt.notWant) {
				t.Errorf("failure = %v, must not match %v", err, tt.notWant)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("failure = %v, want it to say %q", err, tt.wantText)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := conversation{ctx: ctx, cancelled: true}
	if err := c.failure("checking", "pam_authenticate", pam.ErrAuth, ErrWrongPassword); !errors.Is(err, context.Canceled) || errors.Is(err, ErrWrongPassword) {
		t.Errorf("failure after a cancelled prompt = %v, want context.Canceled only", err)
	}
}
