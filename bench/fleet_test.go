package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	common "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logs "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	resource "go.opentelemetry.io/proto/slim/otlp/resource/v1"
	"golang.org/x/mod/sumdb/note"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// benchFleetVerify times `scispot-mcp audit fleet-verify` over a simulated
// fleet: 500 workstations, each with its own device key and one trail of
// 2,000 records (two signed checkpoints among them) written by the real
// audit writer, as the collector's file exporter stores them (OTLP JSON
// lines of 500 records, made with the official OTLP types and protojson).
func benchFleetVerify(t *testing.T, bin string) []row {
	const devices, calls, batch = 500, 1996, 500
	figure := fmt.Sprintf("audit fleet-verify (%d devices × 2,000 records, OTLP JSON)", devices)
	// The trails are written to memory-backed storage where there is one:
	// this measures fleet-verify, not 1,000,000 fsyncs.
	root := t.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if root, err = os.MkdirTemp("/dev/shm", "fleet-bench-"); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(root)
	}
	logsPath := filepath.Join(root, "logs.jsonl")
	out, err := os.Create(logsPath)
	if err != nil {
		t.Fatal(err)
	}
	var keys bytes.Buffer
	args := json.RawMessage(`{"labsheet":"Cell Lines","query":"HeLa"}`)
	ctx := context.Background()
	for d := range devices {
		sum := sha256.Sum256(fmt.Appendf(nil, "bench-device-%d", d))
		device := hex.EncodeToString(sum[:])
		skey, vkey, err := note.GenerateKey(rand.Reader, audit.SignerName(device))
		if err != nil {
			t.Fatal(err)
		}
		signer, _ := note.NewSigner(skey)
		fmt.Fprintln(&keys, vkey)
		w, err := audit.Open(filepath.Join(root, "trails"), audit.SessionInfo{User: fmt.Sprintf("user%d", d), Device: device,
			Token: fmt.Sprintf("fp%04d", d), Client: audit.Client{Name: "claude-ai", Version: "1.0"}, Transport: audit.TransportStdio})
		if err != nil {
			t.Fatal(err)
		}
		w.Append(ctx, audit.Record{Event: audit.EventSessionStart, Outcome: audit.OutcomeOK})
		for i := range calls {
			if _, err := w.Append(ctx, audit.Record{Event: audit.EventToolCall, Tool: "search_labsheet_rows", Args: args, Outcome: audit.OutcomeOK, DurationMS: 3, ResultBytes: 4096}); err != nil {
				t.Fatal(err)
			}
			if i == calls/2 {
				w.Checkpoint(signer)
			}
		}
		w.Append(ctx, audit.Record{Event: audit.EventSessionEnd, Outcome: audit.OutcomeOK})
		w.Checkpoint(signer)
		w.Close()
		data, err := os.ReadFile(w.Path())
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(w.Path())
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		for i := 0; i < len(lines); i += batch {
			out.Write(otlpJSONLine(t, device, audit.TrailID(w.Path()), lines[i:min(i+batch, len(lines))]))
			out.Write([]byte("\n"))
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	keysPath := filepath.Join(root, "keys.txt")
	os.WriteFile(keysPath, keys.Bytes(), 0o600)
	st, _ := os.Stat(logsPath)

	var best time.Duration
	var report []byte
	for range 3 {
		cmd := exec.Command(bin, "audit", "fleet-verify", "--keys", keysPath, "--allowed-clients", "claude-ai", "--json", logsPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		report, err = cmd.Output()
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("fleet-verify: %v\n%s\n%s", err, stderr.Bytes(), report[:min(len(report), 2000)])
		}
		if best == 0 || elapsed < best {
			best = elapsed
		}
	}
	var rep struct {
		Totals struct {
			Records             int64 `json:"records"`
			OK                  int   `json:"ok"`
			CheckpointsVerified int64 `json:"checkpoints_verified"`
		} `json:"totals"`
	}
	json.Unmarshal(report, &rep)
	if rep.Totals.Records != devices*2000 || rep.Totals.OK != devices || rep.Totals.CheckpointsVerified != 2*devices {
		t.Fatalf("fleet-verify read %+v", rep.Totals)
	}
	rate := float64(rep.Totals.Records) / best.Seconds()
	return []row{{figure, "> 200,000 records/s", fmt.Sprintf("%.0f records/s (%s, %d MB)", rate, best.Round(time.Millisecond), st.Size()>>20)}}
}

// otlpJSONLine is one file-exporter line holding one device's records, as
// the forwarder sends them (the issue 15 contract).
func otlpJSONLine(t *testing.T, device, trail string, lines [][]byte) []byte {
	str := func(k, v string) *common.KeyValue {
		return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
	}
	var recs []*logs.LogRecord
	for _, l := range lines {
		var r audit.Record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &logs.LogRecord{
			TimeUnixNano: uint64(r.Time.UnixNano()), ObservedTimeUnixNano: uint64(r.Time.UnixNano()),
			SeverityNumber: logs.SeverityNumber_SEVERITY_NUMBER_INFO, SeverityText: "INFO",
			Body: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: string(l)}},
			Attributes: []*common.KeyValue{
				str("event.name", string(r.Event)), str("user.name", r.User), str("scispot.device", r.Device),
				str("scispot.client", r.Client.Name), str("gen_ai.tool.name", r.Tool), str("scispot.outcome", string(r.Outcome)),
				str("session.id", r.Session), {Key: "scispot.seq", Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: r.Seq}}},
				str("scispot.hash", r.Hash), str("scispot.trail", trail),
			},
		})
	}
	b, err := protojson.Marshal(&logs.LogsData{ResourceLogs: []*logs.ResourceLogs{{
		Resource: &resource.Resource{Attributes: []*common.KeyValue{
			str("service.name", "scispot-mcpd"), str("service.version", "bench"), str("host.id", device), str("host.name", "lab-pc"),
		}},
		ScopeLogs: []*logs.ScopeLogs{{Scope: &common.InstrumentationScope{Name: "io.scispot.mcp.audit"}, LogRecords: recs}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("\n"), nil)
}
