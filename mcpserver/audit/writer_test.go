package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAppendFillsRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	w, err := Open(dir, testInfo("s1"), WithClock(newFakeClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
	second := mustAppend(t, w, Record{
		Event: EventToolCall, Tool: "get_sample", Args: json.RawMessage(`{"id": "S-1"}`),
		Outcome: OutcomeOK, DurationMS: 3, ResultBytes: 10, Flags: []string{FlagInjectionSuspect},
		// Filled by the writer whatever the caller says:
		Seq: 99, Prev: "x", Hash: "y", Session: "other", PID: 1, V: 7,
	})

	want := Record{
		V: 1, Seq: 2, Time: time.Date(2026, 11, 24, 10, 15, 0, 126456789, time.UTC),
		Session: "s1", Event: EventToolCall, PID: 4242, User: "alice", Device: "dev-5c1e0f",
		Token: "0a1b2c3d4e5f", Client: Client{Name: "claude-ai", Version: "0.9.2"},
		Transport: TransportStdio, Tool: "get_sample", Args: json.RawMessage(`{"id":"S-1"}`),
		Outcome: OutcomeOK, DurationMS: 3, ResultBytes: 10, Flags: []string{FlagInjectionSuspect},
		Prev: first.Hash, Hash: second.Hash,
	}
	if diff := cmp.Diff(want, second); diff != "" {
		t.Errorf("appended record (-want +got):\n%s", diff)
	}
	if first.Seq != 1 || first.Prev != "" {
		t.Errorf("first record seq=%d prev=%q, want 1 and empty", first.Seq, first.Prev)
	}
	if got := HashRecord(second); got != second.Hash {
		t.Errorf("HashRecord = %s, record hash %s", got, second.Hash)
	}

	// The file holds exactly the records' canonical lines, and decoding a
	// line gives the record back.
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, rec := range []Record{first, second} {
		enc, _ := rec.MarshalJSON()
		if !bytes.Equal(lines[i], enc) {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], enc)
		}
		back, err := parseRecord(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(rec, back); diff != "" {
			t.Errorf("line %d decoded (-want +got):\n%s", i+1, diff)
		}
	}
	if !bytes.Contains(lines[1], []byte(`"time":"2026-11-24T10:15:00.126456789Z"`)) {
		t.Errorf("time not in canonical form: %s", lines[1])
	}
}

func TestOpenFileNameAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "audit")
	w, err := Open(dir, SessionInfo{}, WithClock(newFakeClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	name := filepath.Base(w.Path())
	if !regexp.MustCompile(`^20261124T101500\.124Z-[0-9a-f]{16}\.jsonl$`).MatchString(name) {
		t.Errorf("file name %q does not follow <time>-<session>.jsonl", name)
	}
	if w.Session() == "" || name != "20261124T101500.124Z-"+w.Session()+".jsonl" {
		t.Errorf("session %q not in file name %q", w.Session(), name)
	}
	r := mustAppend(t, w, Record{Event: EventSessionStart})
	if r.PID != os.Getpid() {
		t.Errorf("pid = %d, want this process %d", r.PID, os.Getpid())
	}
	if runtime.GOOS == "windows" {
		return
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, w.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", path, got, want)
		}
	}
}

func TestOpenTightensLooseFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not protect folders on Windows")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, SessionInfo{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode = %v, want 0700", st.Mode().Perm())
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		info SessionInfo
		opts []Option
		want error
	}{
		{"path in session", SessionInfo{Session: "../x"}, nil, ErrInvalidSession},
		{"slash in session", SessionInfo{Session: "a/b"}, nil, ErrInvalidSession},
		{"long session", SessionInfo{Session: string(bytes.Repeat([]byte("a"), 65))}, nil, ErrInvalidSession},
		{"nil clock", SessionInfo{}, []Option{WithClock(nil)}, ErrInvalidOption},
		{"empty secret", SessionInfo{}, []Option{WithSecrets("tok", "")}, ErrInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Open(dir, tt.info, tt.opts...)
			if !errors.Is(err, tt.want) {
				if w != nil {
					w.Close()
				}
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
		})
	}
	// The same session twice would share a file: refused.
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	w, err := Open(dir, SessionInfo{Session: "dup"}, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := Open(dir, SessionInfo{Session: "dup"}, WithClock(clock)); !errors.Is(err, os.ErrExist) {
		t.Errorf("second Open of the same file: %v, want os.ErrExist", err)
	}
}

func TestAppendRejectsInvalidRecord(t *testing.T) {
	mf := &memFile{}
	w, err := Open(t.TempDir(), testInfo("s"), withFile(mf))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{{Event: "tool.called"}, {}, {Event: EventToolCall, Outcome: "maybe"}} {
		if _, err := w.Append(context.Background(), r); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("Append(%+v) = %v, want ErrInvalidRecord", r, err)
		}
	}
	if len(mf.bytes()) != 0 {
		t.Errorf("rejected records were written: %q", mf.bytes())
	}
}

func TestAppendSyncsBeforeReturning(t *testing.T) {
	mf := &memFile{}
	w, err := Open(t.TempDir(), testInfo("s"), withFile(mf))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		mustAppend(t, w, callRecord(i))
		if mf.unsynced != 0 || mf.syncs != i+1 {
			t.Fatalf("after append %d: %d unsynced writes, %d syncs", i+1, mf.unsynced, mf.syncs)
		}
	}
	if err := w.Close(); err != nil || !mf.closed {
		t.Fatalf("Close: %v, closed=%v", err, mf.closed)
	}
	if _, err := w.Append(context.Background(), callRecord(9)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if rep := verifyBytes(mf.bytes()); rep.Status != StatusOK || rep.Records != 5 {
		t.Errorf("verify = %s", rep)
	}
}

func TestAppendWriteFailureCutsBack(t *testing.T) {
	mf := &memFile{}
	w, err := Open(t.TempDir(), testInfo("s"), withFile(mf))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, callRecord(0))
	diskFull := errors.New("no space left on device")
	mf.failWrite = func(p []byte) (int, error) { return len(p) / 2, diskFull }
	if _, err := w.Append(context.Background(), callRecord(1)); !errors.Is(err, diskFull) || errors.Is(err, ErrWriterFailed) {
		t.Fatalf("Append on a failing disk = %v, want the disk error only", err)
	}
	mf.failWrite = nil
	r := mustAppend(t, w, callRecord(2))
	if r.Seq != 2 {
		t.Errorf("seq after a failed append = %d, want 2 (the failed record took no number)", r.Seq)
	}
	if rep := verifyBytes(mf.bytes()); rep.Status != StatusOK || rep.Records != 2 {
		t.Errorf("verify after cut-back = %s", rep)
	}
}

func TestAppendSyncFailureIsSticky(t *testing.T) {
	mf := &memFile{}
	w, err := Open(t.TempDir(), testInfo("s"), withFile(mf))
	if err != nil {
		t.Fatal(err)
	}
	mf.failSync = errors.New("EIO")
	if _, err := w.Append(context.Background(), callRecord(0)); !errors.Is(err, ErrWriterFailed) {
		t.Fatalf("Append with failing fsync = %v, want ErrWriterFailed", err)
	}
	mf.failSync = nil
	if _, err := w.Append(context.Background(), callRecord(1)); !errors.Is(err, ErrWriterFailed) {
		t.Fatalf("Append after a failed fsync = %v, want ErrWriterFailed", err)
	}
}

func TestAppendKeepsTokenOut(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, testInfo("s"), WithSecrets(testToken))
	if err != nil {
		t.Fatal(err)
	}
	records := []Record{
		{Event: EventToolCall, Tool: "list_samples", Args: json.RawMessage(`{"q":"` + testToken + `"}`)},
		{Event: EventToolCall, Tool: "x", Args: json.RawMessage(`{"nested":[{"note":"Bearer ` + testToken + ` please"}]}`)},
		{Event: EventToolCall, Tool: "x", Args: json.RawMessage(`{"` + testToken + `":1}`)},
		{Event: EventToolCall, Tool: "x", Args: json.RawMessage(`not json ` + testToken)},
		{Event: EventToolCall, Tool: "x", Args: json.RawMessage(`{"big":"` + string(bytes.Repeat([]byte("y"), 10000)) + testToken + `"}`)},
		{Event: EventRefused, Outcome: OutcomeError, Reason: "upstream said: bad token " + testToken},
		{Event: EventTokenSet, Token: testToken},
		{Event: EventToolCall, Tool: testToken, Flags: []string{testToken}, Client: Client{Name: testToken}},
	}
	for _, r := range records {
		mustAppend(t, w, r)
	}
	w.Close()
	if _, err := AppendOnce(context.Background(), dir, SessionInfo{Token: testToken}, Record{Event: EventKill, Reason: testToken}, WithSecrets(testToken)); err != nil {
		t.Fatal(err)
	}
	for _, path := range auditFiles(t, dir) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(testToken)) {
			t.Errorf("%s contains the token:\n%s", filepath.Base(path), data)
		}
	}
	rep, err := Verify(context.Background(), dir)
	if err != nil || rep.Totals.Broken != 0 || rep.Totals.Records != len(records)+1 {
		t.Errorf("Verify = %+v, %v", rep.Totals, err)
	}
}

// TestAppendKeepsTokenShapesOut: a word shaped like a Scispot token is
// never written, whether or not the writer knows it as the session's
// token (another person's token an AI pasted into arguments, a token a
// hostile upstream echoed into an error), and a reason keeps its sentence.
func TestAppendKeepsTokenShapesOut(t *testing.T) {
	const other = "sst_live_0123456789abcdef"
	w, err := Open(t.TempDir(), testInfo("s"), withFile(&memFile{}))
	if err != nil {
		t.Fatal(err)
	}
	r := mustAppend(t, w, Record{Event: EventToolCall, Tool: "x",
		Args:   json.RawMessage(`{"note":"use ` + other + `","n":1}`),
		Reason: "Scispot said: your token " + other + " is wrong.",
		Flags:  []string{other}})
	if got := string(r.Args); got != `{"n":1,"note":"[redacted]"}` {
		t.Errorf("args = %s", got)
	}
	if r.Reason != "Scispot said: your token [redacted] is wrong." {
		t.Errorf("reason = %q", r.Reason)
	}
	if len(r.Flags) != 1 || r.Flags[0] != Redacted {
		t.Errorf("flags = %q", r.Flags)
	}
}

func TestAppendCapsFields(t *testing.T) {
	mf := &memFile{}
	w, err := Open(t.TempDir(), testInfo("s"), withFile(mf))
	if err != nil {
		t.Fatal(err)
	}
	long := string(bytes.Repeat([]byte("é"), 5000))
	flags := make([]string, 100)
	for i := range flags {
		flags[i] = "f"
	}
	r := mustAppend(t, w, Record{Event: EventRefused, Reason: long, Tool: long, Flags: flags})
	if len(r.Reason) > maxReasonBytes || len(r.Tool) > maxFieldBytes || len(r.Flags) != maxFlags {
		t.Errorf("caps not applied: reason %d, tool %d, flags %d", len(r.Reason), len(r.Tool), len(r.Flags))
	}
	if !bytes.HasSuffix([]byte(r.Reason), []byte(cutMarker)) {
		t.Errorf("cut reason not marked")
	}
	if rep := verifyBytes(mf.bytes()); rep.Status != StatusOK {
		t.Errorf("verify = %s", rep)
	}
}

func TestAppendOnce(t *testing.T) {
	dir := t.TempDir()
	r, err := AppendOnce(context.Background(), dir, testInfo(""), Record{Event: EventKill, Reason: "lunch", Transport: TransportCLI})
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 1 || r.Session == "" || r.Transport != TransportCLI {
		t.Errorf("one-shot record = %+v", r)
	}
	rep, err := Verify(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 || rep.Files[0].Status != StatusOK {
		t.Errorf("a one-shot file must verify ok (it has no session.start): %+v", rep.Files)
	}
}

func TestConcurrentAppendsOneWriter(t *testing.T) {
	dir := t.TempDir()
	// fsync is not what this test is about; 4000 of them would take seconds.
	w, err := Open(dir, testInfo("s"), withoutSync())
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 20, 200
	var wg sync.WaitGroup
	seqs := make([][]int64, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r, err := w.Append(context.Background(), callRecord(g*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs[g] = append(seqs[g], r.Seq)
			}
		})
	}
	wg.Wait()
	w.Close()
	var all []int64
	for _, s := range seqs {
		if !slices.IsSorted(s) {
			t.Errorf("one goroutine's seqs are not increasing")
		}
		all = append(all, s...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i, s := range all {
		if s != int64(i+1) {
			t.Fatalf("seq %d at position %d: not gapless", s, i)
		}
	}
	rep, err := VerifyFile(context.Background(), w.Path())
	if err != nil || rep.Status != StatusOK || rep.Records != goroutines*each {
		t.Errorf("VerifyFile = %s, %v", rep, err)
	}
}

func TestConcurrentWritersOneFolder(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			w, err := Open(dir, testInfo(fmt.Sprintf("w%d", i)))
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			for j := range each {
				if _, err := w.Append(context.Background(), callRecord(j)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	rep, err := Verify(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Totals.Files != writers || rep.Totals.OK != writers || rep.Totals.Records != writers*each {
		t.Errorf("Verify totals = %+v", rep.Totals)
	}
}

func TestCanonicalEncodingMatchesEncodingJSON(t *testing.T) {
	// Whatever a string holds, the canonical line decodes to the record,
	// and re-encoding the decoded record gives the same bytes.
	strs := []string{"", "plain", `quo"te\back`, "nl\n\r\t\b\f", "\x00\x01\x1f\x7f", "<>&", "é ü 漢字 🧪",
		"\u2028\u2029", "bad \xff\xfe utf8", "\ufffd"}
	for _, s := range strs {
		r := Record{V: 1, Seq: 1, Time: time.Unix(0, 1).UTC(), Session: "s", Event: EventToolCall, Reason: s, Tool: s,
			Rule: s, Client: Client{Name: s, Exe: s, Signer: s}, Flags: []string{s}}
		r.Hash = HashRecord(r)
		line, _ := r.MarshalJSON()
		if !json.Valid(line) {
			t.Fatalf("invalid JSON for %q: %s", s, line)
		}
		back, err := parseRecord(line)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(line, again) {
			t.Errorf("round trip of %q:\n%s\n%s", s, line, again)
		}
		if rep := verifyBytes(append(line, '\n')); rep.Status != StatusOK {
			t.Errorf("verify of %q: %s", s, rep)
		}
	}
}

// TestEarlierLinesEncodeAsBefore: members added later (client exe and
// signer, rule) are omitted when empty, so a line written before them still
// verifies and re-encodes byte for byte.
func TestEarlierLinesEncodeAsBefore(t *testing.T) {
	const line = `{"v":1,"seq":1,"time":"2026-11-20T10:00:00.000000000Z","session":"a1","event":"tool.call","pid":7,"user":"jane","client":{"name":"claude-ai","version":"1.0"},"tool":"list_labsheets","outcome":"ok","duration_ms":3,"hash":"`
	r, err := parseRecord([]byte(line + `x"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Hash = ""
	canon, _ := r.MarshalJSON()
	if want := strings.TrimSuffix(line, `,"hash":"`) + "}"; string(canon) != want {
		t.Fatalf("re-encoded:\n%s\nwant\n%s", canon, want)
	}
}

func FuzzCanonicalString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff", "\u2028", "🧪"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, enc, err)
		}
		if want := []rune(s); string(want) != back {
			t.Fatalf("decoded %q, want %q", back, string(want))
		}
		if again := appendString(nil, back); !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding differs: %s vs %s", again, enc)
		}
	})
}

// BenchmarkAppend measures one fsync'd append; p50 and p99 are reported.
func BenchmarkAppend(b *testing.B) {
	w, err := Open(b.TempDir(), testInfo("bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	r := callRecord(1)
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := w.Append(ctx, r); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat, "append")
}

func reportPercentiles(b *testing.B, lat []time.Duration, what string) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(p(0.50), what+"-p50-µs")
	b.ReportMetric(p(0.99), what+"-p99-µs")
}
