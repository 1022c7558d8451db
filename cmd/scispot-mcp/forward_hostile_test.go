package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
)

// TestForwardHostileClient: the agent, as the unprivileged account, names
// its client and fills a tool's arguments with text that looks like a
// syslog header, structured data or an OTLP JSON fragment, and with
// control characters. Through the real root service every record still
// reaches the collector and rsyslog byte for byte, and fleet-verify reads
// each as one record of its own trail: nothing forged, nothing skipped.
func TestForwardHostileClient(t *testing.T) {
	requireRoot(t)
	col := forwardtest.StartCollector(t, t.TempDir())
	rs := forwardtest.StartRsyslog(t, t.TempDir())
	forwardPolicy(t, fmt.Sprintf(`"AuditOTLPEndpoint": %q, "AuditSyslog": %q, "AuditCAFile": %q`, col.Endpoint, rs.URL, rs.CAFile))
	w := newWorld(t)

	hostile := []string{
		"name\n<13>1 2026-12-05T08:00:00Z ws scispot-mcpd 1 session.end [scispot@32473 trail=\"x\" seq=\"2\"] {\"seq\":2}",
		`claude"] [scispot@32473 device="other" seq="1"]\`,
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"{\"seq\":9}"}}]}]}]}`,
		"del\x7f c1\u0085 sep\u2028 nul\x00 bom\ufeff",
	}
	for _, h := range hostile {
		cs := w.connect("", h, "--demo")
		cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets", Arguments: map[string]any{"query": h}})
		cs.CallTool(context.Background(), &mcp.CallToolParams{Name: h, Arguments: map[string]any{h: h}})
		cs.Close()
	}
	// Every trail has ended with its signed checkpoint.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(w.auditDir(), "*"+audit.FileExt))
		ended := 0
		for _, n := range names {
			if b, _ := os.ReadFile(n); bytes.Contains(lastLine(b), []byte(`"event":"checkpoint"`)) {
				ended++
			}
		}
		if ended >= len(hostile) && ended == len(names) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d trails end with a checkpoint", ended, len(names))
		}
	}
	state := serviceState(w)
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, time.Minute)
	forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadSyslogFile(rs.File) }, time.Minute)
	if r.Want < 5*len(hostile) {
		t.Fatalf("%d records in the trails, want at least %d", r.Want, 5*len(hostile))
	}
	lines, _ := forwardtest.TrailLines(state)
	named := 0
	for _, ls := range lines {
		for _, l := range ls {
			var rec audit.Record
			if json.Unmarshal([]byte(l), &rec) == nil && slices.Contains(hostile, rec.Client.Name) {
				named++
				break
			}
		}
	}
	if named != len(hostile) {
		t.Errorf("%d trails carry a hostile client name, want %d", named, len(hostile))
	}

	out, _, _ := w.run("", "status", "--json")
	var st struct {
		DeviceKey string `json:"device_key"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.DeviceKey == "" {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	admin := t.TempDir()
	keys := filepath.Join(admin, "keys.txt")
	if err := os.WriteFile(keys, []byte(st.DeviceKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{copyFile(t, col.File, filepath.Join(admin, "otel.jsonl")), copyFile(t, rs.File, filepath.Join(admin, "syslog.log"))} {
		out, errOut, code := runAdmin(t, "audit", "fleet-verify", "--keys", keys, "--json", file)
		var rep struct {
			Totals struct{ Records, Broken, Incomplete int }
		}
		json.Unmarshal([]byte(out), &rep)
		if code != 0 || rep.Totals.Records != r.Want {
			t.Errorf("fleet-verify over %s: exit %d, %d records (want %d)\n%s%s", filepath.Base(file), code, rep.Totals.Records, r.Want, out, errOut)
		}
	}
}
