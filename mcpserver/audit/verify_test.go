package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lineOf returns the 1-based line holding byte pos (a newline belongs to the
// line it ends).
func lineOf(data []byte, pos int) int {
	return bytes.Count(data[:pos], []byte("\n")) + 1
}

func lines(data []byte) [][]byte {
	return bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

func TestVerifyIntactFiles(t *testing.T) {
	dir := t.TempDir()
	_, data := writeSession(t, dir, "ok", 3, true)
	if rep := verifyBytes(data); rep.Status != StatusOK || rep.Records != 5 || rep.Session != "ok" || len(rep.Issues) != 0 {
		t.Errorf("intact file: %s", rep)
	}
	rep, err := Verify(context.Background(), dir)
	if err != nil || !rep.OK() || rep.Err() != nil || rep.Totals != (Totals{Files: 1, Records: 5, OK: 1}) {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

func TestVerifyMissingFolder(t *testing.T) {
	rep, err := Verify(context.Background(), filepath.Join(t.TempDir(), "nope"))
	if err != nil || !rep.OK() || rep.Totals.Files != 0 {
		t.Errorf("Verify(missing) = %+v, %v", rep, err)
	}
}

// TestVerifyEverySingleByteEdit changes each byte of a small file in turn and
// expects the break to be reported at that byte's line.
func TestVerifyEverySingleByteEdit(t *testing.T) {
	_, data := writeSession(t, t.TempDir(), "edit", 2, true)
	v := newVerifier()
	for pos := range data {
		for _, repl := range []byte{data[pos] ^ 0x01, data[pos] ^ 0x20, '\n', ' ', '"', '0'} {
			if repl == data[pos] {
				continue
			}
			edited := bytes.Clone(data)
			edited[pos] = repl
			rep := verifyWith(v, edited)
			if rep.Status != StatusBroken {
				t.Fatalf("byte %d (line %d) %q -> %q: status %s, want broken (%s)", pos, lineOf(data, pos), data[pos], repl, rep.Status, rep)
			}
			if got, want := rep.Issues[0].Line, lineOf(data, pos); got != want {
				t.Fatalf("byte %d %q -> %q: break reported at line %d, want %d (%s)", pos, data[pos], repl, got, want, rep)
			}
		}
	}
}

func TestVerifyStructuralTampering(t *testing.T) {
	_, data := writeSession(t, t.TempDir(), "tamper", 4, true) // 6 lines
	ls := lines(data)
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	without := func(i int) []byte {
		var out [][]byte
		out = append(out, ls[:i]...)
		return join(append(out, ls[i+1:]...)...)
	}
	swapped := func(i, j int) []byte {
		c := make([][]byte, len(ls))
		copy(c, ls)
		c[i], c[j] = c[j], c[i]
		return join(c...)
	}
	// Keep the start of line 2 and the end of line 4: bytes cut from the middle.
	cutMiddle := join(ls[0], ls[1][:len(ls[1])/2], ls[3][len(ls[3])/2:], ls[4], ls[5])
	otherSession := func() []byte {
		_, other := writeSession(t, t.TempDir(), "other", 4, true)
		ol := lines(other)
		return join(ls[0], ls[1], ol[2], ls[3], ls[4], ls[5])
	}()
	sameRecordTwice := join(ls[0], ls[1], ls[1], ls[2], ls[3], ls[4], ls[5])

	tests := []struct {
		name    string
		data    []byte
		line    int
		problem Problem
	}{
		{"first line deleted", without(0), 1, ProblemSeq},
		{"middle line deleted", without(2), 3, ProblemSeq},
		{"lines swapped", swapped(2, 3), 3, ProblemSeq},
		{"first and second swapped", swapped(0, 1), 1, ProblemSeq},
		{"middle truncated", cutMiddle, 2, ProblemHash},
		{"line from another file", otherSession, 3, ProblemPrev},
		{"line duplicated", sameRecordTwice, 3, ProblemSeq},
		{"blank line inserted", join(ls[0], []byte("\n"), ls[1]), 2, ProblemJSON},
		{"garbage appended", join(data, []byte("{}\n")), 7, ProblemHash},
		{"crlf line ends", bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), 1, ProblemHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := verifyBytes(tt.data)
			if rep.Status != StatusBroken || len(rep.Issues) == 0 {
				t.Fatalf("status %s, want broken: %s", rep.Status, rep)
			}
			if is := rep.Issues[0]; is.Line != tt.line || is.Problem != tt.problem {
				t.Errorf("first break %+v, want line %d %s", is, tt.line, tt.problem)
			}
		})
	}
}

func TestVerifyIncomplete(t *testing.T) {
	_, ended := writeSession(t, t.TempDir(), "e", 2, true)
	_, running := writeSession(t, t.TempDir(), "r", 2, false)
	last := lines(ended)[3]

	// Every cut inside the last line (what a crash during a write leaves)
	// is incomplete, never broken.
	start := len(ended) - len(last)
	v := newVerifier()
	for cut := start + 1; cut < len(ended); cut++ {
		rep := verifyWith(v, ended[:cut])
		if rep.Status != StatusIncomplete {
			t.Fatalf("cut at byte %d: %s, want incomplete", cut, rep)
		}
		if is := rep.Issues[0]; is.Problem != ProblemTorn || is.Line != 4 {
			t.Fatalf("cut at byte %d: first issue %+v, want torn line 4", cut, is)
		}
	}

	tests := []struct {
		name     string
		data     []byte
		records  int
		problems []Problem
	}{
		{"no session.end", running, 3, []Problem{ProblemNoEnd}},
		{"torn session.end", ended[:len(ended)-10], 3, []Problem{ProblemTorn, ProblemNoEnd}},
		{"newline missing", ended[:len(ended)-1], 4, []Problem{ProblemTorn}},
		{"empty file", nil, 0, []Problem{ProblemEmpty}},
		{"only a torn line", ended[:20], 0, []Problem{ProblemTorn}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := verifyBytes(tt.data)
			if rep.Status != StatusIncomplete || rep.Records != tt.records {
				t.Fatalf("%s, want incomplete with %d records", rep, tt.records)
			}
			var got []Problem
			for _, is := range rep.Issues {
				got = append(got, is.Problem)
				if !is.Problem.Incomplete() {
					t.Errorf("issue %+v is not an incomplete-kind problem", is)
				}
			}
			if strings.Join(asStrings(got), ",") != strings.Join(asStrings(tt.problems), ",") {
				t.Errorf("problems %v, want %v", got, tt.problems)
			}
		})
	}
}

func asStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func TestVerifyFieldProblems(t *testing.T) {
	// Lines with a correct hash but wrong content: what a forger who does
	// not know the rules would produce, or a future format.
	seal := func(canonical string) []byte {
		line, _ := sealLine([]byte(canonical))
		return line
	}
	tests := []struct {
		name    string
		line    []byte
		problem Problem
	}{
		{"version 2", seal(`{"v":2,"seq":1,"time":"x","session":"s","event":"kill"}`), ProblemVersion},
		{"no v", seal(`{"seq":1,"session":"s","event":"kill"}`), ProblemField},
		{"seq fraction", seal(`{"v":1,"seq":1.5,"session":"s","event":"kill"}`), ProblemField},
		{"no session", seal(`{"v":1,"seq":1,"event":"kill"}`), ProblemField},
		{"event number", seal(`{"v":1,"seq":1,"session":"s","event":3}`), ProblemField},
		{"first links back", seal(`{"v":1,"seq":1,"session":"s","event":"kill","prev":"abc"}`), ProblemPrev},
		{"array", seal(`[1]`)[:0], ProblemJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.line
			if len(data) == 0 {
				data = []byte("[1]\n")
			}
			rep := verifyBytes(data)
			if rep.Status != StatusBroken || rep.Issues[0].Problem != tt.problem || rep.Issues[0].Line != 1 {
				t.Errorf("%s, want broken at line 1 with %s", rep, tt.problem)
			}
		})
	}
	ok := seal(`{"v":1,"seq":1,"time":"x","session":"s","event":"kill","prev":"` + zeroHash + `"}`)
	if rep := verifyBytes(ok); rep.Status != StatusOK {
		t.Errorf("zero prev on the first record: %s", rep)
	}
}

func TestVerifyReportAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "a-ok", 2, true)
	writeSession(t, dir, "b-running", 2, false)
	brokenPath, data := writeSession(t, dir, "c-broken", 2, true)
	data[len(data)/2] ^= 1
	if err := os.WriteFile(brokenPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Error("OK() with a broken file")
	}
	want := Totals{Files: 3, Records: 4 + 3, OK: 1, Broken: 1, Incomplete: 1}
	if rep.Totals.Files != want.Files || rep.Totals.OK != want.OK || rep.Totals.Broken != want.Broken || rep.Totals.Incomplete != want.Incomplete {
		t.Errorf("totals %+v, want %+v", rep.Totals, want)
	}
	err = rep.Err()
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), filepath.Base(brokenPath)) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("Err() = %v, want ErrTampered naming %s line 3", err, filepath.Base(brokenPath))
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report not JSON-encodable: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled ctx = %v", err)
	}
}

func TestVerifyUnreadableAndLongLines(t *testing.T) {
	long := append(bytes.Repeat([]byte("x"), maxLineBytes+10), '\n')
	if rep := verifyBytes(long); rep.Status != StatusBroken || rep.Issues[0].Problem != ProblemTooLong {
		t.Errorf("long line: %s", rep)
	}
	// A line longer than the reader's buffer but within the limit is read whole.
	r := Record{V: 1, Seq: 1, Session: "s", Event: EventRefused, Reason: strings.Repeat("r", 300<<10)}
	line, _ := sealLine(appendCanonical(nil, &r))
	if rep := verifyBytes(line); rep.Status != StatusOK {
		t.Errorf("300 KiB line: %s", rep)
	}
	rep, err := VerifyFile(context.Background(), filepath.Join(t.TempDir(), "gone.jsonl"))
	if err != nil || rep.Status != StatusUnreadable {
		t.Errorf("missing file: %s, %v", rep, err)
	}
}

func TestScannerMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{`{}`, `[]`, ` 1 `, `-0.5e+3`, `01`, `1.`, `"\u12"`, `"\ud800"`, `{"a":}`, `[1,]`,
		`tru`, `nulll`, "\"\x01\"", `"\/"`, `{"a":1}x`, ``, ` `, `-`, `1e`, `[[[]]]`} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid = %v", s, got, want)
		}
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `"x\u0041"`, `-1.5E-7`, `[`, `{"v":1,"seq":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
		var fl lineFields
		err := scanLine(b, &fl)
		isObject := json.Valid(b) && bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
		if (err == nil) != isObject {
			t.Fatalf("scanLine(%q) = %v, object=%v", b, err, isObject)
		}
	})
}

func FuzzVerifyFile(f *testing.F) {
	_, data := writeSession(f, f.TempDir(), "fuzz", 2, true)
	f.Add(data)
	f.Add(data[:len(data)-7])
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"v":1,"seq":1,"session":"s","event":"kill","hash":"zz"}` + "\n"))
	f.Add(bytes.ReplaceAll(data, []byte(`"seq":2`), []byte(`"seq":-2`)))
	if signed, err := os.ReadFile(filepath.Join("testdata", "signature.jsonl")); err == nil {
		f.Add(signed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep := verifyBytes(b)
		switch rep.Status {
		case StatusOK:
			if len(rep.Issues) != 0 {
				t.Fatalf("ok with issues: %s", rep)
			}
		case StatusBroken, StatusIncomplete:
			if len(rep.Issues) == 0 {
				t.Fatalf("%s without issues", rep.Status)
			}
		default:
			t.Fatalf("status %q", rep.Status)
		}
		// Read must survive the same bytes.
		if _, err := parseRecord(b); err != nil && errors.Is(err, ErrTampered) {
			t.Fatal("unexpected error kind")
		}
	})
}

// BenchmarkVerify verifies a folder of 8 files × 25,000 typical records.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	const files, each = 8, 25000
	var size int64
	for i := range files {
		path, _ := writeSession(b, dir, "bench"+itoa(i), each-2, true, withoutSync())
		st, _ := os.Stat(path)
		size += st.Size()
	}
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		rep, err := Verify(ctx, dir)
		if err != nil || !rep.OK() || rep.Totals.Records != files*each {
			b.Fatalf("Verify = %+v, %v", rep.Totals, err)
		}
	}
	b.ReportMetric(float64(files*each*b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkVerifyFile is the single-core figure.
func BenchmarkVerifyFile(b *testing.B) {
	path, _ := writeSession(b, b.TempDir(), "bench", 100000-2, true, withoutSync())
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if rep, err := VerifyFile(ctx, path); err != nil || rep.Status != StatusOK {
			b.Fatalf("VerifyFile = %s, %v", rep, err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/time.Since(start).Seconds(), "records/s")
}
