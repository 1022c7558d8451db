package report

import "github.com/scispot/mcp-desktop/app/validation"

// The renderers draw the runner's own model, so what a page shows and what
// the report's JSON says are one value.
type (
	Report      = validation.Report
	Case        = validation.Case
	Result      = validation.Result
	Executor    = validation.Executor
	Evidence    = validation.Evidence
	Workstation = validation.Workstation
	Summary     = validation.Summary
	Requirement = validation.Requirement
)

// Results, as the runner gives them.
const (
	Pass   = validation.Pass
	Fail   = validation.Fail
	Skip   = validation.Skip
	NotRun = validation.NotRun
)
