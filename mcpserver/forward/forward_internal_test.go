package forward

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leodido/go-syslog/v4/rfc5424"
	collogs "go.opentelemetry.io/proto/slim/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// fakeDest records what it is sent (for the spool logic; the real
// receivers are in delivery_test.go).
type fakeDest struct {
	mu    sync.Mutex
	items []Item
	fail  error
}

func (d *fakeDest) Kind() string                { return "fake" }
func (d *fakeDest) Endpoint() string            { return "fake://" }
func (d *fakeDest) ID() string                  { return "fake" }
func (d *fakeDest) ConfirmAfter() time.Duration { return 0 }
func (d *fakeDest) Healthy() error              { return nil }
func (d *fakeDest) Lanes() int                  { return 2 }
func (d *fakeDest) Close() error                { return nil }
func (d *fakeDest) Send(_ context.Context, items []Item) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return 0, d.fail
	}
	for _, it := range items {
		it.Line = append([]byte(nil), it.Line...)
		d.items = append(d.items, it)
	}
	return 0, nil
}

func writeTrail(t *testing.T, state string, n int) string {
	t.Helper()
	w, err := audit.Open(filepath.Join(state, "users", "uid-1", "audit"), audit.SessionInfo{User: "alice", Device: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := w.Append(context.Background(), audit.Record{Event: audit.EventToolCall, Tool: "t", Outcome: audit.OutcomeOK}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return w.Path()
}

// TestTornLineWaits: a last line without its newline (being written, or
// torn by a crash) is not delivered until it is complete, and then once.
func TestTornLineWaits(t *testing.T) {
	state := t.TempDir()
	path := writeTrail(t, state, 3)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(`{"v":1,"seq":4,"event":"tool.c`)

	fw := New(Config{StateDir: state})
	d := &fakeDest{}
	r := fw.newRunner(d)
	if _, err := r.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 3 {
		t.Fatalf("%d records delivered with a torn last line, want 3", len(d.items))
	}
	f.WriteString(`all","outcome":"ok"}` + "\n")
	if _, err := r.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 4 || d.items[3].Fields.Seq != 4 {
		t.Fatalf("after the line completed: %d records", len(d.items))
	}
	// The cursor is on disk; a new runner (a restarted service) sends
	// nothing again.
	d2 := &fakeDest{}
	r2 := fw.newRunner(d2)
	if _, err := r2.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(d2.items) != 0 {
		t.Errorf("a restarted runner sent %d records again", len(d2.items))
	}
	st := r2.status(mustList(t, state))
	if st.Backlog != 0 {
		t.Errorf("backlog %d, want 0", st.Backlog)
	}
}

// TestFailureKeepsBacklog: nothing counts as delivered when Send fails;
// status shows the error and the backlog with its oldest record.
func TestFailureKeepsBacklog(t *testing.T) {
	state := t.TempDir()
	writeTrail(t, state, 5)
	fw := New(Config{StateDir: state})
	d := &fakeDest{fail: &sendError{err: io.ErrUnexpectedEOF}}
	r := fw.newRunner(d)
	if _, err := r.round(context.Background()); err == nil {
		t.Fatal("round succeeded with a failing destination")
	}
	st := r.status(mustList(t, state))
	if st.Connected || st.Backlog != 5 || st.Oldest.IsZero() || !strings.Contains(st.LastError, "unexpected EOF") {
		t.Errorf("status = %+v", st)
	}
	if oldest, ok := r.oldest(mustList(t, state)); !ok || !oldest.Equal(st.Oldest) {
		t.Errorf("oldest = %v %v, want %v", oldest, ok, st.Oldest)
	}
	// Status counts again only what was appended since.
	writeTrail(t, state, 2)
	if st2 := r.status(mustList(t, state)); st2.Backlog != 7 || !st2.Oldest.Equal(st.Oldest) {
		t.Errorf("after two more records status = %+v", st2)
	}
	d.fail = nil
	if _, err := r.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.status(mustList(t, state)); !st.Connected || st.Backlog != 0 || st.LastError != "" || st.Delivered != 7 {
		t.Errorf("after recovery status = %+v", st)
	}
}

func mustList(t *testing.T, state string) []trailFile {
	t.Helper()
	trails, err := listTrails(state)
	if err != nil {
		t.Fatal(err)
	}
	return trails
}

// TestOTLPRequest posts to a real HTTP server on loopback and checks the
// request against the contract: protobuf, the exact line as body, the
// attributes and resource, the headers; and how answers are taken.
func TestOTLPRequest(t *testing.T) {
	state := t.TempDir()
	path := writeTrail(t, state, 2)
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	trail := strings.TrimSuffix(filepath.Base(path), ".jsonl")

	var got *collogs.ExportLogsServiceRequest
	var header http.Header
	answer := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{PartialSuccess: &collogs.ExportLogsPartialSuccess{RejectedLogRecords: 1, ErrorMessage: "one too old"}})
		w.Write(b)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		header = r.Header.Clone()
		if r.URL.Path != "/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "bad path or type", http.StatusBadRequest)
			return
		}
		got = &collogs.ExportLogsServiceRequest{}
		if err := proto.Unmarshal(body, got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer(w)
	}))
	defer srv.Close()

	const secret = "Splunk 5ecret-ingest-key"
	d, err := newOTLP(Targets{OTLPEndpoint: srv.URL, OTLPHeaders: []string{"Authorization: " + secret}}, Resource{Device: "dev", HostName: "ws", Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	items, err := readItems(mustList(t, state)[0], 0, 10, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	rejected, err := d.Send(context.Background(), items)
	if err != nil || rejected != 1 {
		t.Fatalf("Send = %d, %v; want 1 rejected", rejected, err)
	}
	if header.Get("Authorization") != secret {
		t.Errorf("Authorization header %q", header.Get("Authorization"))
	}
	rl := got.GetResourceLogs()
	if len(rl) != 1 || len(rl[0].GetScopeLogs()) != 1 || rl[0].GetScopeLogs()[0].GetScope().GetName() != ScopeName {
		t.Fatalf("request shape: %v", got)
	}
	res := map[string]string{}
	for _, kv := range rl[0].GetResource().GetAttributes() {
		res[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	if diff := cmp.Diff(map[string]string{"service.name": "scispot-mcpd", "service.version": "1.2.3", "host.id": "dev", "host.name": "ws"}, res); diff != "" {
		t.Errorf("resource (-want +got):\n%s", diff)
	}
	recs := rl[0].GetScopeLogs()[0].GetLogRecords()
	if len(recs) != 2 {
		t.Fatalf("%d log records, want 2", len(recs))
	}
	for i, lr := range recs {
		if lr.GetBody().GetStringValue() != lines[i] {
			t.Errorf("record %d body is not the exact line:\n got %s\nwant %s", i, lr.GetBody().GetStringValue(), lines[i])
		}
		attrs := map[string]any{}
		for _, kv := range lr.GetAttributes() {
			if _, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_IntValue); ok {
				attrs[kv.GetKey()] = kv.GetValue().GetIntValue()
			} else {
				attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
			}
		}
		var rec struct {
			Session, Hash string
			Time          time.Time
		}
		json.Unmarshal([]byte(lines[i]), &rec)
		want := map[string]any{"event.name": "tool.call", "user.name": "alice", "scispot.device": "dev", "scispot.client": "",
			"gen_ai.tool.name": "t", "scispot.outcome": "ok", "session.id": rec.Session, "scispot.seq": int64(i + 1),
			"scispot.hash": rec.Hash, "scispot.trail": trail}
		if diff := cmp.Diff(want, attrs); diff != "" {
			t.Errorf("record %d attributes (-want +got):\n%s", i, diff)
		}
		if lr.GetTimeUnixNano() != uint64(rec.Time.UnixNano()) || lr.GetSeverityText() != "INFO" {
			t.Errorf("record %d time %d severity %s", i, lr.GetTimeUnixNano(), lr.GetSeverityText())
		}
	}

	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantSlow   bool
		wantAfter  time.Duration
	}{
		{"unavailable", http.StatusServiceUnavailable, "7", false, 7 * time.Second},
		{"throttled", http.StatusTooManyRequests, "", false, 0},
		{"bad gateway", http.StatusBadGateway, "", false, 0},
		{"unauthorized", http.StatusUnauthorized, "", true, 0},
		{"bad request", http.StatusBadRequest, "", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer = func(w http.ResponseWriter) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.Header().Set("Content-Type", "application/x-protobuf")
				w.WriteHeader(tt.status)
				w.Write([]byte{0x12, 0x04, 'n', 'o', 'p', 'e'}) // google.rpc.Status{message: "nope"}
			}
			_, err := d.Send(context.Background(), items)
			se, ok := err.(*sendError)
			if !ok {
				t.Fatalf("Send error %v, want a sendError", err)
			}
			if se.slow != tt.wantSlow || se.retryAfter != tt.wantAfter || !strings.Contains(se.Error(), "nope") {
				t.Errorf("sendError = %+v (%v)", se, se)
			}
			if strings.Contains(se.Error(), secret) {
				t.Errorf("the error shows the header value: %v", se)
			}
		})
	}
}

// TestSyslogMessage parses what the destination writes with the same
// library's RFC 5424 parser.
func TestSyslogMessage(t *testing.T) {
	state := t.TempDir()
	writeTrail(t, state, 1)
	items, err := readItems(mustList(t, state)[0], 0, 10, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := syslogMessage(items[0], Resource{HostName: "ws-1"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := rfc5424.NewParser().Parse([]byte(msg))
	if err != nil {
		t.Fatalf("parsing %q: %v", msg, err)
	}
	sm := m.(*rfc5424.SyslogMessage)
	if *sm.Priority != 13*8+6 || *sm.Appname != "scispot-mcpd" || *sm.MsgID != "tool.call" || *sm.Hostname != "ws-1" {
		t.Errorf("header: %q", msg)
	}
	if *sm.Message != string(items[0].Line) {
		t.Errorf("MSG is not the exact line:\n got %s\nwant %s", *sm.Message, items[0].Line)
	}
	sd := (*sm.StructuredData)[SDID]
	if sd["trail"] != items[0].Trail || sd["seq"] != "1" || sd["hash"] != items[0].Fields.Hash || sd["device"] != "dev" || sd["session"] != items[0].Fields.Session {
		t.Errorf("structured data %v", sd)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCursorFiles: cursors survive a reload; a damaged one is reported
// and left out (its trail goes again from the start).
func TestCursorFiles(t *testing.T) {
	dir := t.TempDir()
	want := []Cursor{{Trail: "20261205T070000.000Z-aa", Offset: 120, Seq: 2, Hash: "ab12"}, {Trail: "b", Offset: 7, Seq: 1}}
	if err := saveCursors(dir, want); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c"+cursorExt), []byte(`{"trail":"c","offset":-1}`), 0o600)
	os.WriteFile(filepath.Join(dir, "d"+cursorExt), []byte(`{"trail":"e","offset":1}`), 0o600)
	var bad []string
	got, err := loadCursors(dir, func(name string, err error) { bad = append(bad, name) })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]Cursor{want[0].Trail: want[0], "b": want[1]}, got); diff != "" {
		t.Errorf("cursors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"c" + cursorExt, "d" + cursorExt}, bad); diff != "" {
		t.Errorf("damaged (-want +got):\n%s", diff)
	}
}

func FuzzParseCursor(f *testing.F) {
	f.Add([]byte(`{"trail":"20261205T070000.000Z-aa","offset":120,"seq":2,"hash":"ab12"}`))
	f.Add([]byte(`{"trail":"../x","offset":1}`))
	f.Add([]byte(`{"trail":"a","offset":1}{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCursor(data)
		if err != nil {
			return
		}
		if !validTrailID(c.Trail) || c.Offset < 0 || c.Seq < 0 || strings.ContainsAny(c.Trail, `/\`) {
			t.Fatalf("accepted a bad cursor %+v", c)
		}
		b, _ := json.Marshal(c)
		c2, err := ParseCursor(b)
		if err != nil || c2 != c {
			t.Fatalf("round trip: %+v -> %+v, %v", c, c2, err)
		}
	})
}

func FuzzRPCStatusMessage(f *testing.F) {
	f.Add([]byte{0x08, 0x03, 0x12, 0x04, 'n', 'o', 'p', 'e'})
	f.Add([]byte{0x12, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rpcStatusMessage(b) // must not panic on any answer
	})
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("120")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("-5")
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, time.Unix(1e9, 0)); d < 0 {
			t.Fatalf("retryAfter(%q) = %v", h, d)
		}
	})
}

// FuzzReadItems: whatever a trail holds (it is the service's own file,
// but a crash or a disk error can leave anything), reading never panics,
// never returns a line with a newline, and moves forward.
func FuzzReadItems(f *testing.F) {
	f.Add([]byte("{\"seq\":1}\n{\"seq\":2}\n{\"se"), int64(0))
	f.Add([]byte("\n\n\n"), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, off int64) {
		if off < 0 || off > int64(len(data)) {
			return
		}
		path := filepath.Join(t.TempDir(), "x.jsonl")
		os.WriteFile(path, data, 0o600)
		items, err := readItems(trailFile{ID: "x", Path: path, Size: int64(len(data))}, off, 100, 64, nil)
		if err != nil {
			t.Fatal(err)
		}
		prev := off
		for _, it := range items {
			if it.end <= prev || it.end > int64(len(data)) || strings.Contains(string(it.Line), "\n") {
				t.Fatalf("item %+v after %d", it, prev)
			}
			prev = it.end
		}
	})
}

// TestOTLPDamagedLine: a line that is not valid UTF-8 (a damaged trail)
// cannot be a protobuf string; it goes as the body's bytes, so the batch
// still encodes and the records after it are not held back for ever.
func TestOTLPDamagedLine(t *testing.T) {
	state := t.TempDir()
	path := writeTrail(t, state, 2)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	damaged := "{\"seq\":3,\"x\":\"\xff\xfe\"}"
	f.WriteString(damaged + "\n")
	f.Close()
	var got collogs.ExportLogsServiceRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := proto.Unmarshal(body, &got); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	d, err := newOTLP(Targets{OTLPEndpoint: srv.URL}, Resource{Device: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	items, err := readItems(mustList(t, state)[0], 0, 10, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Send(context.Background(), items); err != nil {
		t.Fatalf("Send: %v", err)
	}
	recs := got.GetResourceLogs()[0].GetScopeLogs()[0].GetLogRecords()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	if b := recs[2].GetBody().GetBytesValue(); string(b) != damaged {
		t.Errorf("damaged line's body %v, want its bytes", recs[2].GetBody())
	}
}

// TestSyslogSendStopsWithContext: a receiver that accepts and never reads
// (a stalled relay, or another account listening on a loopback port) does
// not hold Send — and with it a policy change, which stops the runner
// while holding the forwarder's lock — until the write deadline.
func TestSyslogSendStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	d, err := newSyslog(Targets{Syslog: "tcp://" + ln.Addr().String()}, Resource{HostName: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	line := []byte(`{"seq":1,"x":"` + strings.Repeat("a", 1<<20) + `"}`)
	items := make([]Item, 64) // far more than the socket buffers hold
	for i := range items {
		items[i] = Item{Trail: "t", Line: line, Fields: Fields{Seq: int64(i + 1), Event: "tool.call"}}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := d.Send(ctx, items); done <- err }()
	c := <-accepted
	defer c.Close()
	time.Sleep(200 * time.Millisecond) // Send is blocked in a write
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Send succeeded although nothing was read")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send still blocked 10 s after its context ended")
	}
}

// TestUnreadableFolderKeepsCursors: an audit folder that cannot be listed
// for a moment (here: something else in its place; in life, no file
// descriptors left) does not mean its trails are gone. Their cursors stay,
// so nothing is sent again from the start once it can be read.
func TestUnreadableFolderKeepsCursors(t *testing.T) {
	state := t.TempDir()
	writeTrail(t, state, 3)
	fw := New(Config{StateDir: state})
	d := &fakeDest{}
	r := fw.newRunner(d)
	if _, err := r.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(state, "users", "uid-1", "audit")
	aside := dir + ".aside"
	if err := os.Rename(dir, aside); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r.round(context.Background())
	os.Remove(dir)
	if err := os.Rename(aside, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := r.round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 3 {
		t.Errorf("%d records sent, want the 3 once", len(d.items))
	}
}
