package report

import (
	"github.com/scispot/mcp-desktop/app/validation"

	"fmt"
	"slices"
	"strings"
	"time"
)

// sampleRequirements reads like docs/validation/requirements.md: section
// signs, ≥ and dashes included, since those are what the PDF's code page
// must carry.
func sampleRequirements() []Requirement {
	return []Requirement{
		{ID: "REQ-POL-01", Text: "Lab data flows only on managed devices — an unmanaged device is refused.", Source: "Seed policy: only managed devices"},
		{ID: "REQ-POL-05", Text: "Only the tools the organisation allows are listed or callable.", Source: "Seed policy: only allowed tools"},
		{ID: "REQ-POL-06", Text: "Every tool call is recorded with full attribution before its result returns.", Source: "Seed policy: every call logged"},
		{ID: "REQ-POL-09", Text: "No bulk export: calls per minute ≥ the limit are refused — “no bulk export”.", Source: "Seed policy: no bulk export"},
		{ID: "REQ-P11-01", Text: "Access to the system is limited to authorised individuals.", Source: "21 CFR §11.10(d)"},
		{ID: "REQ-P11-02", Text: "Secure, computer-generated, time-stamped audit trail that keeps previous values.", Source: "21 CFR §11.10(e)"},
		{ID: "REQ-A11-01", Text: "A change to GxP data carries the reason for the change.", Source: "EU GMP Annex 11 §9"},
	}
}

// sampleReport has enough cases to run over several pages, a failed case,
// a skipped one, evidence with long hashes and a PQ template.
func sampleReport() *Report {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	by := Executor{Account: "labadmin", Operator: "Dana Q. Åström"}
	r := &Report{
		DocID:     "VAL-ws042-20261205T090000Z",
		Generated: t0,
		Workstation: Workstation{
			Device: "3f9c2a7e1b", Hostname: "ws042.lab.example", OS: "linux", OSVersion: "Debian GNU/Linux 12 (bookworm)",
			Arch: "amd64", AppVersion: "1.4.0", AppCommit: "43a59ac", ServiceVersion: "1.4.0",
		},
		ExecutedBy: by,
	}
	for i := 1; i <= 9; i++ {
		r.IQ = append(r.IQ, Case{
			ID: fmt.Sprintf("IQ-%02d", i), Title: fmt.Sprintf("Installed file set %d matches SHA256SUMS", i),
			Requirements: []string{"REQ-P11-01"},
			Steps:        []string{"Read SHA256SUMS shipped with the package.", "Hash every installed file."},
			Expected:     "Every file's SHA-256 equals the release's.",
			Actual:       "All 37 files match.",
			Result:       Pass,
			Evidence: []Evidence{
				{Name: "sha256 /usr/bin/scispot-mcp", Value: strings.Repeat("ab", 32)},
				{Name: "SHA256SUMS", Value: strings.Repeat("0f", 32)},
			},
			ExecutedBy: by,
			Time:       t0.Add(time.Duration(i) * time.Second),
			DurationMS: 4,
		})
	}
	r.OQ = []Case{
		{
			ID: "OQ-01", Title: "Hidden tool refused and never forwarded", Requirements: []string{"REQ-POL-05", "REQ-P11-01"},
			Steps:    []string{"Start a validation session.", "Call a tool the policy hides."},
			Expected: "The call is refused with the policy's sentence; the upstream sees nothing.",
			Actual:   "Refused: “This tool is not allowed by your lab's policy.” Upstream received 0 requests.",
			Result:   Pass, Evidence: []Evidence{{Name: "record", Value: strings.Repeat("c3", 32)}}, ExecutedBy: by, Time: t0.Add(time.Minute),
		},
		{
			ID: "OQ-02", Title: "Audit record written before the result; chain verifies", Requirements: []string{"REQ-POL-06", "REQ-P11-02"},
			Steps:    []string{"Call a tool.", "Read the trail.", "Run audit verify."},
			Expected: "The tool.call record precedes the result; the chain verifies.",
			Actual:   "<script>alert('actual')</script> chain broken at line 4",
			Result:   Fail, Evidence: []Evidence{{Name: "audit verify", Value: "line 4: hash mismatch"}}, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
		{
			ID: "OQ-03", Title: "Record delivered to the fleet pipeline", Requirements: []string{"REQ-POL-06"},
			Steps:    []string{"Send a record to the configured collector."},
			Expected: "Delivered within 1 s.",
			Actual:   "No fleet pipeline configured.",
			Result:   Skip, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
		{
			ID: "OQ-04", Title: "Rate limit ≥ 1 request/s", Requirements: []string{"REQ-POL-09", "REQ-XX-99"},
			Steps:    []string{"Send 50 calls in one second."},
			Expected: "Calls over the limit are refused — none forwarded.",
			Actual:   "40 refused; 10 forwarded.",
			Result:   Pass, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
	}
	r.PQ = []Case{{
		ID: "PQ-01", Title: "Lab scenario: search samples in the lab's workspace", Requirements: []string{"REQ-POL-05"},
		Steps:    []string{"Describe the scenario.", "Run it on this workstation."},
		Expected: "As stated in the lab's validation plan.",
	}, {
		// As the runner's pqTemplate makes them: a title and nothing else.
		ID: "PQ-02", Title: "The lab's log pipeline receives and verifies this workstation's records",
		Requirements: []string{}, Steps: []string{},
	}}
	r.Summary = validation.Summarize(r.IQ, r.OQ)
	return r
}

// allIDs are the case and requirement IDs every rendering must show.
func allIDs(r *Report, reqs []Requirement) []string {
	var ids []string
	for _, c := range slices.Concat(r.IQ, r.OQ, r.PQ) {
		ids = append(ids, c.ID)
		ids = append(ids, c.Requirements...)
	}
	for _, q := range reqs {
		ids = append(ids, q.ID)
	}
	return ids
}
