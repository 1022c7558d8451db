package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	common "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logs "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	resource "go.opentelemetry.io/proto/slim/otlp/resource/v1"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// testDevice is a simulated workstation: its protected id and its
// checkpoint key.
type testDevice struct {
	id     string
	signer note.Signer
	vkey   string
}

func newDevice(t testing.TB, name string) testDevice {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	id := hex.EncodeToString(sum[:])
	skey, vkey, err := note.GenerateKey(rand.Reader, audit.SignerName(id))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return testDevice{id: id, signer: s, vkey: vkey}
}

func keysOf(t testing.TB, devices ...testDevice) note.Verifiers {
	t.Helper()
	var vs []note.Verifier
	for _, d := range devices {
		v, err := note.NewVerifier(d.vkey)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return note.VerifierList(vs...)
}

// session describes one trail to write.
type session struct {
	dev    testDevice
	user   string
	token  string
	client string
	calls  int
	// checkpointAfter writes a checkpoint after that many calls (0: none
	// in the middle); the last checkpoint follows session.end unless
	// noEnd.
	checkpointAfter int
	noEnd           bool
	denied          int // calls that are denials
	injections      int // calls flagged injection-suspect
}

// writeTrail writes s with the real audit writer into dir/<device>/ and
// returns the file's path.
func writeTrail(t testing.TB, dir string, s session) string {
	t.Helper()
	w, err := audit.Open(filepath.Join(dir, s.dev.id[:12]), audit.SessionInfo{
		User: s.user, Device: s.dev.id, Token: s.token, Transport: audit.TransportStdio,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := audit.Client{Name: s.client, Version: "1.0"}
	app := func(r audit.Record) {
		t.Helper()
		if _, err := w.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	app(audit.Record{Event: audit.EventSessionStart, Client: client, Outcome: audit.OutcomeOK})
	for i := range s.calls {
		r := audit.Record{Event: audit.EventToolCall, Client: client, Tool: "list_samples",
			Args: json.RawMessage(`{"page":` + strconv.Itoa(i) + `}`), Outcome: audit.OutcomeOK, DurationMS: 3, ResultBytes: 100}
		if i < s.denied {
			r.Event, r.Outcome, r.ResultBytes, r.Reason = audit.EventToolDenied, audit.OutcomeDenied, 0, "not allowed"
		} else if i < s.denied+s.injections {
			r.Flags = []string{audit.FlagInjectionSuspect}
		}
		app(r)
		if s.checkpointAfter > 0 && i+1 == s.checkpointAfter {
			if _, _, err := w.Checkpoint(s.dev.signer); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !s.noEnd {
		app(audit.Record{Event: audit.EventSessionEnd, Client: client, Outcome: audit.OutcomeOK, Reason: "the client closed the connection"})
		if _, _, err := w.Checkpoint(s.dev.signer); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return w.Path()
}

// trailLines are a trail file's lines without newlines.
func trailLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// logRecord is one trail line as the forwarder sends it (the issue 15
// contract), with the official OTLP types.
func logRecord(t testing.TB, trailID string, line []byte) *logs.LogRecord {
	t.Helper()
	var r audit.Record
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatal(err)
	}
	str := func(k, v string) *common.KeyValue {
		return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
	}
	sev, sevText := logs.SeverityNumber_SEVERITY_NUMBER_INFO, "INFO"
	if r.Outcome == audit.OutcomeDenied || r.Outcome == audit.OutcomeError {
		sev, sevText = logs.SeverityNumber_SEVERITY_NUMBER_WARN, "WARN"
	}
	attrs := []*common.KeyValue{
		str("event.name", string(r.Event)), str("user.name", r.User), str("scispot.device", r.Device),
		str("scispot.client", r.Client.Name), str("scispot.outcome", string(r.Outcome)), str("session.id", r.Session),
		{Key: "scispot.seq", Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: r.Seq}}},
		str("scispot.hash", r.Hash), str("scispot.trail", trailID),
	}
	if r.Tool != "" {
		attrs = append(attrs, str("gen_ai.tool.name", r.Tool))
	}
	return &logs.LogRecord{
		TimeUnixNano: uint64(r.Time.UnixNano()), ObservedTimeUnixNano: uint64(r.Time.UnixNano()) + 1000,
		SeverityNumber: sev, SeverityText: sevText,
		Body:       &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: string(line)}},
		Attributes: attrs,
	}
}

// otlpLine is one OTLP JSON line as the collector's file exporter writes
// it: a LogsData (the JSON shape of an ExportLogsServiceRequest, without
// pulling in the gRPC service) of one device's records, marshalled by
// protojson.
func otlpLine(t testing.TB, device string, recs []*logs.LogRecord) []byte {
	t.Helper()
	str := func(k, v string) *common.KeyValue {
		return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
	}
	req := &logs.LogsData{ResourceLogs: []*logs.ResourceLogs{{
		Resource: &resource.Resource{Attributes: []*common.KeyValue{
			str("service.name", "scispot-mcpd"), str("service.version", "test"), str("host.id", device), str("host.name", "lab-pc"),
		}},
		ScopeLogs: []*logs.ScopeLogs{{Scope: &common.InstrumentationScope{Name: "io.scispot.mcp.audit"}, LogRecords: recs}},
	}}}
	b, err := protojson.MarshalOptions{}.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	// protojson may add spaces between tokens; the file exporter writes
	// compact JSON, and either must read.
	return b
}

// otlpFile writes trails as OTLP JSON lines of up to batch records each,
// and returns the file's path.
func otlpFile(t testing.TB, dir, name string, batch int, trails ...string) string {
	t.Helper()
	var out bytes.Buffer
	for _, p := range trails {
		lines := trailLines(t, p)
		var r audit.Record
		json.Unmarshal(lines[0], &r)
		for i := 0; i < len(lines); i += batch {
			var recs []*logs.LogRecord
			for _, l := range lines[i:min(i+batch, len(lines))] {
				recs = append(recs, logRecord(t, audit.TrailID(p), l))
			}
			out.Write(otlpLine(t, r.Device, recs))
			out.WriteByte('\n')
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syslogFile writes trails as rsyslog stores them with
// RSYSLOG_SyslogProtocol23Format, and returns the file's path.
func syslogFile(t testing.TB, dir, name string, trails ...string) string {
	t.Helper()
	var out bytes.Buffer
	for _, p := range trails {
		for _, l := range trailLines(t, p) {
			out.Write(syslogLine(t, audit.TrailID(p), l))
			out.WriteByte('\n')
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func syslogLine(t testing.TB, trailID string, line []byte) []byte {
	t.Helper()
	var r audit.Record
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatal(err)
	}
	sev := 6
	if r.Outcome == audit.OutcomeDenied || r.Outcome == audit.OutcomeError {
		sev = 4
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)
	return fmt.Appendf(nil, `<%d>1 %s lab-pc scispot-mcpd %d %s [scispot@32473 trail="%s" session="%s" seq="%d" hash="%s" device="%s"] %s`,
		13*8+sev, r.Time.Format("2006-01-02T15:04:05.000000Z07:00"), r.PID, r.Event,
		esc.Replace(trailID), esc.Replace(r.Session), r.Seq, r.Hash, esc.Replace(r.Device), line)
}

// verify runs the verifier over paths.
func verify(t testing.TB, opts Options, paths ...string) Report {
	t.Helper()
	v := New(opts)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Read(context.Background(), p, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return v.Report()
}

// rewriteLine replaces line n (1-based) of the file at path.
func rewriteLine(t testing.TB, path string, n int, edit func([]byte) []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(data, []byte("\n"))
	lines[n-1] = edit(lines[n-1])
	if err := os.WriteFile(path, bytes.Join(lines, []byte("\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// keepLines keeps the first n lines of the file at path.
func keepLines(t testing.TB, path string, n int) {
	t.Helper()
	lines := trailLines(t, path)
	if err := os.WriteFile(path, append(bytes.Join(lines[:n], []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}
