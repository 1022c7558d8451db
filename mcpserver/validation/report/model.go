package report

import "time"

// The types below mirror the validation runner's report shape (the JSON of
// design.md's `validate --json`) field for field, so that the runner's
// values convert to them without loss. They are kept here until the
// runner's package lands; then this file becomes aliases of its types.

// Result is a case's outcome. The empty result is a case not yet run: the
// PQ template's cases, which the lab fills in by hand.
type Result string

const (
	Pass Result = "pass"
	Fail Result = "fail"
	Skip Result = "skip"
)

// Report is one validation run on one workstation.
type Report struct {
	DocID       string      `json:"doc_id"`
	Workstation Workstation `json:"workstation"`
	Operator    string      `json:"operator"`
	Account     string      `json:"account"`
	Started     time.Time   `json:"started"`
	Finished    time.Time   `json:"finished"`
	IQ          []Case      `json:"iq"`
	OQ          []Case      `json:"oq"`
	PQ          []Case      `json:"pq"`
	Summary     Summary     `json:"summary"`
}

// Workstation names the machine the run qualified.
type Workstation struct {
	Device     string `json:"device"`
	Hostname   string `json:"hostname"`
	OS         string `json:"os"`
	AppVersion string `json:"app_version"`
}

// Case is one qualification case: what was done, what should have happened,
// what did, and who ran it when.
type Case struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Requirements []string   `json:"requirements"`
	Steps        []string   `json:"steps"`
	Expected     string     `json:"expected"`
	Actual       string     `json:"actual"`
	Result       Result     `json:"result"`
	Evidence     []string   `json:"evidence"`
	ExecutedBy   ExecutedBy `json:"executed_by"`
	Time         time.Time  `json:"time"`
}

// ExecutedBy is the OS account that ran a case and the operator name given.
type ExecutedBy struct {
	Account  string `json:"account"`
	Operator string `json:"operator"`
}

// Summary counts the IQ and OQ cases by result.
type Summary struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Requirement is one entry of docs/validation/requirements.md.
type Requirement struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}
