package keychain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// Tests that need a real Secret Service skip without one, unless
// SCISPOT_REQUIRE_KEYRING=1 (set in CI, which runs them under
// dbus-run-session with an unlocked gnome-keyring):
//
//	dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
//	    SCISPOT_REQUIRE_KEYRING=1 go test -count=1 ./device/keychain/...'
const requireKeyringEnv = "SCISPOT_REQUIRE_KEYRING"

func keyringRequired() bool { return os.Getenv(requireKeyringEnv) == "1" }

// skipOrFail skips, or fails when the environment promised a keyring.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if keyringRequired() {
		t.Fatalf(requireKeyringEnv+"=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

func testAccount(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "test-" + hex.EncodeToString(b)
}

func TestExplainSecretService(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		kind   error
		reason string
	}{
		{"bus connect", &busError{err: errors.New("dial unix /x: connect: no such file or directory")}, ErrUnavailable, reasonBusConnect},
		{"no provider", dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, ErrUnavailable, reasonNoService},
		{"no provider, pointer", &dbus.Error{Name: "org.freedesktop.DBus.Error.NameHasNoOwner"}, ErrUnavailable, reasonNoService},
		{"no reply", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}, ErrUnavailable, reasonNoService},
		{"activation failed", dbus.Error{Name: "org.freedesktop.DBus.Error.Spawn.ChildExited"}, ErrUnavailable, reasonNoService},
		{"locked", dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, ErrLocked, reasonLocked},
		{"prompt dismissed", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), ErrLocked, reasonLocked},
		{"no default keyring", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), ErrLocked, reasonNoDefault},
		{"partial provider", dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownMethod"}, ErrUnavailable, reasonUnsupported},
		{"no such object", dbus.Error{Name: "org.freedesktop.Secret.Error.NoSuchObject"}, ErrUnavailable, reasonUnsupported},
		{"sandbox", dbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}, ErrUnavailable, reasonBusDenied},
		{"disconnected", dbus.Error{Name: "org.freedesktop.DBus.Error.Disconnected"}, ErrUnavailable, reasonBusLost},
		{"closed", dbus.ErrClosed, ErrUnavailable, reasonBusLost},
		{"eof", fmt.Errorf("reading: %w", io.EOF), ErrUnavailable, reasonBusLost},
		{"socket", &net.OpError{Op: "read", Net: "unix", Err: errors.New("connection reset")}, ErrUnavailable, reasonBusLost},
		{"other D-Bus error", dbus.Error{Name: "org.example.Weird"}, nil, reasonLinuxUnknown},
		{"other error", errors.New("something else"), nil, reasonLinuxUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explainSecretService(tt.err)
			if got.kind != tt.kind || got.reason != tt.reason || got.opaque {
				t.Errorf("explainSecretService() = {%v, %q, opaque %v}, want {%v, %q, false}", got.kind, got.reason, got.opaque, tt.kind, tt.reason)
			}
		})
	}
}

// noBusLocator finds no bus anywhere, whatever this machine has in
// /run/user.
func noBusLocator(getenv func(string) string) busLocator {
	return busLocator{
		getenv: getenv,
		setenv: func(string, string) error { return errors.New("must not be called") },
		uid:    os.Getuid(),
		stat:   func(string) (fs.FileInfo, error) { return nil, fs.ErrNotExist },
	}
}

func TestNoSessionBusTouchesNothing(t *testing.T) {
	for _, addr := range []string{"", "  ", "autolaunch:"} {
		b := newFakeBackend()
		p := newLinuxPlatform(noBusLocator(func(string) string { return addr }))
		p.backend = b
		s := newSystem(p, time.Hour)
		_, err := s.Get(t.Context(), AccountToken)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no D-Bus session bus") {
			t.Errorf("address %q: Get error = %v, want ErrUnavailable about the missing bus", addr, err)
		}
		if n := b.callCount(); n != 0 {
			t.Errorf("address %q: the keychain was called %d times", addr, n)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestFindSessionBus: a client that strips the environment (the MCP
// Inspector passes only HOME, PATH, SHELL and TERM) still reaches the
// desktop session's bus, and only one that belongs to this account.
func TestFindSessionBus(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	me := os.Getuid()
	runUser := fmt.Sprintf("/run/user/%d/bus", me)
	tests := []struct {
		name      string
		env       map[string]string
		uid       int
		stat      func(string) (fs.FileInfo, error)
		wantAddr  string
		wantTried []string
	}{
		{name: "environment", env: map[string]string{busEnv: "unix:path=/x"}, uid: me, wantAddr: "unix:path=/x"},
		{name: "XDG_RUNTIME_DIR", env: map[string]string{"XDG_RUNTIME_DIR": dir}, uid: me, wantAddr: "unix:path=" + dbus.EscapeBusAddressValue(sock)},
		{name: "run user", uid: me,
			stat: func(p string) (fs.FileInfo, error) {
				if p == runUser {
					return os.Stat(sock)
				}
				return nil, fs.ErrNotExist
			},
			wantAddr: "unix:path=" + runUser},
		{name: "another account's socket", env: map[string]string{"XDG_RUNTIME_DIR": dir}, uid: me + 1,
			wantTried: []string{busEnv + " is not set", sock + " belongs to another account", fmt.Sprintf("/run/user/%d/bus", me+1)}},
		{name: "not a socket", env: map[string]string{"XDG_RUNTIME_DIR": dir},
			uid:       me,
			stat:      func(p string) (fs.FileInfo, error) { return os.Stat(plain) },
			wantTried: []string{busEnv + " is not set", sock + " is not a socket", runUser + " is not a socket"}},
		{name: "relative XDG_RUNTIME_DIR is ignored", env: map[string]string{"XDG_RUNTIME_DIR": "run"}, uid: me,
			stat:      func(string) (fs.FileInfo, error) { return nil, fs.ErrNotExist },
			wantTried: []string{busEnv + " is not set", runUser + " does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var set []string
			loc := busLocator{
				getenv: func(k string) string { return tt.env[k] },
				setenv: func(k, v string) error { set = append(set, k+"="+v); return nil },
				uid:    tt.uid,
				stat:   tt.stat,
			}
			if loc.stat == nil {
				loc.stat = os.Stat
			}
			addr, tried := loc.find()
			if addr != tt.wantAddr {
				t.Fatalf("address = %q, want %q (tried %q)", addr, tt.wantAddr, tried)
			}
			if tt.wantAddr == "" {
				if len(tried) != len(tt.wantTried) {
					t.Fatalf("tried = %q, want %q", tried, tt.wantTried)
				}
				for i := range tried {
					if !strings.HasPrefix(tried[i], tt.wantTried[i]) {
						t.Errorf("tried[%d] = %q, want %q", i, tried[i], tt.wantTried[i])
					}
				}
				if len(set) != 0 {
					t.Errorf("set %q although nothing was found", set)
				}
				return
			}
			if _, fromEnv := tt.env[busEnv]; !fromEnv && (len(set) != 1 || set[0] != busEnv+"="+tt.wantAddr) {
				t.Errorf("godbus was told %q, want %s=%s", set, busEnv, tt.wantAddr)
			}
		})
	}
}

// TestNoSessionBusLaunchesNoDaemon uses the real System with the bus
// variable unset and a fake dbus-launch first in PATH: godbus would run it
// to start a session bus, leaving a stray dbus-daemon behind.
func TestNoSessionBusLaunchesNoDaemon(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "dbus-launch-ran")
	script := fmt.Sprintf("#!/bin/sh\n: > '%s'\nexit 1\n", marker)
	if err := os.WriteFile(filepath.Join(dir, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if runUser := fmt.Sprintf("/run/user/%d/bus", os.Getuid()); fileExists(runUser) {
		t.Skipf("%s exists: a keychain without %s finds this desktop's bus there", runUser, busEnv)
	}
	t.Setenv("PATH", dir)
	t.Setenv("XDG_RUNTIME_DIR", dir)
	t.Setenv(busEnv, "")
	if err := os.Unsetenv(busEnv); err != nil {
		t.Fatal(err)
	}

	s := System()
	_, getErr := s.Get(t.Context(), AccountToken)
	setErr := s.Set(t.Context(), testAccount(t), "never-stored-secret")
	delErr := s.Delete(t.Context(), AccountToken)
	for _, err := range []error{getErr, setErr, delErr} {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("error = %v, want ErrUnavailable", err)
		}
	}
	if !strings.Contains(getErr.Error(), "no D-Bus session bus") {
		t.Errorf("error %q does not explain the missing session bus", getErr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("System() ran dbus-launch")
	}
}

// TestSecretService runs against the session's real Secret Service.
func TestSecretService(t *testing.T) {
	if os.Getenv(busEnv) == "" {
		skipOrFail(t, "%s is not set: no session bus, so no Secret Service to test against", busEnv)
	}
	ctx := t.Context()
	s := System()
	account := testAccount(t)
	t.Cleanup(func() { _ = s.Delete(context.Background(), account) })

	_, err := s.Get(ctx, account)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrLocked) {
		skipOrFail(t, "the Secret Service cannot be used: %v", err)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete(missing) error = %v, want ErrNotFound", err)
	}

	first, second := "first-"+account, "second ~!@#$%^&*()_+ üñî "+account
	if err := s.Set(ctx, account, first); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := s.Get(ctx, account); err != nil || got != first {
		t.Fatalf("Get = %q, %v; want %q", got, err, first)
	}
	if err := s.Set(ctx, account, second); err != nil {
		t.Fatalf("Set(overwrite): %v", err)
	}
	if got, err := s.Get(ctx, account); err != nil || got != second {
		t.Fatalf("Get after overwrite = %q, %v; want %q", got, err, second)
	}
	if err := s.Delete(ctx, account); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	// An overwrite must replace, not add: after one Delete nothing is left.
	if err := s.Delete(ctx, account); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete error = %v, want ErrNotFound", err)
	}
}

// Private-session tests start their own session bus (and gnome-keyring) in a
// throwaway HOME and re-run this test binary inside it as a child, because
// godbus keeps one session connection per process. DISPLAY is removed so an
// unlock prompt can never appear on the developer's screen.
const (
	childEnv         = "SCISPOT_KEYCHAIN_TEST_CHILD"
	childPasswordEnv = "SCISPOT_KEYCHAIN_TEST_PASSWORD"
)

type childSession struct {
	// keyring is how gnome-keyring starts: "unlock" (login keyring
	// created and unlocked), "start" (no login keyring) or "" (none).
	keyring string
	// busConfig, if set, is a dbus-daemon configuration file body.
	busConfig string
}

func runChild(t *testing.T, child string, cs childSession) {
	t.Helper()
	need := []string{"dbus-run-session", "dbus-daemon"}
	if cs.keyring != "" {
		need = append(need, "gnome-keyring-daemon")
	}
	for _, name := range need {
		if _, err := exec.LookPath(name); err != nil {
			skipOrFail(t, "%s is not installed", name)
		}
	}

	dir := t.TempDir()
	runtimeDir := filepath.Join(dir, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	script := `exec "$0" -test.run='^TestKeychainChild$' -test.count=1 -test.v`
	switch cs.keyring {
	case "unlock":
		script = `printf %s "$` + childPasswordEnv + `" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1; ` + script
	case "start":
		script = `gnome-keyring-daemon --start --components=secrets >/dev/null || exit 1; ` + script
	}
	args := []string{}
	if cs.busConfig != "" {
		conf := filepath.Join(dir, "bus.conf")
		if err := os.WriteFile(conf, []byte(cs.busConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config-file="+conf)
	}
	args = append(args, "--", "sh", "-c", script, os.Args[0])

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dbus-run-session", args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = childEnviron(map[string]string{
		"HOME":            dir,
		"XDG_RUNTIME_DIR": runtimeDir,
		"XDG_DATA_HOME":   filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_CACHE_HOME":  filepath.Join(dir, "cache"),
		childEnv:          child,
		childPasswordEnv:  "test-only-password",
	})
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestKeychainChild") {
		t.Fatalf("child %q in a private session failed (%v):\n%s", child, err, out)
	}
	t.Logf("child %q:\n%s", child, out)
}

// childEnviron is this process's environment without anything that points
// at the real desktop session, plus set.
func childEnviron(set map[string]string) []string {
	drop := map[string]bool{busEnv: true, "DISPLAY": true, "WAYLAND_DISPLAY": true,
		"GNOME_KEYRING_CONTROL": true, "SSH_AUTH_SOCK": true, requireKeyringEnv: true}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if drop[name] || strings.HasPrefix(name, "XDG_") {
			continue
		}
		if _, ok := set[name]; ok {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// A session bus with no service files: nothing can provide
// org.freedesktop.secrets.
const busWithoutServices = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

func TestStrippedEnvironmentFindsTheBus(t *testing.T) {
	runChild(t, "stripped", childSession{keyring: "unlock"})
}

func TestLockedKeyring(t *testing.T) {
	runChild(t, "locked", childSession{keyring: "unlock"})
}

func TestNoDefaultKeyring(t *testing.T) {
	runChild(t, "nodefault", childSession{keyring: "start"})
}

func TestNoSecretService(t *testing.T) {
	runChild(t, "noservice", childSession{busConfig: busWithoutServices})
}

// TestKeychainChild is the child half of the private-session tests; it does
// nothing unless runChild started it.
func TestKeychainChild(t *testing.T) {
	child := os.Getenv(childEnv)
	if child == "" {
		t.Skip("runs only inside a private session started by TestLockedKeyring and friends")
	}
	ctx := t.Context()
	s := NewSystem(&SystemOptions{Timeout: 30 * time.Second})
	account := testAccount(t)
	const secret = "child-secret-7c1f0e"

	// expect checks that every operation fails with kind and a message
	// that explains it, and that no error mentions the secret.
	expect := func(kind error, reason string) {
		t.Helper()
		_, getErr := s.Get(ctx, account)
		setErr := s.Set(ctx, account, secret+"-new")
		delErr := s.Delete(ctx, account)
		for _, err := range []error{getErr, setErr, delErr} {
			t.Log(err)
			if !errors.Is(err, kind) {
				t.Errorf("error = %v, want %v", err, kind)
				continue
			}
			if !strings.Contains(err.Error(), reason) {
				t.Errorf("error %q does not contain %q", err, reason)
			}
			if strings.Contains(fmt.Sprintf("%v %#v", err, err), "child-secret") {
				t.Errorf("error contains the secret: %v", err)
			}
		}
	}

	switch child {
	case "locked":
		if err := s.Set(ctx, account, secret); err != nil {
			t.Fatalf("Set while unlocked: %v", err)
		}
		lockLoginCollection(t)
		expect(ErrLocked, reasonLocked)
	case "nodefault":
		expect(ErrLocked, reasonNoDefault)
	case "noservice":
		expect(ErrUnavailable, reasonNoService)
	case "stripped":
		// What a client that passes only HOME, PATH, SHELL and TERM leaves:
		// no bus address, the desktop's bus at $XDG_RUNTIME_DIR/bus.
		addr := os.Getenv(busEnv)
		path, ok := strings.CutPrefix(addr, "unix:path=")
		if !ok {
			t.Skipf("the private bus %q is not a socket path", addr)
		}
		path, _, _ = strings.Cut(path, ",")
		if err := os.Symlink(path, filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus")); err != nil {
			t.Fatal(err)
		}
		os.Unsetenv(busEnv)
		s := NewSystem(&SystemOptions{Timeout: 30 * time.Second})
		if err := s.Set(ctx, account, secret); err != nil {
			t.Fatalf("Set without %s: %v", busEnv, err)
		}
		if got, err := s.Get(ctx, account); err != nil || got != secret {
			t.Fatalf("Get without %s = %v, want the secret back", busEnv, err)
		}
		s.Delete(ctx, account)
	default:
		t.Fatalf("unknown child %q", child)
	}
}

func lockLoginCollection(t *testing.T) {
	t.Helper()
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).
		Store(&locked, &prompt)
	if err != nil {
		t.Fatalf("locking the login keyring: %v", err)
	}
	if len(locked) != 1 || locked[0] != login {
		t.Fatalf("Lock locked %v (prompt %s), want the login collection", locked, prompt)
	}
}
