package peercred

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper process: the test binary re-executed with -test.run=^TestHelperProcess$
// and helperEnv set, the usual pattern of os/exec's own tests.
const (
	helperEnv       = "SCISPOT_PEERCRED_HELPER" // "dial" or "wait"
	helperSocketEnv = "SCISPOT_PEERCRED_SOCKET"
)

// TestHelperProcess is not a test. As "dial" it connects to the socket in
// helperSocketEnv, writes what it believes its pid, uid and gid are, and
// stays connected until the service closes the connection. As "wait" it
// prints "ready" and waits for its stdin to close.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for other tests; runs only when re-executed by them")
	}
	switch mode {
	case "dial":
		c, err := net.Dial("unix", os.Getenv(helperSocketEnv))
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(2)
		}
		fmt.Fprintf(c, "%d %d %d\n", os.Getpid(), os.Geteuid(), os.Getegid())
		io.Copy(io.Discard, c) // until the service hangs up
	case "wait":
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
	default:
		fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// peer is what a test expects the service to learn about a client.
type peer struct {
	cred     Cred
	exe      string
	parent   int
	selfSaid string // what the client said about itself, if it did
}

// TestGet connects clients to a Unix socket and checks that the service
// side learns each client's identity from the kernel.
func TestGet(t *testing.T) {
	tests := []struct {
		name string
		// connect starts a client of ln and returns the service's end of
		// its connection and what the service should learn from it.
		connect func(t *testing.T, ln *net.UnixListener) (net.Conn, peer)
	}{
		{"client in this process", connectSelf},
		{"client running as another user", connectOtherUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln := listenShared(t)
			conn, want := tt.connect(t, ln)

			got, err := Get(conn)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			t.Logf("peer: %+v", got)
			if got != want.cred {
				t.Errorf("Get = %+v, want %+v", got, want.cred)
			}
			if want.selfSaid != "" {
				if said := fmt.Sprintf("%d %d %d", got.PID, got.UID, got.GID); said != want.selfSaid {
					t.Errorf("the kernel says %q, the client says %q (pid uid gid)", said, want.selfSaid)
				}
			}
			exe, err := ProcessExe(got.PID)
			if err != nil || exe != want.exe {
				t.Errorf("ProcessExe(%d) = %q, %v; want %q", got.PID, exe, err, want.exe)
			}
			parent, err := ParentPID(got.PID)
			if err != nil || parent != want.parent {
				t.Errorf("ParentPID(%d) = %d, %v; want %d", got.PID, parent, err, want.parent)
			}
		})
	}
}

func connectSelf(t *testing.T, ln *net.UnixListener) (net.Conn, peer) {
	client, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server := accept(t, ln, nil)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return server, peer{
		cred:   Cred{UID: os.Geteuid(), GID: os.Getegid(), PID: os.Getpid(), Account: me.Username},
		exe:    testExe(t),
		parent: os.Getppid(),
	}
}

// connectOtherUser runs a copy of the test binary as a throwaway system
// user, through setpriv, and has it dial ln.
func connectOtherUser(t *testing.T, ln *net.UnixListener) (net.Conn, peer) {
	u := throwawayUser(t)
	dir := filepath.Dir(ln.Addr().String())
	exe := copyTestBinary(t, dir, "peercred-helper")

	cmd := exec.Command("setpriv", "--reuid="+u.Uid, "--regid="+u.Gid, "--clear-groups",
		exe, "-test.run=^TestHelperProcess$")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), helperEnv+"=dial", helperSocketEnv+"="+ln.Addr().String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	server := accept(t, ln, exited)
	t.Cleanup(func() {
		// Hang up so the helper exits, and wait for it: userdel refuses to
		// remove a user that still runs a process.
		server.Close()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("helper: %v\n%s", err, stderr.String())
			}
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Errorf("helper did not exit after the service hung up")
			<-exited
		}
	})
	said, err := bufio.NewReader(server).ReadString('\n')
	if err != nil {
		t.Fatalf("reading from the helper: %v\n%s", err, stderr.String())
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return server, peer{
		cred: Cred{UID: uid, GID: gid, PID: cmd.Process.Pid, Account: u.Username},
		exe:  exe,
		// setpriv execs the helper in place, so its parent is this test.
		parent:   os.Getpid(),
		selfSaid: strings.TrimSpace(said),
	}
}

// listenShared listens on a Unix socket in a fresh folder that every user
// may enter, with a socket every user may connect to.
func listenShared(t *testing.T) *net.UnixListener {
	t.Helper()
	dir, err := os.MkdirTemp("", "peercred-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "s.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	return ln
}

// accept waits for one connection on ln; exited, if not nil, reports that
// the client process ended before connecting.
func accept(t *testing.T, ln *net.UnixListener, exited <-chan error) net.Conn {
	t.Helper()
	type result struct {
		c   net.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		accepted <- result{c, err}
	}()
	select {
	case r := <-accepted:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case err := <-exited:
		t.Fatalf("client exited before connecting: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no connection within a minute")
	}
	return nil
}

// throwawayUser creates a system user for this test and deletes it when
// the test ends. It needs root; CI runs as root.
func throwawayUser(t *testing.T) *user.User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: creating a throwaway user to connect as needs root (CI runs the tests as root)")
	}
	for _, tool := range []string{"useradd", "userdel", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipping: %s is not installed: %v", tool, err)
		}
	}
	var b [4]byte
	rand.Read(b[:])
	name := "scispot-test-" + hex.EncodeToString(b[:])
	out, err := exec.Command("useradd", "--system", "--no-create-home",
		"--shell", "/usr/sbin/nologin", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// copyTestBinary copies the running test binary into dir, where other
// users can run it (the go build folder that holds it is private to its
// owner), and returns the copy's path as the kernel reports it.
func copyTestBinary(t *testing.T, dir, name string) string {
	t.Helper()
	src, err := os.Open(testExe(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	path := filepath.Join(dir, name)
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	return resolved
}

// testExe is the path of the running test binary, resolved like
// /proc/self/exe.
func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// cleanEnv is this process's environment without variables that would
// make a helper write files (coverage) as the other user.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOCOVERDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

// TestGetClientEnd checks the other direction: a client learns who
// created the listening socket.
func TestGetClientEnd(t *testing.T) {
	ln := listenShared(t)
	client, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	accept(t, ln, nil)
	got, err := Get(client)
	if err != nil {
		t.Fatal(err)
	}
	if got.UID != os.Geteuid() || got.GID != os.Getegid() || got.PID != os.Getpid() {
		t.Errorf("Get(client end) = %+v, want this process (uid %d, gid %d, pid %d)",
			got, os.Geteuid(), os.Getegid(), os.Getpid())
	}
}

func TestGetRefusesTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := Get(client); !errors.Is(err, ErrUnsupportedConn) {
		t.Errorf("Get(TCP) error = %v, want ErrUnsupportedConn", err)
	}
}

// TestParentPIDOfOddlyNamedProcess runs a process whose comm (the name in
// /proc/<pid>/stat) holds spaces and parentheses, as any process may.
func TestParentPIDOfOddlyNamedProcess(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a) R 1 (b", "x y", "))", "(("} {
		t.Run(name, func(t *testing.T) {
			exe := copyTestBinary(t, dir, name)
			cmd := exec.Command(exe, "-test.run=^TestHelperProcess$")
			cmd.Env = append(cleanEnv(), helperEnv+"=wait")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				if err := cmd.Wait(); err != nil {
					t.Errorf("helper: %v", err)
				}
			}()
			// The helper says "ready" once it runs, that is after exec has
			// given it the name under test.
			if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
				t.Fatalf("waiting for the helper: %v", err)
			}
			pid := cmd.Process.Pid
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err != nil || string(b) != name+"\n" {
				t.Fatalf("/proc/%d/comm = %q, %v; want %q", pid, b, err, name)
			}
			if got, err := ParentPID(pid); err != nil || got != os.Getpid() {
				t.Errorf("ParentPID(%d) = %d, %v; want %d", pid, got, err, os.Getpid())
			}
			if got, err := ProcessExe(pid); err != nil || got != exe {
				t.Errorf("ProcessExe(%d) = %q, %v; want %q", pid, got, err, exe)
			}
		})
	}
}

func TestNoProcess(t *testing.T) {
	// Above the largest pid_max Linux allows (2^22), so never in use.
	const pid = 1<<22 + 1
	if _, err := ProcessExe(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ProcessExe(%d) error = %v, want ErrNoProcess", pid, err)
	}
	if _, err := ParentPID(pid); !errors.Is(err, ErrNoProcess) {
		t.Errorf("ParentPID(%d) error = %v, want ErrNoProcess", pid, err)
	}
}

func TestProcessArgs(t *testing.T) {
	got, err := ProcessArgs(os.Getpid())
	if err != nil || !slices.Equal(got, os.Args) {
		t.Fatalf("ProcessArgs(self) = %q, %v; want %q", got, err, os.Args)
	}
	if _, err := ProcessArgs(0); err == nil {
		t.Error("ProcessArgs(0) gave no error")
	}
}

func TestProcessExeFile(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Stat(self)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ProcessExeFile(os.Getpid())
	if err != nil || !os.SameFile(got, want) {
		t.Fatalf("ProcessExeFile(self) = %v, %v; want the file %s", got, err, self)
	}
}
