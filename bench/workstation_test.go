package bench

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
)

// workstation is the machine as installed: scispot-mcpd on its socket,
// and the person's commands (serve, kill, token) reaching it there. Run
// as root it is the system service (the real figures); otherwise it is
// the account's unprivileged demo instance, the same code that serves the
// demo workspace where no service is installed.
type workstation struct {
	t      *testing.T
	bin    string // scispot-mcp; scispot-mcpd is beside it
	dir    string
	socket string
	svc    *exec.Cmd
	stderr strings.Builder
}

func newWorkstation(t *testing.T, bin string) *workstation {
	t.Helper()
	dir, err := os.MkdirTemp("", "scispot-bench-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"home", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ws := &workstation{t: t, bin: bin, dir: dir, socket: filepath.Join(dir, "svc", "mcpd.sock")}
	ws.start()
	t.Cleanup(ws.stop)
	return ws
}

// start runs scispot-mcpd with a state folder of its own, so every start
// begins with access on.
func (ws *workstation) start() {
	ws.t.Helper()
	state, err := os.MkdirTemp(ws.dir, "state-")
	if err != nil {
		ws.t.Fatal(err)
	}
	// The AI clients' managed settings (BlockDirectConnections) go under
	// the state folder, never into this machine's /etc.
	cmd := exec.Command(filepath.Join(filepath.Dir(ws.bin), "scispot-mcpd"), "--socket", ws.socket, "--state", state,
		"--client-settings-root", filepath.Join(state, "clients"))
	if os.Geteuid() != 0 {
		cmd.Args = append(cmd.Args, "--user-demo")
	}
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	ws.stderr.Reset()
	cmd.Stderr = &ws.stderr
	if err := cmd.Start(); err != nil {
		ws.t.Fatal(err)
	}
	ws.svc = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("unix", ws.socket); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			ws.t.Fatalf("scispot-mcpd did not answer on %s:\n%s", ws.socket, ws.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (ws *workstation) stop() {
	if ws.svc == nil {
		return
	}
	ws.svc.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { ws.svc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		ws.svc.Process.Kill()
		<-done
	}
	ws.svc = nil
}

// restart gives a fresh service: the kill switch off again without the
// account password that resume asks for.
func (ws *workstation) restart() {
	ws.stop()
	ws.start()
}

// env is the person's environment: a HOME of its own, the bench's keyring
// session, this workstation's service.
func (ws *workstation) env() []string {
	home := filepath.Join(ws.dir, "home")
	return []string{
		"HOME=" + home,
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(ws.dir, "run"),
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"DBUS_SESSION_BUS_ADDRESS=" + os.Getenv("DBUS_SESSION_BUS_ADDRESS"),
		"SCISPOT_MCPD_SOCKET=" + ws.socket,
	}
}

func (ws *workstation) command(args ...string) *exec.Cmd {
	cmd := exec.Command(ws.bin, args...)
	cmd.Env = ws.env()
	cmd.Dir = filepath.Join(ws.dir, "home")
	return cmd
}

// client is the local API as the tray uses it.
func (ws *workstation) client() *localapi.Client {
	return &localapi.Client{Socket: ws.socket, Dial: localsock.Dial, Name: "bench"}
}

// events subscribes to the service's event stream, as the tray does.
func (ws *workstation) events(ctx context.Context) *localapi.EventStream {
	ws.t.Helper()
	s, err := ws.client().Events(ctx)
	if err != nil {
		ws.t.Fatalf("event stream: %v", err)
	}
	return s
}
