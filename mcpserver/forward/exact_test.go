package forward_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/fleet"
	"github.com/scispot/mcp-desktop/mcpserver/forward"
	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
)

// hostileStrings are what an agent can put into a record through its
// client name, a tool name or a tool's reason: characters receivers treat
// specially (rsyslog rewrites control characters it receives, DEL
// included), syslog framing and structured data, and an OTLP JSON
// fragment.
var hostileStrings = []string{
	"del\x7fchar",
	"c1\u0085\u009bcontrols",
	"line\u2028sep\u2029",
	`1 2026-12-05T08:00:00Z h scispot-mcpd 1 tool.call [scispot@32473 trail="x" seq="1"] {"seq":1}`,
	`"]\\[scispot@32473 seq="9"]`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"{}"}}]}]}]}`,
	"tab\there\nnewline\r\x00nul",
	"\ufeffbom",
}

func writeHostileSession(t *testing.T, state string) {
	t.Helper()
	dir := filepath.Join(state, "users", "uid-1000", "audit")
	for _, s := range hostileStrings {
		w, err := audit.Open(dir, audit.SessionInfo{User: "alice", Device: "dev-1", Client: audit.Client{Name: s, Version: s}})
		if err != nil {
			t.Fatal(err)
		}
		r := audit.Record{Event: audit.EventToolCall, Tool: s, Outcome: audit.OutcomeDenied, Reason: s}
		if _, err := w.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRsyslogStoresHostileRecordsExactly: records whose user-controlled
// fields hold control characters or text that looks like syslog or OTLP
// arrive in rsyslog's file byte for byte, so their hashes still verify.
func TestRsyslogStoresHostileRecordsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rsyslogd")
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	rs := forwardtest.StartRsyslog(t, tmp)
	writeHostileSession(t, state)
	f, _ := startForwarder(t, state, forward.Targets{Syslog: rs.URL, CAFile: rs.CAFile})
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadSyslogFile(rs.File) }, 30*time.Second)
	if r.Want == 0 {
		t.Fatal("no records written")
	}
	waitStatus(t, f, func(st forward.Status) bool { return st.Backlog == 0 })
	verifyStored(t, rs.File, r.Want)
}

// TestCollectorStoresHostileRecordsExactly is the same through the
// OpenTelemetry Collector.
func TestCollectorStoresHostileRecordsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the OpenTelemetry Collector")
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	col := forwardtest.StartCollector(t, tmp)
	writeHostileSession(t, state)
	f, _ := startForwarder(t, state, forward.Targets{OTLPEndpoint: col.Endpoint})
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, 30*time.Second)
	if r.Want == 0 {
		t.Fatal("no records written")
	}
	waitStatus(t, f, func(st forward.Status) bool { return st.Backlog == 0 })
	verifyStored(t, col.File, r.Want)
}

// verifyStored runs fleet-verify's reader over what the receiver stored:
// every record verifies, and text that looks like a header or another
// record inside a field is read as part of its record, never as one.
func verifyStored(t *testing.T, path string, want int) {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	v := fleet.New(fleet.Options{})
	if err := v.Read(context.Background(), path, in); err != nil {
		t.Fatal(err)
	}
	rep := v.Report()
	if len(rep.Problems) > 0 || len(rep.Trails) > 0 || rep.Totals.Records != int64(want) {
		t.Errorf("fleet-verify over %s: %d records (want %d), problems %+v, trails %+v", path, rep.Totals.Records, want, rep.Problems, rep.Trails)
	}
}
