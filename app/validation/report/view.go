// Package report renders a validation run as the documents a QA reviewer
// reads, signs and files: a self-contained printable HTML file and a PDF of
// the same content, in the same order — the summary on page one, the IQ,
// OQ and PQ cases, the traceability matrix (requirement → cases → result)
// and the signature block for the reviewer and the approver.
//
// HTML and PDF return the document's bytes, to be written as
// <doc_id>.html and <doc_id>.pdf beside the JSON: the caller (the validate
// command) hashes what it wrote into the validation.run audit record, which
// `validate --verify` checks a filed copy against. Both renderings are
// deterministic — the same report gives the same bytes — so a report can be
// rendered again from its JSON and compared.
//
//	html, err := report.HTML(rep, reqs) // reqs from ParseRequirements; nil lists the cases' IDs only
//	pdf, err := report.PDF(rep, reqs)
package report

import (
	"github.com/scispot/mcp-desktop/app/validation"

	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrSummaryMismatch means the report's summary does not count its own
// cases: rendering it would put a verdict on page one that the pages after
// it contradict.
var ErrSummaryMismatch = errors.New("the report's summary does not match its cases")

// ErrNoDocID means the report has no document ID, which every page's header
// and the signatures refer to.
var ErrNoDocID = errors.New("the report has no document ID")

// view is what both renderings print, worked out once so that the HTML and
// the PDF cannot disagree.
type view struct {
	Report
	Verdict  string
	Parts    []part
	Matrix   []matrixRow
	Signoffs []signoff
}

type part struct {
	Key      string // "iq", "oq", "pq": the HTML anchor
	Title    string
	Intro    string
	Cases    []Case
	Template bool // the PQ: fields left blank for the lab to fill in
}

type matrixRow struct {
	ID       string
	Text     string
	Source   string
	Cases    []caseRef
	Result   string // "pass", "fail" or "not verified"
	Unlisted bool   // named by a case but absent from the requirements list
}

type caseRef struct {
	ID     string
	Result Result
}

// String is how a case appears in a matrix cell.
func (c caseRef) String() string { return c.ID + " (" + resultWord(c.Result) + ")" }

type signoff struct {
	Role    string
	Meaning string
}

// Requirement results in the matrix.
const (
	reqPass        = "pass"
	reqFail        = "fail"
	reqNotVerified = "not verified"
)

func newView(r *Report, reqs []Requirement) (view, error) {
	if r == nil {
		return view{}, errors.New("no report to render")
	}
	if strings.TrimSpace(r.DocID) == "" {
		return view{}, ErrNoDocID
	}
	for _, c := range slices.Concat(r.IQ, r.OQ) {
		if c.Result != Pass && c.Result != Fail && c.Result != Skip {
			return view{}, fmt.Errorf("case %q has result %q, not pass, fail or skip", c.ID, c.Result)
		}
	}
	if s := validation.Summarize(r.IQ, r.OQ); s != r.Summary {
		return view{}, fmt.Errorf("%w: it says %s with %d pass, %d fail, %d skip of %d; the cases give %s with %d, %d, %d of %d",
			ErrSummaryMismatch, r.Summary.Result, r.Summary.Pass, r.Summary.Fail, r.Summary.Skip, r.Summary.Total,
			s.Result, s.Pass, s.Fail, s.Skip, s.Total)
	}
	return view{
		Report:  *r,
		Verdict: verdict(r),
		Parts: []part{
			{Key: "iq", Title: "Installation qualification (IQ)", Cases: r.IQ,
				Intro: "The installed files, the service, its socket, autostart, policy, enrollment and keychain, checked against the release."},
			{Key: "oq", Title: "Operational qualification (OQ)", Cases: r.OQ,
				Intro: "Scripted cases run through the real service path on the demo workspace, in a validation session recorded apart from lab work."},
			{Key: "pq", Title: "Performance qualification (PQ) — template", Cases: r.PQ, Template: true,
				Intro: "The lab's own scenarios on this workstation, from its validation plan: fill in every blank field as each case is written and run."},
		},
		Matrix: matrix(r, reqs),
		Signoffs: []signoff{
			{Role: "Reviewer", Meaning: "Reviewed: the report is complete and its results support its conclusion."},
			{Role: "Approver", Meaning: "Approved: the workstation is qualified for the intended use stated in the validation plan."},
		},
	}, nil
}

// verdict is page one's sentence. It follows Summary.Result, which the
// runner and --json use: pass needs no failure and at least one pass.
func verdict(r *Report) string {
	s := r.Summary
	if s.Fail > 0 {
		var failed []string
		for _, c := range slices.Concat(r.IQ, r.OQ) {
			if c.Result == Fail {
				failed = append(failed, c.ID)
			}
		}
		return fmt.Sprintf("FAIL: %d of %d cases failed (%s).", s.Fail, s.Total, strings.Join(failed, ", "))
	}
	if s.Result != Pass {
		return fmt.Sprintf("FAIL: no case passed (%d run, %d skipped).", s.Total, s.Skip)
	}
	v := fmt.Sprintf("PASS: %d of %d cases passed", s.Pass, s.Total)
	if s.Skip > 0 {
		v += fmt.Sprintf(", %d skipped as not applicable", s.Skip)
	}
	return v + "."
}

// matrix traces every requirement to the cases that verify it. A requirement
// passes when an executed case verifies it and none fails; PQ template cases
// are listed but, not having run, decide nothing. Requirement IDs that cases
// name but the list lacks get rows of their own, so a typo shows.
func matrix(r *Report, reqs []Requirement) []matrixRow {
	byReq := map[string][]caseRef{}
	for _, c := range slices.Concat(r.IQ, r.OQ, r.PQ) {
		for _, id := range c.Requirements {
			byReq[id] = append(byReq[id], caseRef{ID: c.ID, Result: c.Result})
		}
	}
	listed := map[string]bool{}
	var rows []matrixRow
	for _, q := range reqs {
		listed[q.ID] = true
		rows = append(rows, matrixRow{ID: q.ID, Text: q.Text, Source: q.Source})
	}
	var extra []string
	for id := range byReq {
		if !listed[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	for _, id := range extra {
		rows = append(rows, matrixRow{ID: id, Text: "(not in the requirements list)", Unlisted: true})
	}
	for i := range rows {
		rows[i].Cases = byReq[rows[i].ID]
		rows[i].Result = reqNotVerified
		for _, c := range rows[i].Cases {
			switch {
			case c.Result == Fail:
				rows[i].Result = reqFail
			case c.Result == Pass && rows[i].Result == reqNotVerified:
				rows[i].Result = reqPass
			}
		}
	}
	return rows
}

func resultWord(r Result) string {
	if r == "" {
		return "not run"
	}
	return string(r)
}

// stamp formats a time the same way in both renderings: UTC, to the second.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// executor is how a person appears: "Dana Reviewer (account qa)".
func executor(e Executor) string {
	switch {
	case e.Operator == "" && e.Account == "":
		return ""
	case e.Operator == "":
		return "account " + e.Account
	case e.Account == "":
		return e.Operator
	}
	return e.Operator + " (account " + e.Account + ")"
}

// osLine is "linux, Debian GNU/Linux 13 (trixie), amd64", leaving out what
// the run did not learn.
func osLine(w Workstation) string {
	return joinSet(", ", w.OS, w.OSVersion, w.Arch)
}

// appLine is "1.4.0 (commit 43a59ac)".
func appLine(w Workstation) string {
	if w.AppCommit == "" {
		return w.AppVersion
	}
	return w.AppVersion + " (commit " + w.AppCommit + ")"
}

func evidenceLine(e Evidence) string {
	if e.Name == "" {
		return e.Value
	}
	return e.Name + ": " + e.Value
}

// when is a case's date and time, with how long it took.
func when(c Case) string {
	s := stamp(c.Time)
	if s != "" && c.DurationMS > 0 {
		s += fmt.Sprintf(" (%d ms)", c.DurationMS)
	}
	return s
}

func joinSet(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
