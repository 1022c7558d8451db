package audit

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// interleaved writes two sessions whose records alternate in time.
func interleaved(t *testing.T, dir string) []Record {
	t.Helper()
	clock := newFakeClock()
	a, err := Open(dir, testInfo("a"), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(dir, testInfo("b"), WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var all []Record
	for i := range 3 {
		all = append(all, mustAppend(t, a, callRecord(i)))
		all = append(all, mustAppend(t, b, callRecord(10+i)))
	}
	a.Close()
	b.Close()
	return all
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	all := interleaved(t, dir)
	ctx := context.Background()
	tests := []struct {
		name string
		f    Filter
		want []Record
	}{
		{"all in time order", Filter{}, all},
		{"since inclusive", Filter{Since: all[2].Time}, all[2:]},
		{"until exclusive", Filter{Until: all[2].Time}, all[:2]},
		{"window", Filter{Since: all[1].Time, Until: all[4].Time}, all[1:4]},
		{"latest", Filter{Limit: 2}, all[4:]},
		{"session", Filter{Session: "b"}, []Record{all[1], all[3], all[5]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(ctx, dir, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
		})
	}
	if got, err := Read(ctx, filepath.Join(dir, "missing"), Filter{}); err != nil || len(got) != 0 {
		t.Errorf("Read(missing folder) = %v, %v", got, err)
	}
}

func TestReadSkipsBadLines(t *testing.T) {
	dir := t.TempDir()
	path, data := writeSession(t, dir, "s", 2, false)
	// A garbage line in the middle and a torn line at the end.
	lines := strings.SplitAfter(string(data), "\n")
	bad := lines[0] + "not json\n" + strings.Join(lines[1:], "") + `{"v":1,"seq":4,"ti`
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), dir, Filter{})
	if !errors.Is(err, ErrUnreadable) {
		t.Errorf("Read error = %v, want ErrUnreadable", err)
	}
	if len(got) != 3 {
		t.Errorf("Read returned %d records, want the 3 good ones", len(got))
	}
}

// TestExportGolden also pins the canonical encoding: export.jsonl holds the
// exact bytes and hashes the writer produced. If this test fails after a
// change to hash.go, the change breaks every audit file ever written.
func TestExportGolden(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, testInfo("golden"), WithClock(newFakeClock().Now), WithSecrets(testToken))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
	mustAppend(t, w, Record{Event: EventToolCall, Tool: "search_samples",
		Args: []byte(`{"query":"=HYPERLINK(\"x\")","fields":["a","b"],"api_key":"k"}`), Outcome: OutcomeOK,
		DurationMS: 41, ResultBytes: 204800, Flags: []string{FlagInjectionSuspect, "result-redacted"}})
	mustAppend(t, w, Record{Event: EventToolDenied, Tool: "delete_sample", Outcome: OutcomeDenied,
		Reason: "-policy: write tools are not allowed, ask your admin"})
	mustAppend(t, w, Record{Event: EventSessionEnd, Reason: "stopped by kill switch"})
	w.Close()
	recs, err := Read(context.Background(), dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []Format{FormatCSV, FormatJSONL} {
		t.Run(string(format), func(t *testing.T) {
			var sb strings.Builder
			if err := Export(&sb, recs, format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "export."+string(format))
			if *update {
				if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), sb.String()); diff != "" {
				t.Errorf("export differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
	// The JSONL export is the file itself: it still verifies.
	var sb strings.Builder
	Export(&sb, recs, FormatJSONL)
	if rep := verifyBytes([]byte(sb.String())); rep.Status != StatusOK {
		t.Errorf("exported JSONL does not verify: %s", rep)
	}
	if err := Export(&sb, recs, "xml"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Export(xml) = %v, want ErrUnknownFormat", err)
	}
}

func TestFormatLine(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 15, 0, 123456789, time.UTC)
	client := Client{Name: "Claude Desktop", Version: "0.9.2"}
	tests := []struct {
		name string
		r    Record
		want string
	}{
		{"call", Record{Time: at, User: "alice", Client: client, Event: EventToolCall, Tool: "list_samples",
			Outcome: OutcomeOK, DurationMS: 12, ResultBytes: 3481, Flags: []string{FlagInjectionSuspect}},
			"2026-11-24 10:15:00.123  alice  Claude Desktop 0.9.2  list_samples  ok  12ms  3.4 KB  [injection-suspect]"},
		{"denied", Record{Time: at, User: "bob", Event: EventToolDenied, Tool: "delete_sample", Outcome: OutcomeDenied,
			Reason: "not allowed"},
			"2026-11-24 10:15:00.123  bob  -  tool.denied delete_sample  denied  not allowed"},
		{"kill", Record{Time: at, User: "bob", Event: EventKill},
			"2026-11-24 10:15:00.123  bob  -  kill  -"},
		{"escape codes", Record{Time: at, User: "eve\x1b[2J", Event: EventToolCall, Tool: "x\ny", Outcome: OutcomeError, DurationMS: 5000, ResultBytes: 3 << 20},
			"2026-11-24 10:15:00.123  eve?[2J  -  x?y  error  5000ms  3.0 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatLine(tt.r, nil); got != tt.want {
				t.Errorf("FormatLine\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err == nil {
		if got := FormatLine(Record{Time: at, Event: EventKill}, paris); !strings.HasPrefix(got, "2026-11-24 11:15:00.123") {
			t.Errorf("FormatLine in Paris = %q", got)
		}
	}
}
