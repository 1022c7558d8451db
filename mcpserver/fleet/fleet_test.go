package fleet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// fixture is a small fleet: two devices, three trails, one still running.
type fixture struct {
	dir    string
	a, b   testDevice
	trails []string // a's two ended trails, b's ended trail
	opts   Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), a: newDevice(t, "a"), b: newDevice(t, "b")}
	f.trails = []string{
		writeTrail(t, f.dir, session{dev: f.a, user: "alice", token: "fp-alice", client: "claude-ai", calls: 12, checkpointAfter: 5}),
		writeTrail(t, f.dir, session{dev: f.a, user: "alice", token: "fp-alice", client: "claude-ai", calls: 3}),
		writeTrail(t, f.dir, session{dev: f.b, user: "bob", token: "fp-bob", client: "claude-ai", calls: 7, checkpointAfter: 2}),
	}
	f.opts = Options{Keys: keysOf(t, f.a, f.b)}
	return f
}

func problems(rep Report) []string {
	var out []string
	for _, is := range rep.Problems {
		out = append(out, is.Problem+"@"+filepath.Base(is.Where()))
	}
	for _, tr := range rep.Trails {
		for _, is := range tr.Issues {
			out = append(out, is.Problem+"@"+filepath.Base(is.Where()))
		}
	}
	return out
}

func TestCleanFleetInEveryFormat(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name  string
		paths func() []string
		dups  int64
	}{
		{"otlp", func() []string { return []string{otlpFile(t, f.dir, "logs.jsonl", 4, f.trails...)} }, 0},
		{"otlp, one record per line", func() []string { return []string{otlpFile(t, f.dir, "logs1.jsonl", 1, f.trails...)} }, 0},
		{"syslog", func() []string { return []string{syslogFile(t, f.dir, "messages", f.trails...)} }, 0},
		{"raw trails", func() []string { return f.trails }, 0},
		{"all three, everything delivered three times", func() []string {
			return append([]string{otlpFile(t, f.dir, "logs.jsonl", 4, f.trails...), syslogFile(t, f.dir, "messages", f.trails...)}, f.trails...)
		}, 2 * (16 + 6 + 11)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify(t, f.opts, tc.paths()...)
			if rep.Found() {
				t.Fatalf("found %v in a clean fleet", problems(rep))
			}
			want := Totals{Records: 16 + 6 + 11, Duplicates: tc.dups, Devices: 2, Trails: 3, OK: 3, CheckpointsVerified: 5}
			got := rep.Totals
			got.Lines = 0
			if got != want {
				t.Fatalf("totals %+v, want %+v", got, want)
			}
		})
	}
}

func TestFindings(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns the inputs and the options.
		setup func(t *testing.T, f *fixture) ([]string, Options)
		want  []string // problem@file:line
	}{
		{"edited record in the OTLP file names its line and record", func(t *testing.T, f *fixture) ([]string, Options) {
			p := otlpFile(t, f.dir, "logs.jsonl", 4, f.trails...)
			rewriteLine(t, p, 2, func(b []byte) []byte { return bytes.Replace(b, []byte(`page\":5`), []byte(`page\":6`), 1) })
			return []string{p}, f.opts
		}, []string{"hash-mismatch@logs.jsonl:2 (record 4)", "seq-gap@logs.jsonl:3 (record 1)"}},
		{"edited record in the syslog file", func(t *testing.T, f *fixture) ([]string, Options) {
			p := syslogFile(t, f.dir, "messages", f.trails...)
			rewriteLine(t, p, 3, func(b []byte) []byte { return bytes.Replace(b, []byte(`"page":1`), []byte(`"page":2`), 1) })
			return []string{p}, f.opts
		}, []string{"hash-mismatch@messages:3", "seq-gap@messages:4"}},
		{"record lost in the pipeline", func(t *testing.T, f *fixture) ([]string, Options) {
			p := syslogFile(t, f.dir, "messages", f.trails...)
			rewriteLine(t, p, 4, func([]byte) []byte { return nil })
			return []string{p}, f.opts
		}, []string{"seq-gap@messages:5"}},
		{"session never ended", func(t *testing.T, f *fixture) ([]string, Options) {
			running := writeTrail(t, f.dir, session{dev: f.b, user: "bob", token: "fp-bob", client: "claude-ai", calls: 2, noEnd: true})
			return []string{otlpFile(t, f.dir, "logs.jsonl", 100, append(f.trails, running)...)}, f.opts
		}, []string{"no-session-end@logs.jsonl:4 (record 3)"}},
		{"checkpoint by a key not registered", func(t *testing.T, f *fixture) ([]string, Options) {
			return []string{syslogFile(t, f.dir, "messages", f.trails[2])}, Options{Keys: keysOf(t, f.a)}
		}, []string{"checkpoint-unknown-key@messages:4", "checkpoint-unknown-key@messages:11"}},
		{"local trail cut after a checkpoint that left the machine", func(t *testing.T, f *fixture) ([]string, Options) {
			p := otlpFile(t, f.dir, "logs.jsonl", 4, f.trails...)
			keepLines(t, f.trails[0], 8) // past the checkpoint at seq 7, before the last one
			return []string{p, f.trails[0]}, f.opts
		}, []string{"cut-after-checkpoint@{t0}"}},
		{"local trail rewritten after it was forwarded", func(t *testing.T, f *fixture) ([]string, Options) {
			p := otlpFile(t, f.dir, "logs.jsonl", 4, f.trails...)
			rewriteTrail(t, f.trails[1], 3, func(r *audit.Record) { r.Tool = "delete_everything" })
			return []string{p, f.trails[1]}, f.opts
		}, []string{"conflict@{t1}:3", "conflict@{t1}:4", "conflict@{t1}:5", "conflict@{t1}:6"}},
		{"session ended without a checkpoint", func(t *testing.T, f *fixture) ([]string, Options) {
			p := syslogFile(t, f.dir, "messages", f.trails[1])
			rewriteLine(t, p, 6, func([]byte) []byte { return nil }) // the last checkpoint never arrived
			return []string{p}, f.opts
		}, []string{"no-checkpoint@messages:5"}},
		{"records chained on after the signed end of a session", func(t *testing.T, f *fixture) ([]string, Options) {
			// Whoever can write to the pipeline (any local account, for a
			// collector on loopback) can append well-chained records to a
			// session that ended: nothing signed covers them.
			appendForged(t, f.trails[1], audit.Record{Event: audit.EventToolDenied, Tool: "delete_samples", Outcome: audit.OutcomeDenied}, 2)
			return []string{syslogFile(t, f.dir, "messages", f.trails[1])}, f.opts
		}, []string{"unsigned-after-end@messages:7", "unsigned-after-end@messages:8"}},
		{"records and a self-signed checkpoint chained on after the signed end", func(t *testing.T, f *fixture) ([]string, Options) {
			// A checkpoint signed with a key of the forger's own closes
			// nothing: the records after the real one stay unsigned.
			appendForged(t, f.trails[1], audit.Record{Event: audit.EventToolDenied, Tool: "delete_samples", Outcome: audit.OutcomeDenied}, 2)
			appendForgedCheckpoint(t, f.trails[1])
			return []string{syslogFile(t, f.dir, "messages", f.trails[1])}, f.opts
		}, []string{"unsigned-after-end@messages:7", "unsigned-after-end@messages:8", "checkpoint-unknown-key@messages:9", "unsigned-after-end@messages:9"}},
		{"unrecognised line", func(t *testing.T, f *fixture) ([]string, Options) {
			p := filepath.Join(f.dir, "junk")
			os.WriteFile(p, []byte("hello\n"), 0o600)
			return []string{p}, f.opts
		}, []string{"unrecognised-line@junk:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			paths, opts := tc.setup(t, f)
			rep := verify(t, opts, paths...)
			got := problems(rep)
			names := strings.NewReplacer("{t0}", filepath.Base(f.trails[0]), "{t1}", filepath.Base(f.trails[1]))
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = names.Replace(w)
			}
			if !slices.Equal(got, want) || !rep.Found() {
				t.Fatalf("problems %q, want %q\n%s", got, want, table(rep))
			}
		})
	}
}

func table(rep Report) string {
	var b strings.Builder
	rep.WriteTable(&b)
	return b.String()
}

// rewriteTrail rewrites record n (1-based) of a trail file and re-hashes
// the chain after it, as root on the workstation could.
func rewriteTrail(t *testing.T, path string, n int, edit func(*audit.Record)) {
	t.Helper()
	var out bytes.Buffer
	prev := ""
	for i, l := range trailLines(t, path) {
		var r audit.Record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		if i+1 == n {
			edit(&r)
		}
		if i > 0 {
			r.Prev = prev
		}
		r.Hash = audit.HashRecord(r)
		prev = r.Hash
		b, _ := r.MarshalJSON()
		out.Write(b)
		out.WriteByte('\n')
	}
	os.WriteFile(path, out.Bytes(), 0o600)
}

// appendForged appends n copies of r to the trail at path, each chained to
// the one before as the writer would.
func appendForged(t *testing.T, path string, r audit.Record, n int) {
	t.Helper()
	lines := trailLines(t, path)
	var last audit.Record
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for range n {
		r.V, r.Seq, r.Time, r.Session, r.User, r.Device = last.V, last.Seq+1, last.Time, last.Session, last.User, last.Device
		r.Prev = last.Hash
		r.Hash = audit.HashRecord(r)
		b, _ := r.MarshalJSON()
		f.Write(append(b, '\n'))
		last = r
	}
}

// appendForgedCheckpoint chains a checkpoint onto the trail at path,
// signed with a fresh key under the device's key name: what a forger
// with pipeline access can make.
func appendForgedCheckpoint(t *testing.T, path string) {
	t.Helper()
	lines := trailLines(t, path)
	var last audit.Record
	if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
		t.Fatal(err)
	}
	skey, _, err := note.GenerateKey(rand.Reader, audit.SignerName(last.Device))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	r := audit.Record{V: last.V, Seq: last.Seq + 1, Time: last.Time, Session: last.Session, Event: audit.EventCheckpoint,
		User: last.User, Device: last.Device, Client: last.Client, Transport: last.Transport, Prev: last.Hash}
	stmt := audit.CheckpointNote{Device: r.Device, Trail: audit.TrailID(path), Count: last.Seq, LastSeq: last.Seq, LastHash: last.Hash, Time: r.Time}
	msg, err := note.Sign(&note.Note{Text: stmt.Text()}, signer)
	if err != nil {
		t.Fatal(err)
	}
	r.Checkpoint = &audit.Checkpoint{Trail: stmt.Trail, Count: stmt.Count, LastSeq: stmt.LastSeq, LastHash: stmt.LastHash,
		Key: audit.KeyName(signer.Name(), signer.KeyHash()), Note: string(msg)}
	r.Hash = audit.HashRecord(r)
	b, _ := r.MarshalJSON()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(append(b, '\n'))
}

// An input that fails part-way, or a cancelled read, is an error; the
// verifier stays usable for the next input.
func TestReadErrorsLeaveTheVerifierUsable(t *testing.T) {
	f := newFixture(t)
	good := otlpFile(t, f.dir, "logs.jsonl", 1, f.trails...)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	v := New(f.opts)
	broken := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(errors.New("disk on fire")))
	if err := v.Read(context.Background(), "broken", broken); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("read error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.Read(ctx, "cancelled", bytes.NewReader(bytes.Repeat(data, 50))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	for range 10 {
		if err := v.Read(context.Background(), good, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if rep := v.Report(); rep.Totals.Records != 33 {
		t.Fatalf("totals %+v", rep.Totals)
	}
}

// A record that claims a huge seq (its hash is easy to compute) is a gap,
// not a reason to allocate the whole range.
func TestHugeSeq(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	for _, seq := range []int64{1, 40_000_000} {
		r := audit.Record{V: 1, Seq: seq, Session: "s", Event: audit.EventToolCall, Device: "d"}
		r.Hash = audit.HashRecord(r)
		b, _ := r.MarshalJSON()
		buf.Write(b)
		buf.WriteByte('\n')
	}
	p := filepath.Join(dir, "x-s.jsonl")
	os.WriteFile(p, buf.Bytes(), 0o600)
	rep := verify(t, Options{}, p)
	if got := problems(rep); !slices.Equal(got, []string{"seq-gap@x-s.jsonl:2"}) {
		t.Fatalf("problems %q", got)
	}
}

// TestHostileInput: input built to exhaust or confuse the reader is a
// problem on its line, never a crash, an error for the whole input or a
// clean verdict.
func TestHostileInput(t *testing.T) {
	const n = 200_000
	for _, tc := range []struct{ name, line string }{
		{"deeply nested OTLP", `{"resourceLogs":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"},
		{"deeply nested body value", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":` + strings.Repeat(`{"kvlistValue":{"values":[{"key":"a","value":`, n/10)},
		{"deeply nested record", `{"v":1,"seq":1,"args":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}"},
		{"many structured-data elements", `<13>1 - - - - - ` + strings.Repeat(`[a b="c"]`, n/10) + " x"},
		{"invalid UTF-8", "\xff\xfe" + strings.Repeat("\x00", 1000)},
		{"syslog line with a record that is not JSON", `<110>1 2026-12-05T08:00:00Z ws scispot-mcpd 1 tool.call [scispot@32473 trail="x" seq="1"] {"seq":1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := New(Options{})
			if err := v.Read(context.Background(), "hostile", strings.NewReader(tc.line+"\n")); err != nil {
				t.Fatalf("Read: %v", err)
			}
			rep := v.Report()
			if !rep.Found() || len(rep.Problems) == 0 || rep.Totals.Records != 0 {
				t.Errorf("report %+v, want a problem and no record", rep)
			}
		})
	}
}
