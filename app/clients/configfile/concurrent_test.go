package configfile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// workerEnv tells a re-executed test binary to act as a writer process.
const workerEnv = "CONFIGFILE_TEST_WORKER"

const workerRounds = 40

// TestWorkerProcess is the writer process for TestTwoProcesses: it sets the
// shared "scispot" entry to its own value and its own entry, many times.
func TestWorkerProcess(t *testing.T) {
	spec := os.Getenv(workerEnv)
	if spec == "" {
		t.Skip("only run as a helper process")
	}
	id, path, _ := strings.Cut(spec, ":")
	for i := range workerRounds {
		edits := []Edit{
			{Path: scispotPath, Value: []byte(fmt.Sprintf(`{"command":"/bin/scispot-mcp","args":["serve"],"env":{"W":"%s-%d"}}`, id, i))},
			{Path: []string{"mcpServers", "worker-" + id}, Value: []byte(strconv.Itoa(i))},
		}
		if i%3 == 2 {
			edits[0].Value = nil // remove now and then
		}
		if i == workerRounds-1 {
			edits[0].Value = []byte(smallEntry)
		}
		if _, err := Apply(context.Background(), path, edits, Options{}); err != nil {
			t.Fatalf("worker %s round %d: %v", id, i, err)
		}
	}
}

// Two processes editing the same file at once never corrupt it or lose
// each other's changes; a reader in a third process never sees a torn file.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "claude_desktop_config.json")
	if err := os.WriteFile(path, []byte("{\n  // shared\n  \"mcpServers\": {}\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, id := range []string{"a", "b"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), workerEnv+"="+id+":"+path)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("worker %s output:\n%s", id, out)
			}
		})
	}
	done := make(chan error, len(cmds))
	for _, cmd := range cmds {
		go func() { done <- cmd.Wait() }()
	}
	// Read while they write: every read must parse.
	finished, reads := 0, 0
	for finished < len(cmds) {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker failed: %v", err)
			}
			finished++
		default:
			if _, err := Read(path); err != nil {
				t.Fatalf("read %d saw a broken file: %v", reads, err)
			}
			reads++
		}
	}
	final, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeStd(t, final)
	servers := m["mcpServers"].(map[string]any)
	for _, want := range []string{"scispot", "worker-a", "worker-b"} {
		if _, ok := servers[want]; !ok {
			t.Errorf("final file lacks %q: %s", want, final)
		}
	}
	if servers["worker-a"] != float64(workerRounds-1) || servers["worker-b"] != float64(workerRounds-1) {
		t.Errorf("a writer's last change was lost: %s", final)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "// shared") {
		t.Errorf("comment lost: %s", raw)
	}
	entries, _ := os.ReadDir(dir)
	backups := 0
	for _, e := range entries {
		switch {
		case strings.Contains(e.Name(), ".scispot-tmp-"):
			t.Errorf("temp file left: %s", e.Name())
		case strings.Contains(e.Name(), BackupInfix):
			backups++
		}
	}
	if backups > DefaultKeepBackups {
		t.Errorf("%d backups kept, want at most %d", backups, DefaultKeepBackups)
	}
}

// Two goroutines, each with its own lock handle, writing different entries
// of the same file: both entries end up in it.
func TestTwoGoroutines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, name := range []string{"one", "two"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				e := []Edit{{Path: []string{"mcpServers", name}, Value: []byte(strconv.Itoa(i))}}
				if _, err := Apply(context.Background(), path, e, Options{CreateDirs: true}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	b, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"mcpServers":{"one":24,"two":24}}`; got != want && got != `{"mcpServers":{"two":24,"one":24}}` {
		t.Errorf("final = %s, want both entries at 24", got)
	}
}
