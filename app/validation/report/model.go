package report

import "time"

// The types below are a field-for-field copy of the validation runner's
// model (package app/validation, report.go, on branch i17-run at 6ccf42e),
// so that the renderers are written against the real shape before the two
// branches meet. When they do, this file goes: the renderers take
// *validation.Report and the CLI plugs them in as validation.Rendering
// values (see docs/validation/STATUS.md there).

// Result is a case's outcome.
type Result string

// Results. A PQ template case has no result until the lab runs it.
const (
	Pass   Result = "pass"
	Fail   Result = "fail"
	Skip   Result = "skip"
	NotRun Result = ""
)

// Executor is who ran a case: the OS account and the operator name given.
type Executor struct {
	Account  string `json:"account"`
	Operator string `json:"operator,omitempty"`
}

// Evidence is one piece of what a case observed.
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
	Time         time.Time  `json:"time,omitzero"`
	DurationMS   int64      `json:"duration_ms,omitempty"`
}

// Workstation identifies the machine the report is about.
type Workstation struct {
	Device         string `json:"device"`
	Hostname       string `json:"hostname"`
	OS             string `json:"os"`
	OSVersion      string `json:"os_version,omitempty"`
	Arch           string `json:"arch"`
	AppVersion     string `json:"app_version"`
	AppCommit      string `json:"app_commit,omitempty"`
	ServiceVersion string `json:"service_version,omitempty"`
}

// Summary counts the IQ and OQ results (the PQ template is not counted).
type Summary struct {
	Pass   int    `json:"pass"`
	Fail   int    `json:"fail"`
	Skip   int    `json:"skip"`
	Total  int    `json:"total"`
	Result Result `json:"result"`
}

// Report is one validation run.
type Report struct {
	DocID       string      `json:"doc_id"`
	Generated   time.Time   `json:"generated"`
	Workstation Workstation `json:"workstation"`
	ExecutedBy  Executor    `json:"executed_by"`
	IQ          []Case      `json:"iq"`
	OQ          []Case      `json:"oq"`
	PQ          []Case      `json:"pq"`
	Summary     Summary     `json:"summary"`
}

// Summarize counts IQ and OQ results as the runner does: the summary
// passes when no case failed and at least one passed.
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

// Requirement is one row of docs/validation/requirements.md: its ID, what
// it requires and where that comes from (seed policy, 21 CFR 11, Annex 11).
type Requirement struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	Source string `json:"source,omitempty"`
}
