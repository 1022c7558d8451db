// Package validation is the workstation's IQ/OQ validation: the report a
// lab's QA files (this file), the requirements it traces to
// (docs/validation/requirements.md) and the runner that fills it from real
// checks on the installation and the running service.
//
// The report's JSON is the contract (design.md, "Command line"):
//
//	{"doc_id": "…", "workstation": {…}, "executed_by": {…},
//	 "iq": [case…], "oq": [case…], "pq": [case…],
//	 "summary": {"pass": n, "fail": n, "skip": n, …}}
//
// and each case carries at least "id", "requirements" and "result". The
// HTML, PDF and text renderings are made from a Report and nothing else, so
// what QA reads and what the JSON says cannot differ.
package validation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Result is a case's outcome.
type Result string

// Results. A PQ template case has no result until the lab runs it.
const (
	Pass   Result = "pass"
	Fail   Result = "fail"
	Skip   Result = "skip"
	NotRun Result = ""
)

// Valid reports whether r is a result a case may carry.
func (r Result) Valid() bool {
	switch r {
	case Pass, Fail, Skip, NotRun:
		return true
	}
	return false
}

// Executor is who ran a case: the OS account the command ran as (from the
// OS, never typed) and the operator name given with --operator.
type Executor struct {
	Account  string `json:"account"`
	Operator string `json:"operator,omitempty"`
}

// Evidence is one piece of what a case observed: a record hash, a timing,
// a file digest, an output. Name says what it is; Value is the observation.
type Evidence struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Case is one IQ, OQ or PQ test case.
type Case struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Requirements []string   `json:"requirements"`
	Steps        []string   `json:"steps"`
	Expected     string     `json:"expected"`
	Actual       string     `json:"actual"`
	Result       Result     `json:"result"`
	Evidence     []Evidence `json:"evidence,omitempty"`
	ExecutedBy   Executor   `json:"executed_by"`
	// Time is when the case ran (UTC); zero in a PQ template.
	Time       time.Time `json:"time,omitzero"`
	DurationMS int64     `json:"duration_ms,omitempty"`
}

// Workstation identifies the machine the report is about.
type Workstation struct {
	// Device is the machine ID protected with the app ID, as in every
	// audit record (identity.DeviceID), never the raw machine ID.
	Device     string `json:"device"`
	Hostname   string `json:"hostname"`
	OS         string `json:"os"`
	OSVersion  string `json:"os_version,omitempty"`
	Arch       string `json:"arch"`
	AppVersion string `json:"app_version"`
	AppCommit  string `json:"app_commit,omitempty"`
	// ServiceVersion is what the running scispot-mcpd says it is.
	ServiceVersion string `json:"service_version,omitempty"`
}

// Summary counts the IQ and OQ results (the PQ template is not counted).
type Summary struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Total int `json:"total"`
	// Result is "pass" when no case failed and at least one passed.
	Result Result `json:"result"`
}

// Report is one validation run.
type Report struct {
	// DocID names the document on every page and in the validation.run
	// record, e.g. "VAL-labpc07-20261205T091500Z".
	DocID       string      `json:"doc_id"`
	Generated   time.Time   `json:"generated"`
	Workstation Workstation `json:"workstation"`
	ExecutedBy  Executor    `json:"executed_by"`
	IQ          []Case      `json:"iq"`
	OQ          []Case      `json:"oq"`
	// PQ is the template for the lab's own scenarios: the same fields,
	// results left for the lab.
	PQ      []Case  `json:"pq"`
	Summary Summary `json:"summary"`
}

// Summarize counts IQ and OQ results.
func Summarize(iq, oq []Case) Summary {
	var s Summary
	for _, cs := range [][]Case{iq, oq} {
		for _, c := range cs {
			switch c.Result {
			case Pass:
				s.Pass++
			case Fail:
				s.Fail++
			case Skip:
				s.Skip++
			}
			s.Total++
		}
	}
	s.Result = Fail
	if s.Fail == 0 && s.Pass > 0 {
		s.Result = Pass
	}
	return s
}

// Traceability is one row of the matrix: a requirement, the cases that
// verify it and their results.
type Traceability struct {
	Requirement string
	Cases       []string
	Results     []Result
}

// Trace builds the requirement → cases → result matrix over IQ and OQ in
// the order requirement IDs first appear.
func (r *Report) Trace() []Traceability {
	idx := map[string]int{}
	var rows []Traceability
	for _, cs := range [][]Case{r.IQ, r.OQ} {
		for _, c := range cs {
			for _, req := range c.Requirements {
				i, ok := idx[req]
				if !ok {
					i = len(rows)
					idx[req] = i
					rows = append(rows, Traceability{Requirement: req})
				}
				rows[i].Cases = append(rows[i].Cases, c.ID)
				rows[i].Results = append(rows[i].Results, c.Result)
			}
		}
	}
	return rows
}

var (
	caseID = regexp.MustCompile(`^(IQ|OQ|PQ)-[0-9]{2,3}$`)
	reqID  = regexp.MustCompile(`^REQ-[A-Z0-9]+-[0-9]{2}$`)
	// docIDPattern is docID's output: it names files, so no separators.
	docIDPattern = regexp.MustCompile(`^VAL-[A-Za-z0-9-]{1,80}-[0-9]{8}T[0-9]{6}Z$`)
)

// ErrInvalid is returned for a report that breaks the model's rules.
var ErrInvalid = errors.New("invalid validation report")

// Check reports the first rule the report breaks: a document ID as the
// runner makes them, case IDs unique and of
// their section, requirement IDs well formed, every executed case with
// at least one requirement and a known result, the summary matching.
func (r *Report) Check() error {
	// The document ID names the report's files.
	if !docIDPattern.MatchString(r.DocID) {
		return fmt.Errorf("%w: document ID %q", ErrInvalid, r.DocID)
	}
	seen := map[string]bool{}
	for _, sec := range []struct {
		name  string
		cases []Case
	}{{"IQ", r.IQ}, {"OQ", r.OQ}, {"PQ", r.PQ}} {
		for _, c := range sec.cases {
			if !caseID.MatchString(c.ID) || c.ID[:2] != sec.name {
				return fmt.Errorf("%w: case %q in %s", ErrInvalid, c.ID, sec.name)
			}
			if seen[c.ID] {
				return fmt.Errorf("%w: case %s appears twice", ErrInvalid, c.ID)
			}
			seen[c.ID] = true
			if !c.Result.Valid() || (sec.name != "PQ" && c.Result == NotRun) {
				return fmt.Errorf("%w: case %s has result %q", ErrInvalid, c.ID, c.Result)
			}
			if sec.name != "PQ" && len(c.Requirements) == 0 {
				return fmt.Errorf("%w: case %s verifies no requirement", ErrInvalid, c.ID)
			}
			for _, q := range c.Requirements {
				if !reqID.MatchString(q) {
					return fmt.Errorf("%w: case %s names requirement %q", ErrInvalid, c.ID, q)
				}
			}
		}
	}
	if s := Summarize(r.IQ, r.OQ); s != r.Summary {
		return fmt.Errorf("%w: summary %+v does not match the cases (%+v)", ErrInvalid, r.Summary, s)
	}
	return nil
}

// Marshal encodes the report as indented JSON, the form written to disk
// and printed by --json.
func (r *Report) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the validation report: %w", err)
	}
	return append(b, '\n'), nil
}

// Parse decodes and checks a report written by Marshal. Unknown fields are
// an error, so a report from a newer format is not misread.
func Parse(b []byte) (*Report, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the report", ErrInvalid)
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	return &r, nil
}
