package validation

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func sampleReport() *Report {
	at := time.Date(2026, 12, 5, 9, 15, 0, 0, time.UTC)
	by := Executor{Account: "qa", Operator: "Dana Reviewer"}
	r := &Report{
		DocID:       "VAL-labpc07-20261205T091500Z",
		Generated:   at,
		Workstation: Workstation{Device: "d3adb33f", Hostname: "labpc07", OS: "linux", Arch: "amd64", AppVersion: "1.4.0"},
		ExecutedBy:  by,
		IQ: []Case{{ID: "IQ-01", Title: "Installed files match SHA256SUMS", Requirements: []string{"REQ-P11-03"},
			Steps: []string{"hash every installed file"}, Expected: "all match", Actual: "12 files match", Result: Pass,
			Evidence: []Evidence{{Name: "files", Value: "12"}}, ExecutedBy: by, Time: at}},
		OQ: []Case{
			{ID: "OQ-01", Title: "Hidden tool refused", Requirements: []string{"REQ-POL-05", "REQ-P11-01"}, Result: Pass, ExecutedBy: by, Time: at},
			{ID: "OQ-02", Title: "Fleet delivery", Requirements: []string{"REQ-POL-06"}, Result: Skip, ExecutedBy: by, Time: at},
		},
		PQ: []Case{{ID: "PQ-01", Title: "Lab scenario", Requirements: []string{}}},
	}
	r.Summary = Summarize(r.IQ, r.OQ)
	return r
}

func TestReportJSONShape(t *testing.T) {
	b, err := sampleReport().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The keys design.md promises to scripts.
	var doc struct {
		IQ      []map[string]any `json:"iq"`
		OQ      []map[string]any `json:"oq"`
		Summary map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(doc.IQ, doc.OQ...) {
		for _, k := range []string{"id", "requirements", "result", "steps", "expected", "actual", "executed_by", "time"} {
			if _, ok := c[k]; !ok {
				t.Errorf("case %v lacks %q", c["id"], k)
			}
		}
	}
	want := map[string]any{"pass": 2.0, "fail": 0.0, "skip": 1.0, "total": 3.0, "result": "pass"}
	if diff := cmp.Diff(want, doc.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestParseRoundTrip(t *testing.T) {
	r := sampleReport()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Report)
		want   string
	}{
		{"ok", func(*Report) {}, ""},
		{"wrong section", func(r *Report) { r.IQ[0].ID = "OQ-09" }, "case \"OQ-09\" in IQ"},
		{"duplicate", func(r *Report) { r.OQ[1].ID = "OQ-01" }, "appears twice"},
		{"no requirement", func(r *Report) { r.OQ[0].Requirements = nil }, "verifies no requirement"},
		{"bad requirement", func(r *Report) { r.OQ[0].Requirements = []string{"POL-1"} }, "names requirement"},
		{"unknown result", func(r *Report) { r.OQ[0].Result = "ok" }, "has result"},
		{"executed not run", func(r *Report) { r.OQ[0].Result = NotRun; r.Summary = Summarize(r.IQ, r.OQ) }, "has result"},
		{"summary lies", func(r *Report) { r.OQ[1].Result = Fail }, "summary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sampleReport()
			tt.change(r)
			err := r.Check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}

func TestSummarizeFailWins(t *testing.T) {
	s := Summarize([]Case{{Result: Pass}}, []Case{{Result: Fail}, {Result: Skip}})
	if s.Result != Fail || s.Pass != 1 || s.Fail != 1 || s.Skip != 1 || s.Total != 3 {
		t.Fatalf("Summarize = %+v", s)
	}
	if s := Summarize(nil, []Case{{Result: Skip}}); s.Result != Fail {
		t.Fatalf("all skipped must not pass: %+v", s)
	}
}

func TestTrace(t *testing.T) {
	got := sampleReport().Trace()
	want := []Traceability{
		{Requirement: "REQ-P11-03", Cases: []string{"IQ-01"}, Results: []Result{Pass}},
		{Requirement: "REQ-POL-05", Cases: []string{"OQ-01"}, Results: []Result{Pass}},
		{Requirement: "REQ-P11-01", Cases: []string{"OQ-01"}, Results: []Result{Pass}},
		{Requirement: "REQ-POL-06", Cases: []string{"OQ-02"}, Results: []Result{Skip}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Trace (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := sampleReport().Marshal()
	f.Add(b)
	f.Add([]byte(`{"iq":[],"oq":[],"summary":{}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Parse(in)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("re-parse of a parsed report: %v", err)
		}
	})
}

func TestTextHasEveryCaseAndRequirement(t *testing.T) {
	r := sampleReport()
	b, err := Text(r)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{r.DocID, "IQ-01", "OQ-01", "OQ-02", "PQ-01", "REQ-P11-03", "REQ-POL-05", "REQ-POL-06", "PASS: 2 passed, 0 failed, 1 skipped of 3"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

func TestFindSecret(t *testing.T) {
	tests := []struct {
		in, item string
		want     bool
	}{
		{"nothing here", "sealed-item-xyz", false},
		{"holds sealed-item-xyz inside", "sealed-item-xyz", true},
		{"a token sst_abcdefgh12345 shape", "", true},
		{"assist_notes are fine", "", false},
		{"short item abc", "abc", false},
	}
	for _, tt := range tests {
		if got := FindSecret([]byte(tt.in), tt.item); got != tt.want {
			t.Errorf("FindSecret(%q, %q) = %v, want %v", tt.in, tt.item, got, tt.want)
		}
	}
}
