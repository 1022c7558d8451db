package report

import (
	"github.com/scispot/mcp-desktop/app/validation"

	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewViewRejectsInconsistentReports(t *testing.T) {
	tests := map[string]struct {
		edit func(*Report)
		want error
		text string
	}{
		"summary counts too many passes":   {edit: func(r *Report) { r.Summary.Pass++ }, want: ErrSummaryMismatch},
		"summary hides a failure":          {edit: func(r *Report) { r.Summary.Fail, r.Summary.Result = 0, Pass }, want: ErrSummaryMismatch},
		"summary says pass over a failure": {edit: func(r *Report) { r.Summary.Result = Pass }, want: ErrSummaryMismatch},
		"no document ID":                   {edit: func(r *Report) { r.DocID = " " }, want: ErrNoDocID},
		"an OQ case without a result":      {edit: func(r *Report) { r.OQ[0].Result = NotRun }, text: `case "OQ-01" has result ""`},
		"an IQ case with a made-up result": {edit: func(r *Report) { r.IQ[0].Result = "ok" }, text: `case "IQ-01" has result "ok"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleReport()
			tt.edit(r)
			_, err := newView(r, sampleRequirements())
			if err == nil {
				t.Fatal("newView accepted the report")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to contain %q", err, tt.text)
			}
		})
	}
	if _, err := newView(nil, nil); err == nil {
		t.Error("newView accepted no report")
	}
}

func TestMatrixTracesRequirementsToCases(t *testing.T) {
	v, err := newView(sampleReport(), sampleRequirements())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range v.Matrix {
		var refs []string
		for _, c := range m.Cases {
			refs = append(refs, c.String())
		}
		got[m.ID] = m.Result + ": " + strings.Join(refs, ", ")
	}
	want := map[string]string{
		"REQ-POL-01": "not verified: ",
		"REQ-POL-05": "pass: OQ-01 (pass), PQ-01 (not run)",
		"REQ-POL-06": "fail: OQ-02 (fail), OQ-03 (skip)",
		"REQ-POL-09": "pass: OQ-04 (pass)",
		"REQ-P11-01": "pass: IQ-01 (pass), IQ-02 (pass), IQ-03 (pass), IQ-04 (pass), IQ-05 (pass), IQ-06 (pass), IQ-07 (pass), IQ-08 (pass), IQ-09 (pass), OQ-01 (pass)",
		"REQ-P11-02": "fail: OQ-02 (fail)",
		"REQ-A11-01": "not verified: ",
		"REQ-XX-99":  "pass: OQ-04 (pass)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("matrix (-want +got):\n%s", d)
	}
	if v.Matrix[0].ID != "REQ-POL-01" || v.Matrix[0].Source != "Seed policy: only managed devices" {
		t.Errorf("first row = %+v, want the list's first requirement with its source", v.Matrix[0])
	}
	last := v.Matrix[len(v.Matrix)-1]
	if last.ID != "REQ-XX-99" || !last.Unlisted {
		t.Errorf("last row = %+v, want the unlisted REQ-XX-99", last)
	}
}

func TestVerdict(t *testing.T) {
	tests := map[string]struct {
		edit func(*Report)
		want string
	}{
		"a failure names the case": {edit: func(*Report) {}, want: "FAIL: 1 of 13 cases failed (OQ-02)."},
		"all pass with a skip": {edit: func(r *Report) {
			r.OQ[1].Result = Pass
		}, want: "PASS: 12 of 13 cases passed, 1 skipped as not applicable."},
		"only skips": {edit: func(r *Report) {
			r.IQ, r.OQ = nil, r.OQ[2:3]
		}, want: "FAIL: no case passed (1 run, 1 skipped)."},
		"nothing run": {edit: func(r *Report) {
			r.IQ, r.OQ = nil, nil
		}, want: "FAIL: no case passed (0 run, 0 skipped)."},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleReport()
			tt.edit(r)
			r.Summary = validation.Summarize(r.IQ, r.OQ)
			v, err := newView(r, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Verdict != tt.want {
				t.Errorf("verdict = %q, want %q", v.Verdict, tt.want)
			}
		})
	}
}
