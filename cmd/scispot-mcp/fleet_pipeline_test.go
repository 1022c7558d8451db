package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
)

// TestFleetVerifyOverThePipeline is issue 15's whole loop: the real root
// scispot-mcpd forwards an unprivileged account's trails to the real
// OpenTelemetry Collector and to Debian's rsyslog over TLS at once;
// `audit fleet-verify` over what each stored, with the device key that
// `status --json` shows, passes; it fails naming the file and line once
// one record in the collector's file is edited, and it reports a trail
// cut on the workstation after its checkpoint left the machine.
func TestFleetVerifyOverThePipeline(t *testing.T) {
	requireRoot(t)
	col := forwardtest.StartCollector(t, t.TempDir())
	rs := forwardtest.StartRsyslog(t, t.TempDir())
	forwardPolicy(t, fmt.Sprintf(`"AuditOTLPEndpoint": %q, "AuditSyslog": %q, "AuditCAFile": %q`, col.Endpoint, rs.URL, rs.CAFile))
	w := newWorld(t)

	// Sessions that end: each trail closes with session.end and the
	// checkpoint signed after it.
	busySessions(t, w, 4, 25, func() {})
	state := serviceState(w)
	var trails []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(w.auditDir(), "*"+audit.FileExt))
		trails = trails[:0]
		for _, n := range names {
			if b, _ := os.ReadFile(n); bytes.HasSuffix(bytes.TrimSpace(lastLine(b)), []byte("}")) && bytes.Contains(lastLine(b), []byte(`"event":"checkpoint"`)) {
				trails = append(trails, n)
			}
		}
		if len(trails) >= 4 && len(trails) == len(names) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d trails end with a checkpoint", len(trails), len(names))
		}
	}
	forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, 2*time.Minute)
	forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadSyslogFile(rs.File) }, 2*time.Minute)

	out, errOut, code := w.run("", "status", "--json")
	var st struct {
		DeviceKey string `json:"device_key"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.DeviceKey == "" {
		t.Fatalf("status --json (exit %d): %v\n%s%s", code, err, out, errOut)
	}
	admin := t.TempDir()
	keys := filepath.Join(admin, "keys.txt")
	if err := os.WriteFile(keys, []byte(st.DeviceKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Copies, so the receivers' own files are never what the test edits.
	collected := copyFile(t, col.File, filepath.Join(admin, "otel-audit.jsonl"))
	syslogged := copyFile(t, rs.File, filepath.Join(admin, "syslog-audit.log"))

	for _, file := range []string{collected, syslogged} {
		out, errOut, code := runAdmin(t, "audit", "fleet-verify", "--keys", keys, "--allowed-clients", "fleet-client-0,fleet-client-1,fleet-client-2,fleet-client-3", file)
		if code != 0 {
			t.Errorf("fleet-verify over %s as stored: exit %d\n%s%s", filepath.Base(file), code, out, errOut)
		}
	}

	// One record edited in the collector's file: fleet-verify names its
	// file and line.
	data, err := os.ReadFile(collected)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	edited := -1
	for i, l := range lines {
		if bytes.Contains(l, []byte(`\"event\":\"tool.call\"`)) {
			lines[i] = bytes.Replace(l, []byte(`\"tool\":\"list_labsheets\"`), []byte(`\"tool\":\"list_labsheetz\"`), 1)
			edited = i + 1
			break
		}
	}
	if edited < 0 {
		t.Fatalf("no tool.call record in the collector's file:\n%.2000s", data)
	}
	editedFile := filepath.Join(admin, "otel-edited.jsonl")
	if err := os.WriteFile(editedFile, bytes.Join(lines, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runAdmin(t, "audit", "fleet-verify", "--keys", keys, editedFile)
	if want := fmt.Sprintf("%s:%d", filepath.Base(editedFile), edited); code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "hash-mismatch") {
		t.Errorf("fleet-verify over an edited record: exit %d, want 1 and %q with hash-mismatch:\n%s", code, want, out)
	}

	// A trail cut on the workstation after its checkpoint left: the copy
	// taken off the machine no longer matches what the pipeline holds.
	trail := trails[0]
	b, err := os.ReadFile(trail)
	if err != nil {
		t.Fatal(err)
	}
	tl := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	if err := os.WriteFile(trail, append(bytes.Join(tl[:len(tl)-3], []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	local := copyFile(t, trail, filepath.Join(admin, "workstation", filepath.Base(trail)))
	out, _, code = runAdmin(t, "audit", "fleet-verify", "--keys", keys, "--json", collected, local)
	if code != 1 || !strings.Contains(out, `"problem": "cut-after-checkpoint"`) || !strings.Contains(out, filepath.Base(trail)) {
		t.Errorf("fleet-verify over a trail cut after its checkpoint: exit %d\n%s", code, out)
	}
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func copyFile(t *testing.T, from, to string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}
