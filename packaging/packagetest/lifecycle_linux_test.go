package packagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkDebLifecycle installs the .deb with apt, checks that its service
// runs and answers, upgrades it to a newer version (repacked) and checks the
// service was restarted, then removes and purges it and checks the service
// is gone and its state (the audit trail) stays. It needs root and apt;
// elsewhere it is skipped.
//
// Where systemd is not running (CI containers) the package starts the
// service itself; where it is, through systemd. Either way the service must
// answer. The test leaves the machine as it found it: the package purged,
// no scispot-mcpd of the package running, /var/lib/scispot-mcp removed
// unless it was there before.
func checkDebLifecycle(ctx context.Context, t *testing.T, deb string) {
	if os.Geteuid() != 0 {
		t.Skip("installing the .deb needs root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("installing the .deb needs apt-get")
	}
	if out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "scispot-mcp").CombinedOutput(); err == nil {
		t.Skipf("scispot-mcp is already installed on this machine (%s); not touching it", strings.TrimSpace(string(out)))
	}
	// Other tests (cmd/scispot-mcp, bench) write the machine's policy file:
	// never run beside them (CI runs this package on its own), and never
	// touch a policy that is there.
	if _, err := os.Stat("/etc/scispot-mcp/policy.json"); err == nil {
		t.Skip("/etc/scispot-mcp/policy.json exists on this machine; not installing over it")
	}
	if answers(mcpdSocket) {
		t.Skipf("a scispot-mcpd already answers on %s; not installing over it", mcpdSocket)
	}
	if pids := packagedServices(t); len(pids) > 0 {
		t.Skipf("%s already runs (pids %v); not installing over it", mcpdBinary, pids)
	}
	_, err := os.Stat(mcpdState)
	stateWasThere := err == nil
	withSystemd := isDir("/run/systemd/system")
	t.Logf("systemd running: %v (without it, the package starts the service with start-stop-daemon)", withSystemd)
	t.Cleanup(func() {
		_ = exec.Command("dpkg", "--purge", "scispot-mcp").Run()
		for _, pid := range packagedServices(t) {
			t.Errorf("scispot-mcpd (pid %d) still ran after the purge; killing it", pid)
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		if !stateWasThere {
			_ = os.RemoveAll(mcpdState)
		}
	})
	abs, err := filepath.Abs(deb)
	if err != nil {
		t.Fatal(err)
	}
	apt(ctx, t, "install", abs)

	version := run(ctx, t, "/usr/bin/scispot-mcp", "version")
	if !strings.Contains(version, "commit ") {
		t.Errorf("installed scispot-mcp version: %q", version)
	}
	if v := run(ctx, t, mcpdBinary, "version"); !strings.HasPrefix(v, "scispot-mcpd ") || !strings.Contains(v, "commit ") {
		t.Errorf("installed scispot-mcpd version: %q", v)
	}
	first := waitService(ctx, t, "after the install")
	checkServiceFiles(t)
	if fi, err := os.Lstat(mcpdWants); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the unit is not enabled (%s: %v)", mcpdWants, err)
	}
	checkUnitVerifies(ctx, t)

	if !withSystemd {
		// What postinst tells the admin to run to start it again.
		if _, err := exec.LookPath("dpkg-reconfigure"); err != nil {
			t.Log("dpkg-reconfigure not installed: not checking the restart it gives without systemd")
		} else {
			cmd := exec.CommandContext(ctx, "dpkg-reconfigure", "scispot-mcp")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("dpkg-reconfigure scispot-mcp: %v\n%s", err, out)
			}
			again := waitService(ctx, t, "after dpkg-reconfigure")
			if again == first {
				t.Errorf("dpkg-reconfigure did not restart the service (pid %d before and after)", first)
			}
			first = again
		}
	}

	// validate's installation qualification of the installed package.
	checkValidate(ctx, t, []byte(`{"ManagedBy": "Ansible", "MaxCallsPerMinute": 100000}`+"\n"))

	// The admin's policy and a local edit of a conffile survive an upgrade.
	policy := []byte(`{"ManagedBy": "Ansible"}` + "\n")
	if err := os.WriteFile("/etc/scispot-mcp/policy.json", policy, 0o644); err != nil {
		t.Fatal(err)
	}
	edited := "[Desktop Entry]\nType=Application\nName=Scispot MCP\nExec=scispot-mcp-tray\nHidden=true\n"
	if err := os.WriteFile("/etc/xdg/autostart/io.scispot.mcp.desktop", []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := repackNewer(ctx, t, abs)
	apt(ctx, t, "install", newer)
	if v := strings.TrimSpace(run(ctx, t, "dpkg-query", "-W", "-f", "${Version}", "scispot-mcp")); !strings.HasSuffix(v, "+upgradetest") {
		t.Errorf("after the upgrade, version %q", v)
	}
	if got, _ := os.ReadFile("/etc/scispot-mcp/policy.json"); !bytes.Equal(got, policy) {
		t.Errorf("the upgrade changed policy.json: %q", got)
	}
	if got, _ := os.ReadFile("/etc/xdg/autostart/io.scispot.mcp.desktop"); string(got) != edited {
		t.Errorf("the upgrade overwrote the admin's autostart edit: %q", got)
	}
	second := waitService(ctx, t, "after the upgrade")
	if second == first {
		t.Errorf("the upgrade did not restart the service (pid %d before and after)", first)
	}
	if processExists(first) {
		t.Errorf("the service from before the upgrade (pid %d) still runs", first)
	}

	run(ctx, t, "dpkg", "--remove", "scispot-mcp")
	for _, p := range []string{"/usr/bin/scispot-mcp", "/usr/bin/scispot-mcp-tray", mcpdBinary, mcpdUnit, "/usr/share/applications/io.scispot.mcp.desktop", "/usr/share/icons/hicolor/48x48/apps/io.scispot.mcp.png"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after dpkg --remove (%v)", p, err)
		}
	}
	if answers(mcpdSocket) {
		t.Errorf("something still answers on %s after dpkg --remove", mcpdSocket)
	}
	if pids := packagedServices(t); len(pids) > 0 {
		t.Errorf("scispot-mcpd still runs after dpkg --remove: pids %v", pids)
	}
	if processExists(second) {
		t.Errorf("the service (pid %d) still runs after dpkg --remove", second)
	}
	if _, err := os.Stat("/etc/pam.d/scispot-mcp"); err != nil {
		t.Errorf("the PAM conffile went with dpkg --remove; only a purge removes it (%v)", err)
	}

	run(ctx, t, "dpkg", "--purge", "scispot-mcp")
	for _, p := range []string{"/etc/xdg/autostart/io.scispot.mcp.desktop", "/etc/scispot-mcp/policy.example.json", "/etc/pam.d/scispot-mcp", mcpdWants} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after dpkg --purge (%v)", p, err)
		}
	}
	if got, _ := os.ReadFile("/etc/scispot-mcp/policy.json"); !bytes.Equal(got, policy) {
		t.Error("purging the package removed the admin's policy.json")
	}
	// The audit trail is regulated data: only the lab may delete it.
	if fi, err := os.Stat(mcpdState); err != nil || !fi.IsDir() {
		t.Errorf("%s went with the purge (%v); the audit trail must stay", mcpdState, err)
	} else if entries, _ := os.ReadDir(mcpdState); len(entries) == 0 {
		t.Errorf("%s is empty after the purge: the service's state went", mcpdState)
	}
	_ = os.Remove("/etc/scispot-mcp/policy.json")
	_ = os.Remove("/etc/scispot-mcp")
}

// waitService waits (up to 15 s) until the service answers on its socket
// and `scispot-mcp status --json` names the system service there, and
// returns its pid, which must be a root process running the packaged
// executable.
func waitService(ctx context.Context, t *testing.T, when string) int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !answers(mcpdSocket) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile("/run/scispot-mcp/mcpd.log")
			t.Fatalf("%s: nothing answers on %s after 15 s (log without systemd: %q)", when, mcpdSocket, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd := exec.CommandContext(ctx, "/usr/bin/scispot-mcp", "status", "--json")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_STATE_HOME="+t.TempDir())
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("%s: status --json: %v\n%s", when, err, out)
	}
	var st struct {
		Service struct {
			Mode   string `json:"mode"`
			Socket string `json:"socket"`
			PID    int    `json:"pid"`
		} `json:"service"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("%s: status --json is not JSON (%v):\n%s", when, err, out)
	}
	if st.Service.Mode != "system" || st.Service.Socket != mcpdSocket || st.Service.PID <= 0 {
		t.Fatalf("%s: status --json names service %+v, want the system service on %s", when, st.Service, mcpdSocket)
	}
	pid := st.Service.PID
	if exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); exe != mcpdBinary {
		t.Errorf("%s: the service (pid %d) runs %q, want %s", when, pid, exe, mcpdBinary)
	}
	if fi, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		t.Errorf("%s: %v", when, err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
		t.Errorf("%s: the service (pid %d) runs as uid %d, want root", when, pid, st.Uid)
	}
	t.Logf("%s: scispot-mcpd pid %d answers on %s", when, pid, mcpdSocket)
	return pid
}

// checkServiceFiles checks the modes of the socket, its folder and the
// state folder.
func checkServiceFiles(t *testing.T) {
	t.Helper()
	for path, want := range map[string]fs.FileMode{
		"/run/scispot-mcp": fs.ModeDir | 0o755,
		mcpdSocket:         fs.ModeSocket | 0o666,
		mcpdState:          fs.ModeDir | 0o700,
	} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fi.Mode() & (fs.ModeType | fs.ModePerm); got != want {
			t.Errorf("%s: mode %s, want %s", path, got, want)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Uid != 0 || st.Gid != 0) {
			t.Errorf("%s: owned by %d:%d, want root", path, st.Uid, st.Gid)
		}
	}
}

// checkUnitVerifies runs systemd-analyze verify over the installed unit
// (the executable it names must exist, so this runs after the install).
func checkUnitVerifies(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		// Installing systemd into a machine (a CI container) only for this
		// check would change what the lifecycle test sees; the static
		// checks of the unit (static_test.go) still run.
		t.Log("systemd-analyze not installed (package systemd): not verifying the unit")
		return
	}
	args := []string{"verify"}
	if _, err := exec.LookPath("man"); err != nil {
		args = append(args, "--man=no") // Documentation= names man:scispot-mcpd(8)
	}
	out, err := exec.CommandContext(ctx, "systemd-analyze", append(args, mcpdUnit)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", mcpdUnit, err, out)
	}
	if out, err := exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=true", mcpdUnit).CombinedOutput(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Logf("systemd-analyze security: %s", lines[len(lines)-1])
	}
}

// answers reports whether something accepts connections on the socket.
func answers(socket string) bool {
	c, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// packagedServices lists the processes running the packaged scispot-mcpd
// (also after its file was replaced or removed). Other tests' instances run
// from their own folders and are not counted.
func packagedServices(t *testing.T) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink("/proc/" + d.Name() + "/exe")
		if err == nil && (exe == mcpdBinary || exe == mcpdBinary+" (deleted)") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processExists reports whether pid is a live process (not a zombie).
func processExists(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
