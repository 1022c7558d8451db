//go:build linux

package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// The real root service makes its device key at first start, shows its
// public half in status --json and --print-device-key, keeps the key file
// from the person, and ends every session's trail with a checkpoint signed
// by it, which fleet-verify checks against the registered key.
func TestDeviceKeyAndCheckpoints(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the service runs as root and the person as an unprivileged account")
	}
	w := newWorld(t)
	state := filepath.Join(w.svcDir, "var")
	keyFile := filepath.Join(state, "keys", "device.key")

	out, errOut, code := w.run("", "status", "--json")
	var st struct {
		Device         string `json:"device"`
		DeviceKey      string `json:"device_key"`
		DeviceKeyError string `json:"device_key_error"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	if !strings.HasPrefix(st.DeviceKey, audit.SignerName(st.Device)+"+") || st.DeviceKeyError != "" {
		t.Fatalf("status device_key %q, error %q", st.DeviceKey, st.DeviceKeyError)
	}
	verifier, err := note.NewVerifier(st.DeviceKey)
	if err != nil {
		t.Fatalf("device_key is not a verifier key: %v", err)
	}
	printed, err := exec.Command(mcpdBinary(), "--state", state, "--print-device-key").Output()
	if err != nil || strings.TrimSpace(string(printed)) != st.DeviceKey {
		t.Fatalf("--print-device-key printed %q (%v), status says %q", printed, err, st.DeviceKey)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Fatalf("key file: %v, %v", fi, err)
	}

	// The person cannot read it, nor put another key in its place.
	for _, argv := range [][]string{{"cat", keyFile}, {"sh", "-c", "echo x > " + keyFile}, {"rm", "-f", keyFile}} {
		if out, err := w.command(argv[0], argv[1:]...).CombinedOutput(); err == nil {
			t.Fatalf("the account ran %v: %s", argv, out)
		}
	}

	// One session through the service: its trail ends with a checkpoint
	// signed by the device key.
	if out, errOut, code := w.run("", "call", "list_labsheets", "{}", "--demo"); code != 0 {
		t.Fatalf("call: exit %d\n%s%s", code, out, errOut)
	}
	// The service ends the session when the client has gone, so the
	// trail's last records may land just after the command exits.
	var trail string
	var data []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(w.auditDir(), "*"+audit.FileExt))
		for _, n := range names {
			b, _ := os.ReadFile(n)
			if bytes.Contains(b, []byte(`"event":"session.end"`)) && bytes.Contains(b, []byte(`"event":"checkpoint"`)) {
				trail, data = n, b
			}
		}
		if trail != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no trail ended with a checkpoint among %v", names)
		}
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var last, end audit.Record
	json.Unmarshal(lines[len(lines)-1], &last)
	json.Unmarshal(lines[len(lines)-2], &end)
	if last.Event != audit.EventCheckpoint || end.Event != audit.EventSessionEnd || last.Checkpoint == nil {
		t.Fatalf("the trail does not end with session.end and a checkpoint:\n%s", data)
	}
	if cp := last.Checkpoint; cp.Count != end.Seq || cp.LastHash != end.Hash || cp.Trail != audit.TrailID(trail) {
		t.Fatalf("checkpoint %+v does not state the trail before it", cp)
	}
	if _, err := note.Open([]byte(last.Checkpoint.Note), note.VerifierList(verifier)); err != nil {
		t.Fatalf("the checkpoint does not verify with status's device_key: %v", err)
	}
	if out, _, code := w.run("", "audit", "verify"); code != 0 || !strings.Contains(out, "0 broken") || strings.Contains(out, "checkpoint") {
		t.Fatalf("audit verify (exit %d):\n%s", code, out)
	}

	// The admin's side: the trail as copied off the machine verifies
	// against the registered key, and fails once cut after the checkpoint
	// that reached the pipeline.
	admin := t.TempDir()
	keys := filepath.Join(admin, "keys.txt")
	os.WriteFile(keys, []byte("# lab workstations\n"+st.DeviceKey+"\n"), 0o600)
	pipeline := filepath.Join(admin, "pipeline", filepath.Base(trail))
	os.MkdirAll(filepath.Dir(pipeline), 0o755)
	os.WriteFile(pipeline, data, 0o600)
	if out, errOut, code := runAdmin(t, "audit", "fleet-verify", "--keys", keys, pipeline); code != 0 {
		t.Fatalf("fleet-verify of an intact trail: exit %d\n%s%s", code, out, errOut)
	}
	local := filepath.Join(admin, "local", filepath.Base(trail))
	os.MkdirAll(filepath.Dir(local), 0o755)
	os.WriteFile(local, append(bytes.Join(lines[:len(lines)-2], []byte("\n")), '\n'), 0o600)
	out, _, code = runAdmin(t, "audit", "fleet-verify", "--keys", keys, "--json", pipeline, local)
	if code != 1 || !strings.Contains(out, `"problem": "cut-after-checkpoint"`) {
		t.Fatalf("fleet-verify of a cut trail: exit %d\n%s", code, out)
	}
}
