package main_test

// The tray app for real: the cgo binary under Xvfb with a D-Bus session
// and a tray host (traytest's StatusNotifierWatcher), real gateway sessions
// whose calls must reach the Activity window, the tray icon's menu read and
// clicked over D-Bus as a panel does, a second launch that hands over to
// the first, and a clean exit on SIGTERM with and without a tray host or a
// session bus.
//
// Needs Xvfb and ImageMagick's import (packaging/dev-deps.sh: xvfb
// imagemagick x11-utils) and a D-Bus session (run under packaging/with-keyring.sh or
// dbus-run-session). Skipped without them unless CI is set.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"image"
	_ "image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/app/tray/traytest"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

var screenshotOut = flag.String("screenshot", "", "save the activity window's screenshot to this PNG path (e.g. ../../assets/screenshot-activity.png)")

// smokeSkip skips (or, under CI, fails) when the environment cannot run
// the GUI.
func smokeSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("tray smoke test cannot run: %s", why)
	}
	t.Skipf("tray smoke test skipped: %s", why)
}

// startXvfb starts a private X server and returns its DISPLAY value once it
// accepts clients (-displayfd writes the display number when ready).
func startXvfb(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		smokeSkip(t, "Xvfb is not installed")
	}
	for _, tool := range []string{"import", "xwininfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			smokeSkip(t, tool+" is not installed (packages imagemagick, x11-utils)")
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if _, perr := strconv.Atoi(strings.TrimSpace(line)); err != nil || perr != nil {
		t.Fatalf("Xvfb did not report a display: %q %v", line, err)
	}
	return ":" + strings.TrimSpace(line)
}

// tray is one running `scispot-mcp demo` process.
type tray struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
	ready  string // the "Scispot MCP is running…" line
}

func startTray(t *testing.T, w *world, env []string, args ...string) *tray {
	t.Helper()
	cmd := w.command(binary, args...)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tr := &tray{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = tr.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Scispot MCP is running") {
				ready <- sc.Text()
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { tr.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-tr.done
	})
	select {
	case tr.ready = <-ready:
	case err := <-tr.done:
		tr.done <- err
		if strings.Contains(tr.stderr.String(), "built without cgo") {
			smokeSkip(t, "the binary was built without cgo (no GUI)")
		}
		t.Fatalf("tray exited before it was ready: %v\n%s", err, tr.stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("tray never became ready\n%s", tr.stderr.String())
	}
	return tr
}

// stop sends SIGTERM and expects a clean exit.
func (tr *tray) stop(t *testing.T) {
	t.Helper()
	tr.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-tr.done:
		tr.done <- err
		if err != nil {
			t.Errorf("tray exit after SIGTERM: %v\n%s", err, tr.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("tray did not exit after SIGTERM\n%s", tr.stderr.String())
	}
	if s := tr.stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "goroutine ") {
		t.Errorf("tray stderr shows a panic:\n%s", s)
	}
}

// waitRows waits until the running tray's activity model holds n rows.
func waitRows(t *testing.T, state string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	backoff := 5 * time.Millisecond
	for {
		got, err := instance.Rows(ctx, state)
		if err == nil && got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("activity rows = %d (%v), want %d", got, err, n)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// screenshot captures the window named title once it is drawn: not
// blank, and the same in two captures in a row (the last refresh is on
// screen). The window is found by name with xwininfo: import's own lookup
// fails on non-ASCII titles.
func screenshot(t *testing.T, display, title, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var lastErr string
	prev := ""
	for time.Now().Before(deadline) {
		if err := capture(display, title, path); err != nil {
			lastErr = err.Error()
		} else if sum, v := pixels(t, path); v <= 200 {
			lastErr = "blank image, variance " + strconv.FormatFloat(v, 'f', 1, 64)
		} else if sum == prev {
			return
		} else {
			prev, lastErr = sum, "still changing"
		}
		time.Sleep(100 * time.Millisecond) // the next frame; bounded by deadline
	}
	t.Fatalf("no usable screenshot of %q: %s", title, lastErr)
}

func capture(display, title, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "xwininfo", "-display", display, "-name", title).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xwininfo: %v: %s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), "Window id: ")
	if !ok {
		return fmt.Errorf("xwininfo: no window id in %q", out)
	}
	id, _, _ := strings.Cut(rest, " ")
	out, err = exec.CommandContext(ctx, "import", "-display", display, "-window", id, path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import: %v: %s", err, out)
	}
	return nil
}

// pixels returns a digest of a PNG's pixels and their luminance variance
// (near 0 for a blank window).
func pixels(t *testing.T, path string) (string, float64) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return "", 0
	}
	h := sha256.New()
	b := img.Bounds()
	var sum, sq, n float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			h.Write([]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)})
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sq += l * l
			n++
		}
	}
	mean := sum / n
	return string(h.Sum(nil)), sq/n - mean*mean
}

func TestTraySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		smokeSkip(t, "no D-Bus session bus (run under dbus-run-session or packaging/with-keyring.sh)")
	}
	display := startXvfb(t)
	// The tray, its tray host and the sessions share the tests' session
	// bus and account; with no service installed they all use the
	// account's demo instance, whose resume needs no password (the
	// password path is tested with the tray's models in app/).
	w := newDemoWorld(t)
	env := append(w.env(), "DISPLAY="+display)
	host := traytest.StartWatcher(t)
	tr := startTray(t, w, env, "demo", "--window", "activity")
	if !strings.Contains(tr.ready, "system tray") {
		t.Errorf("with a tray host, the tray says %q", tr.ready)
	}

	// A second launch hands its window over and exits at once.
	second := w.command(binary, "demo", "--window", "activity")
	second.Env = env
	out, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("second launch: %v\n%s", err, out)
	}

	// Real gateway sessions: their calls must reach the activity model.
	claude := w.connect("", "claude-ai", "--demo")
	cursor := w.connect("", "cursor-vscode", "--demo")
	calls := []struct {
		cs   *mcp.ClientSession
		tool string
		args map[string]any
	}{
		{claude, "list_labsheets", nil},
		{claude, "get_manifest", map[string]any{"id": "PLT-00142"}},
		{cursor, "list_protocols", map[string]any{"location": "Molecular Biology"}},
		{claude, "search_labsheet_rows", map[string]any{"labsheet": "Cell Lines", "query": "HEK293"}},
		{cursor, "update_labsheet_rows", map[string]any{"labsheet": "Cell Lines"}}, // refused: a write
		{claude, "list_locations", nil},
		{cursor, "get_labsheet_schema", map[string]any{"labsheet": "Plasmids"}},
		{claude, "list_labspaces", nil},
	}
	for _, c := range calls {
		callText(t, c.cs, c.tool, c.args)
	}
	waitRows(t, w.stateDir(), len(calls))

	shot := filepath.Join(t.TempDir(), "activity.png")
	screenshot(t, display, "Scispot MCP — Activity", shot)
	if *screenshotOut != "" {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*screenshotOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Every other window opens through the running instance. The titles are
	// what a user sees, spelled out: importing them from the app/ packages
	// would pull Fyne into this package's tests and out of `make vet-cross`.
	for _, win := range []struct{ name, title string }{
		{instance.WindowSetup, "Connect AI clients to Scispot"},
		{instance.WindowToken, "Scispot API token"},
		{instance.WindowDiagnostics, "Scispot MCP diagnostics"},
		{instance.WindowToolChanges, "Review tool changes"},
	} {
		cmd := w.command(binary, "demo", "--window", win.name)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("--window %s: %v\n%s", win.name, err, out)
		}
		screenshot(t, display, win.title, filepath.Join(t.TempDir(), win.name+".png"))
	}

	// The icon, as a panel sees it: registered with the tray host, its
	// menu read over D-Bus, and the kill switch clicked there.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	item, err := host.WaitItem(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clickThen := func(label, want string, killed bool) {
		t.Helper()
		waitMenu(t, ctx, host, item, label)
		if err := host.Click(ctx, item, label); err != nil {
			t.Fatal(err)
		}
		for {
			st, err := control.Read(w.controlFile())
			if err == nil && st.Killed == killed && st.Source == control.SourceTray {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("after clicking %q: control file %+v, %v", label, st, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		waitMenu(t, ctx, host, item, want)
	}
	clickThen("Stop all AI access", "Resume AI access", true)
	// Ended, or (if its serve has not exited yet) refusing.
	if res, err := claude.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err == nil && !res.IsError {
		t.Error("a session still answers after the tray's kill switch")
	}
	clickThen("Resume AI access", "Stop all AI access", false)
	tr.stop(t)

	// A session bus without a tray host (vanilla GNOME): the icon would
	// never show, so the activity window opens by itself and closing it
	// quits.
	t.Run("no tray host", func(t *testing.T) {
		host.Stop()
		tr := startTray(t, w, env, "demo")
		if !strings.Contains(tr.ready, "shows no tray icons") {
			t.Errorf("without a tray host, the tray says %q", tr.ready)
		}
		screenshot(t, display, "Scispot MCP — Activity", filepath.Join(t.TempDir(), "nohost.png"))
		tr.stop(t)
	})

	// Without a session bus there is no tray: the activity window opens by
	// itself, and quitting must still be clean.
	t.Run("no session bus", func(t *testing.T) {
		noBus := make([]string, 0, len(env))
		for _, kv := range env {
			if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
				noBus = append(noBus, kv)
			}
		}
		tr := startTray(t, w, append(noBus, "DBUS_SESSION_BUS_ADDRESS="), "demo")
		screenshot(t, display, "Scispot MCP — Activity", filepath.Join(t.TempDir(), "nobus.png"))
		tr.stop(t)
	})
}

// waitMenu waits until the tray icon's menu offers label.
func waitMenu(t *testing.T, ctx context.Context, host *traytest.Watcher, item traytest.Item, label string) {
	t.Helper()
	var menu []traytest.MenuItem
	var err error
	for ctx.Err() == nil {
		if menu, err = host.Menu(ctx, item); err == nil {
			for _, m := range menu {
				if m.Label == label && m.Enabled {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the tray menu never offered %q: %+v, %v", label, menu, err)
}
