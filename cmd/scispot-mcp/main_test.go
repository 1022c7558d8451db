package main_test

// End-to-end tests: the real binary, run as a subprocess the way an AI
// client runs it, driven by real MCP clients, against the demo workspace
// and a real loopback upstream, with the real keychain (a gnome-keyring in
// a private D-Bus session: see packaging/with-keyring.sh).

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// binary is the scispot-mcp built once for the whole package, with the
// tray binary it hands tray command lines to and the workstation service
// beside it.
var binary string

// testHelper is a copy of this test binary beside the others.
func testHelper() string { return filepath.Join(filepath.Dir(binary), "test-helper") }

// mcpdBinary is the workstation service, scispot-mcpd.
func mcpdBinary() string { return filepath.Join(filepath.Dir(binary), "scispot-mcpd") }

func TestMain(m *testing.M) {
	if os.Getenv("SCISPOT_HELPER") != "" {
		// A helper process (startApprover): only its test runs.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "scispot-mcp-bin-")
	if err == nil {
		// The tests' unprivileged accounts run these binaries too.
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "scispot-mcp")
	// As `make build` does: scispot-mcp without cgo, the tray and the
	// service with it.
	for out, pkg := range map[string]string{binary: ".", filepath.Join(dir, "scispot-mcp-tray"): "../scispot-mcp-tray", mcpdBinary(): "../scispot-mcpd"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out == binary {
			build.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", filepath.Base(out)+":", err)
			os.Exit(1)
		}
	}
	// A copy of this test binary the tests' unprivileged accounts can run,
	// for helper processes (go test keeps its own in a private folder).
	if self, err := os.ReadFile(os.Args[0]); err == nil {
		os.WriteFile(testHelper(), self, 0o755)
	}
	restore, err := isolatePolicy()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	restore()
	os.RemoveAll(dir)
	os.Exit(code)
}

const policyPath = "/etc/scispot-mcp/policy.json"

// isolatePolicy moves a policy file that exists on this machine aside for
// the run (root only), so the tests start from the default policy and the
// machine's own policy comes back afterwards.
func isolatePolicy() (restore func(), err error) {
	saved, err := os.ReadFile(policyPath)
	if os.IsNotExist(err) {
		return func() { os.Remove(policyPath) }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", policyPath, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%s exists and the tests are not root: they cannot run against the default policy", policyPath)
	}
	fi, _ := os.Stat(policyPath)
	if err := os.Remove(policyPath); err != nil {
		return nil, err
	}
	return func() { os.WriteFile(policyPath, saved, fi.Mode().Perm()) }, nil
}

// writePolicy installs a root-owned policy file for one test.
func writePolicy(t *testing.T, body string) {
	t.Helper()
	requireRoot(t)
	if err := os.MkdirAll(filepath.Dir(policyPath), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := policyPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, policyPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(policyPath) })
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to write " + policyPath + " (CI runs as root)")
	}
}

func requireKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("SCISPOT_REQUIRE_KEYRING") == "1" {
			t.Fatal("SCISPOT_REQUIRE_KEYRING=1 but there is no D-Bus session bus")
		}
		t.Skip("no D-Bus session bus: run under packaging/with-keyring.sh (make test does)")
	}
}

func (w *world) logWriter() *lockedWriter { return &lockedWriter{w: w} }

// logText is what the world's processes have written to stderr so far.
func (w *world) logText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.String()
}

// waitLog waits up to d for text in the world's log.
func (w *world) waitLog(text string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(w.logText(), text) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

type lockedWriter struct{ w *world }

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	return l.w.logs.Write(p)
}

// run runs one CLI command and returns stdout, stderr and the exit code.
func (w *world) run(stdin string, args ...string) (string, string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := w.commandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		w.t.Fatalf("running %v: %v", args, err)
	}
	w.mu.Lock()
	fmt.Fprintf(&w.logs, "$ %v\n%s%s", args, stdout.String(), stderr.String())
	w.mu.Unlock()
	return stdout.String(), stderr.String(), code
}

// connect starts `scispot-mcp serve ARGS` as a subprocess and connects a
// go-sdk client to it over stdio, with the SDK's default protocol or the
// given one ("2025-06-18" takes the initialize path).
func (w *world) connect(protocol string, clientName string, args ...string) *mcp.ClientSession {
	w.t.Helper()
	return w.connectWith(protocol, clientName, nil, args...)
}

func (w *world) connectWith(protocol string, clientName string, opts *mcp.ClientOptions, args ...string) *mcp.ClientSession {
	w.t.Helper()
	return w.connectClient(protocol, mcp.NewClient(&mcp.Implementation{Name: clientName, Version: "1.0.0"}, opts), args...)
}

func (w *world) connectClient(protocol string, client *mcp.Client, args ...string) *mcp.ClientSession {
	w.t.Helper()
	cmd := w.command(binary, append([]string{"serve"}, args...)...)
	cmd.Stderr = w.logWriter()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: protocol})
	if err != nil {
		w.t.Fatalf("connecting to scispot-mcp serve %v: %v\n%s", args, err, w.logs.String())
	}
	w.t.Cleanup(func() { cs.Close() })
	return cs
}

// assertNoSecret fails if secret appears in any file under HOME, in any
// output the binary produced, or in the extra strings given.
func (w *world) assertNoSecret(secret string, extra ...string) {
	w.t.Helper()
	err := filepath.WalkDir(w.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			w.t.Errorf("the token appears in %s", path)
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	logs := w.logs.String()
	w.mu.Unlock()
	if strings.Contains(logs, secret) {
		w.t.Errorf("the token appears in the binary's output")
	}
	for _, s := range extra {
		if strings.Contains(s, secret) {
			w.t.Errorf("the token appears in %q", s)
		}
	}
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

func callText(t *testing.T, cs *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	var text []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text = append(text, tc.Text)
		}
	}
	return res, strings.Join(text, "\n")
}
