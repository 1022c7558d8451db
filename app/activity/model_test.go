package activity_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scispot/mcp-desktop/app/activity"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// call makes a tool.call record; seq numbers are per session.
func call(session string, seq int64, at time.Time, client, tool string, outcome audit.Outcome) audit.Record {
	return audit.Record{
		V: 1, Seq: seq, Time: at, Session: session, Event: audit.EventToolCall,
		Client: audit.Client{Name: client, Version: "1.0"}, Tool: tool,
		Args: json.RawMessage(`{"query":"plasmid"}`), Outcome: outcome, DurationMS: 12, ResultBytes: 3400,
	}
}

func tools(m *activity.Model) []string {
	var out []string
	for i := range m.Len() {
		r, _ := m.Record(i)
		out = append(out, r.Tool)
	}
	return out
}

func sample() []audit.Record {
	denied := call("s2", 2, t0.Add(3*time.Second), "Cursor", "create_sample", audit.OutcomeDenied)
	denied.Event = audit.EventToolDenied
	denied.Reason = "write tools are not allowed by policy"
	flagged := call("s1", 3, t0.Add(4*time.Second), "Claude Desktop", "get_protocol", audit.OutcomeOK)
	flagged.Flags = []string{audit.FlagInjectionSuspect}
	return []audit.Record{
		{V: 1, Seq: 1, Time: t0, Session: "s1", Event: audit.EventSessionStart},
		call("s1", 2, t0.Add(time.Second), "Claude Desktop", "list_samples", audit.OutcomeOK),
		{V: 1, Seq: 1, Time: t0.Add(2 * time.Second), Session: "s2", Event: audit.EventSessionStart},
		denied,
		flagged,
		call("s2", 3, t0.Add(5*time.Second), "Cursor", "search_inventory", audit.OutcomeError),
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name   string
		filter activity.Filter
		want   []string
	}{
		{"all newest first", activity.Filter{}, []string{"search_inventory", "get_protocol", "create_sample", "list_samples"}},
		{"outcome ok", activity.Filter{Outcome: audit.OutcomeOK}, []string{"get_protocol", "list_samples"}},
		{"outcome denied", activity.Filter{Outcome: audit.OutcomeDenied}, []string{"create_sample"}},
		{"client", activity.Filter{Client: "Cursor"}, []string{"search_inventory", "create_sample"}},
		{"text tool", activity.Filter{Text: "SAMPLE"}, []string{"create_sample", "list_samples"}},
		{"text args", activity.Filter{Text: "plasmid", Client: "Claude Desktop"}, []string{"get_protocol", "list_samples"}},
		{"text reason", activity.Filter{Text: "by policy"}, []string{"create_sample"}},
		{"text flag", activity.Filter{Text: "injection"}, []string{"get_protocol"}},
		{"nothing", activity.Filter{Text: "zebrafish"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := activity.NewModel(0, time.UTC)
			m.SetFilter(tt.filter)
			if n := m.Add(sample()...); n != 4 {
				t.Fatalf("Add = %d rows, want 4", n)
			}
			if diff := cmp.Diff(tt.want, tools(m)); diff != "" {
				t.Errorf("filter set before Add (-want +got):\n%s", diff)
			}
			m2 := activity.NewModel(0, time.UTC)
			m2.Add(sample()...)
			m2.SetFilter(tt.filter)
			if diff := cmp.Diff(tt.want, tools(m2)); diff != "" {
				t.Errorf("filter set after Add (-want +got):\n%s", diff)
			}
			if m2.Total() != 4 {
				t.Errorf("Total = %d, want 4", m2.Total())
			}
		})
	}
}

func TestAddSkipsDuplicatesAndOtherEvents(t *testing.T) {
	m := activity.NewModel(0, time.UTC)
	m.Add(sample()...)
	// The feed repeats what the history read already had, then goes on.
	if n := m.Add(append(sample(), call("s1", 4, t0.Add(6*time.Second), "Claude Desktop", "list_projects", audit.OutcomeOK))...); n != 1 {
		t.Errorf("Add of overlap = %d rows, want 1", n)
	}
	if got := tools(m)[0]; got != "list_projects" {
		t.Errorf("newest = %q, want list_projects", got)
	}
	if diff := cmp.Diff([]string{"Claude Desktop", "Cursor"}, m.Clients()); diff != "" {
		t.Errorf("Clients (-want +got):\n%s", diff)
	}
}

func TestTenThousandRowsAndCap(t *testing.T) {
	tests := []struct {
		name      string
		max, add  int
		wantTotal int
	}{
		{"10k under default cap", 0, 10_000, 10_000},
		{"cap keeps newest", 1000, 10_000, 1000},
		{"exactly cap", 500, 500, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := activity.NewModel(tt.max, time.UTC)
			m.SetFilter(activity.Filter{Text: "tool-"})
			for i := range tt.add {
				m.Add(call("s", int64(i+1), t0.Add(time.Duration(i)*time.Millisecond), "c", fmt.Sprintf("tool-%d", i), audit.OutcomeOK))
			}
			if m.Total() != tt.wantTotal || m.Len() != tt.wantTotal {
				t.Fatalf("Total, Len = %d, %d; want %d", m.Total(), m.Len(), tt.wantTotal)
			}
			first, _ := m.Record(0)
			last, _ := m.Record(m.Len() - 1)
			if want := fmt.Sprintf("tool-%d", tt.add-1); first.Tool != want {
				t.Errorf("row 0 = %s, want %s", first.Tool, want)
			}
			if want := fmt.Sprintf("tool-%d", tt.add-tt.wantTotal); last.Tool != want {
				t.Errorf("last row = %s, want %s", last.Tool, want)
			}
			if _, ok := m.Record(m.Len()); ok {
				t.Error("Record past the end is ok")
			}
			if got := len(m.Visible()); got != tt.wantTotal {
				t.Errorf("Visible = %d records", got)
			}
			// Refiltering after the ring wrapped sees only kept rows.
			m.SetFilter(activity.Filter{Text: "tool-0"})
			for i := range m.Len() {
				if r, _ := m.Record(i); !strings.Contains(r.Tool, "tool-0") {
					t.Fatalf("row %d = %s", i, r.Tool)
				}
			}
		})
	}
}

func TestChart(t *testing.T) {
	m := activity.NewModel(0, time.UTC)
	now := t0.Add(90*time.Minute + 30*time.Second)
	var recs []audit.Record
	seq := int64(0)
	add := func(at time.Time, o audit.Outcome) {
		seq++
		recs = append(recs, call("s", seq, at, "c", "t", o))
	}
	add(now.Add(-2*time.Hour), audit.OutcomeOK)        // too old
	add(now.Add(-59*time.Minute), audit.OutcomeOK)     // first bucket
	add(now.Add(-30*time.Minute), audit.OutcomeDenied) // middle
	add(now.Add(-10*time.Second), audit.OutcomeOK)     // this minute
	add(now.Add(-5*time.Second), audit.OutcomeError)   // counts as ran
	add(now.Add(-1*time.Second), audit.OutcomeDenied)  // denied, this minute
	m.Add(recs...)
	b := m.Chart(now)
	if len(b) != activity.ChartMinutes {
		t.Fatalf("%d buckets", len(b))
	}
	last := b[len(b)-1]
	if !last.Start.Equal(now.Truncate(time.Minute)) || last.OK != 2 || last.Denied != 1 {
		t.Errorf("last bucket = %+v", last)
	}
	if b[0].OK != 1 {
		t.Errorf("first bucket = %+v", b[0])
	}
	total := 0
	for _, x := range b {
		total += x.OK + x.Denied
	}
	if total != 5 {
		t.Errorf("chart counts %d calls, want 5", total)
	}
}

func TestDetails(t *testing.T) {
	m := activity.NewModel(0, time.UTC)
	r := sample()[4]
	r.Token, r.Device, r.User, r.PID, r.Hash = "0123456789ab", "dev-1", "alice", 4242, strings.Repeat("f", 64)
	got := map[string]string{}
	for _, f := range m.Details(r, "") {
		got[f.Label] = f.Value
	}
	want := map[string]string{
		"Time":              "2026-11-24 10:00:04.000 UTC",
		"Tool":              "get_protocol",
		"Outcome":           "ok",
		"AI client":         "Claude Desktop 1.0",
		"Duration":          "12 ms",
		"Result size":       "3.4 KB",
		"Flags":             "injection-suspect",
		"Arguments":         "{\n  \"query\": \"plasmid\"\n}",
		"User":              "alice",
		"Session":           "s1",
		"Process":           "4242",
		"Device":            "dev-1",
		"Token fingerprint": "0123456789ab",
		"Record":            "seq 3, hash ffffffffffffffff…",
		"Audit chain":       "checking…",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Details (-want +got):\n%s", diff)
	}
}

func TestDetailsOfASignedWrite(t *testing.T) {
	m := activity.NewModel(0, time.UTC)
	r := sample()[4]
	r.Signature = &audit.Signature{ID: strings.Repeat("a", 32), Record: strings.Repeat("b", 64)}
	r.Change = &audit.Change{Before: audit.NewValue(`{"Status":"Active"}`), After: audit.NewValue(strings.Repeat("x", 5000))}
	got := map[string]string{}
	for _, f := range m.Details(r, "") {
		got[f.Label] = f.Value
	}
	if !strings.Contains(got["Signature"], "record bbbbbbbbbbbbbbbb") || got["Previous value"] != `{"Status":"Active"}` ||
		!strings.Contains(got["New value"], "SHA-256 "+r.Change.After.SHA256) {
		t.Errorf("details = %v", got)
	}
}

func TestCellsAndSummary(t *testing.T) {
	m := activity.NewModel(0, time.UTC)
	denied := sample()[3]
	denied.Outcome, denied.DurationMS, denied.ResultBytes = "", 0, 0
	tests := []struct {
		name string
		r    audit.Record
		want []string
	}{
		{"ok", sample()[1], []string{"10:00:01", "Claude Desktop", "list_samples", `query="plasmid"`, "ok", "12 ms", "3.4 KB", ""}},
		{"denied without outcome", denied, []string{"10:00:03", "Cursor", "create_sample", `query="plasmid"`, "denied", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, m.Cells(tt.r)); diff != "" {
				t.Errorf("Cells (-want +got):\n%s", diff)
			}
		})
	}
	sums := []struct{ in, want string }{
		{`{"b":1,"a":"x\ny"}`, `a="x\ny" b=1`},
		{`not json` + "\x1b[2J", "not json [2J"},
		{`{"q":"` + strings.Repeat("a", 100) + `"}`, `q="` + strings.Repeat("a", 16) + "…"},
	}
	for _, s := range sums {
		if got := activity.ArgSummary(json.RawMessage(s.in), 20); got != s.want {
			t.Errorf("ArgSummary(%q) = %q, want %q", s.in, got, s.want)
		}
	}
}

func FuzzArgSummary(f *testing.F) {
	f.Add([]byte(`{"a":1}`), 10)
	f.Add([]byte("\x00\xff"), 3)
	f.Add([]byte(`"ünïcødé strings are cut by rune"`), 5)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 1000 {
			return
		}
		s := activity.ArgSummary(b, max)
		if n := len([]rune(s)); n > max {
			t.Errorf("summary has %d runes, max %d", n, max)
		}
		if strings.ContainsAny(s, "\x00\n\r\x1b") {
			t.Errorf("control characters in %q", s)
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	m := activity.NewModel(activity.DefaultMaxRows, time.UTC)
	for i := 0; b.Loop(); i++ {
		m.Add(call("s", int64(i+1), t0, "c", "t", audit.OutcomeOK))
	}
}
