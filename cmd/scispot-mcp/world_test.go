package main_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// world is one test's workstation, as privilege separation has it:
//
//   - its own scispot-mcpd, started as root (CI runs as root) on a private
//     socket and state folder, the way the service manager starts it;
//   - when the tests are root, an unprivileged OS account created for the
//     test, with a password, a HOME and a keyring (gnome-keyring on a
//     session bus of its own), which runs every client: scispot-mcp, the
//     AI clients, the attacks. Without root, the tests' own account plays
//     both parts and the privilege tests skip.
//
// Its logs gather what every program printed, searched for the token at
// the end of a test.
type world struct {
	t      *testing.T
	home   string
	user   *testUser // nil: the tests' own account
	svcDir string    // the service's folder: run/mcpd.sock, var/
	svc    *exec.Cmd // the running scispot-mcpd
	bus    string    // the account's session bus
	// runtime is set for a workstation with no service installed: the
	// account's own demo instance listens in this XDG_RUNTIME_DIR.
	runtime string
	// mcpdArgs are more arguments for scispot-mcpd (set, then restart it).
	mcpdArgs []string
	mu       sync.Mutex
	logs     bytes.Buffer
	// clientSettingsAtSystemPaths lets the service write the AI clients'
	// managed settings where the clients read them (/etc/claude-code):
	// only for tests that put a tmpfs there first.
	clientSettingsAtSystemPaths bool
}

// testUser is an OS account made for one test.
type testUser struct {
	name     string
	uid, gid int
	password string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")}
	if os.Geteuid() == 0 {
		w.user = newTestUser(t)
	}
	w.home = w.mkdirOwned("scispot-home-", 0o700)
	w.startService()
	if w.user != nil && w.bus != "" {
		w.startKeyring()
	}
	return w
}

// newDemoWorld is a workstation where no service is installed: the
// tests' own account, whose commands start its unprivileged demo instance
// of scispot-mcpd (demo workspace only, no password to resume).
func newDemoWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS")}
	w.home = w.mkdirOwned("scispot-home-", 0o700)
	w.runtime = w.mkdirOwned("scispot-run-", 0o700)
	t.Cleanup(func() { exec.Command("pkill", "-f", w.runtime).Run() })
	return w
}

// secondAccount is another account on the same workstation: its own OS
// user, HOME and keyring, the same service.
func (w *world) secondAccount() *world {
	w.t.Helper()
	if w.user == nil {
		w.t.Skip("needs root to make a second account")
	}
	o := &world{t: w.t, bus: os.Getenv("DBUS_SESSION_BUS_ADDRESS"), user: newTestUser(w.t), svcDir: w.svcDir}
	o.home = o.mkdirOwned("scispot-home-", 0o700)
	if o.bus != "" {
		o.startKeyring()
	}
	return o
}

// newTestUser makes an account with a random password; it and its
// processes go at the end of the test.
func newTestUser(t *testing.T) *testUser {
	t.Helper()
	b := make([]byte, 5)
	rand.Read(b)
	u := &testUser{name: "sst" + hex.EncodeToString(b), password: "pw-" + hex.EncodeToString(b) + "-Aa1"}
	if out, err := exec.Command("useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/sh", "--user-group",
		"--comment", "Jane Q. Tester", u.name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v\n%s", u.name, err, out)
	}
	t.Cleanup(func() {
		exec.Command("pkill", "-KILL", "-u", u.name).Run()
		time.Sleep(50 * time.Millisecond)
		exec.Command("userdel", u.name).Run()
	})
	cmd := exec.Command("chpasswd")
	cmd.Stdin = strings.NewReader(u.name + ":" + u.password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v\n%s", err, out)
	}
	lu, err := user.Lookup(u.name)
	if err != nil {
		t.Fatal(err)
	}
	u.uid, _ = strconv.Atoi(lu.Uid)
	u.gid, _ = strconv.Atoi(lu.Gid)
	return u
}

// mkdirOwned makes a folder in the temporary directory that the world's
// account owns.
func (w *world) mkdirOwned(prefix string, mode os.FileMode) string {
	w.t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, mode); err != nil {
		w.t.Fatal(err)
	}
	if w.user != nil {
		if err := os.Chown(dir, w.user.uid, w.user.gid); err != nil {
			w.t.Fatal(err)
		}
	}
	return dir
}

// account is the OS account the world's clients run as.
func (w *world) account() string {
	if w.user != nil {
		return w.user.name
	}
	u, _ := user.Current()
	return u.Username
}

func (w *world) uid() int {
	if w.user != nil {
		return w.user.uid
	}
	return os.Getuid()
}

// password is the account's password (root runs only).
func (w *world) password() string {
	if w.user == nil {
		w.t.Skip("needs root: the test account's password is only known for an account the test made")
	}
	return w.user.password
}

func (w *world) socket() string { return filepath.Join(w.svcDir, "run", "mcpd.sock") }

// serviceUserDir is the service's folder for the world's account, which
// only the service (root) can write.
func (w *world) serviceUserDir() string {
	return filepath.Join(w.svcDir, "var", "users", "uid-"+strconv.Itoa(w.uid()))
}

func (w *world) auditDir() string { return filepath.Join(w.serviceUserDir(), "audit") }

// controlFile is the account's kill switch in its service's folder.
func (w *world) controlFile() string {
	if w.runtime != "" {
		return filepath.Join(w.stateDir(), "demo-service", "users", "uid-"+strconv.Itoa(w.uid()), "control.json")
	}
	return filepath.Join(w.serviceUserDir(), "control.json")
}

// stateDir is the account's own state folder (client-config records).
func (w *world) stateDir() string { return filepath.Join(w.home, ".local", "state", "scispot-mcp") }

// startService starts the world's scispot-mcpd and waits until it answers.
func (w *world) startService() {
	w.t.Helper()
	dir, err := os.MkdirTemp("", "scispot-svc-")
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	w.svcDir = dir
	w.runService()
	w.t.Cleanup(func() { w.stopService(syscall.SIGTERM) })
}

// runService starts scispot-mcpd on the world's socket and state.
func (w *world) runService() {
	w.t.Helper()
	cmd := exec.Command(mcpdBinary(), append([]string{"--socket", w.socket(), "--state", filepath.Join(w.svcDir, "var")}, w.mcpdArgs...)...)
	if !w.clientSettingsAtSystemPaths {
		// The service keeps the AI clients' managed settings
		// (BlockDirectConnections): in the world's folder, never in this
		// machine's /etc, unless a test in a private mount namespace asks.
		cmd.Args = append(cmd.Args, "--client-settings-root", filepath.Join(w.svcDir, "clients"))
	}
	if os.Getenv("SCISPOT_TEST_MCPD_VERBOSE") != "" {
		cmd.Args = append(cmd.Args, "-v")
	}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	cmd.Stderr = w.logWriter()
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.svc = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("unix", w.socket()); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("scispot-mcpd did not answer on %s:\n%s", w.socket(), w.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stopService ends the world's service with sig (SIGKILL for a crash).
func (w *world) stopService(sig syscall.Signal) {
	if w.svc == nil {
		return
	}
	cmd := w.svc
	w.svc = nil
	cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// startKeyring gives the world's account a session bus and an unlocked
// gnome-keyring of its own, as a desktop login would.
func (w *world) startKeyring() {
	w.t.Helper()
	run := filepath.Join(w.home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		w.t.Fatal(err)
	}
	os.Chown(run, w.user.uid, w.user.gid)
	addr := "unix:path=" + filepath.Join(run, "bus")
	w.bus = addr
	bus := w.command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	out, _ := bus.StdoutPipe()
	bus.Stderr = w.logWriter()
	if err := bus.Start(); err != nil {
		w.t.Fatalf("starting the test account's session bus: %v", err)
	}
	// What the bus started for the account (gnome-keyring, activated
	// services) holds its stderr: end them too, or Wait waits for them.
	w.t.Cleanup(func() {
		bus.Process.Kill()
		exec.Command("pkill", "-KILL", "-u", w.user.name).Run()
		bus.Wait()
	})
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		w.t.Fatalf("the test account's session bus did not start: %v\n%s", err, w.logs.String())
	}
	kr := w.command("sh", "-c", `printf %s "$KEYRING_PW" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1`)
	kr.Env = append(kr.Env, "KEYRING_PW="+w.user.password)
	if out, err := kr.CombinedOutput(); err != nil {
		w.t.Fatalf("starting the test account's gnome-keyring: %v\n%s", err, out)
	}
}

// env is the environment of the world's account: its HOME, its bus, the
// world's service.
func (w *world) env() []string {
	env := []string{
		"HOME=" + w.home,
		"XDG_STATE_HOME=" + filepath.Join(w.home, ".local", "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(w.home, ".config"),
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		// Without a session bus go-keyring could start a stray dbus-daemon;
		// pass the account's bus (or an explicit empty one).
		"DBUS_SESSION_BUS_ADDRESS=" + w.bus,
	}
	if w.runtime == "" {
		env = append(env, "SCISPOT_MCPD_SOCKET="+w.socket())
	} else {
		env = append(env, "XDG_RUNTIME_DIR="+w.runtime)
	}
	if w.user != nil {
		env = append(env, "USER="+w.user.name, "LOGNAME="+w.user.name, "XDG_RUNTIME_DIR="+filepath.Join(w.home, "run"))
	}
	return env
}

// command runs name as the world's account, in its HOME, with its
// environment.
func (w *world) command(name string, args ...string) *exec.Cmd {
	return w.commandContext(context.Background(), name, args...)
}

func (w *world) commandContext(ctx context.Context, name string, args ...string) *exec.Cmd {
	argv := append([]string{name}, args...)
	if w.user != nil {
		argv = append([]string{"setpriv", "--reuid=" + strconv.Itoa(w.user.uid), "--regid=" + strconv.Itoa(w.user.gid), "--init-groups", "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = w.env()
	cmd.Dir = w.home
	// A daemon the command leaves behind may hold its output pipes open;
	// Wait must not wait for it forever.
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// asUser wraps an argv to run as the world's account (for programs a
// test starts another way, such as under unshare).
func (w *world) asUser(argv ...string) []string {
	if w.user == nil {
		return argv
	}
	return append([]string{"setpriv", "--reuid=" + strconv.Itoa(w.user.uid), "--regid=" + strconv.Itoa(w.user.gid), "--init-groups", "--"}, argv...)
}

// writeOwned writes a file in the world's HOME as its account owns it.
func (w *world) writeOwned(path string, data []byte, mode os.FileMode) {
	w.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		w.t.Fatal(err)
	}
	if w.user != nil {
		for p := path; strings.HasPrefix(p, w.home+"/"); p = filepath.Dir(p) {
			os.Chown(p, w.user.uid, w.user.gid)
		}
	}
}

func records(t *testing.T, w *world) []audit.Record {
	t.Helper()
	recs, err := audit.Read(context.Background(), w.auditDir(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
