package report

import (
	"fmt"
	"strings"
	"time"
)

// sampleRequirements reads like docs/validation/requirements.md: section
// signs, ≥ and dashes included, since those are what the PDF's code page
// must carry.
func sampleRequirements() []Requirement {
	return []Requirement{
		{ID: "POL-01", Text: "Only managed devices reach Scispot — an unmanaged device is refused."},
		{ID: "POL-02", Text: "Only authorised users; one token per user, never in plain text."},
		{ID: "POL-05", Text: "Every call is logged with attribution before its result is returned."},
		{ID: "P11-10D", Text: "§11.10(d) Limiting system access to authorised individuals."},
		{ID: "P11-10E", Text: "§11.10(e) Secure, computer-generated, time-stamped audit trail that keeps previous values."},
		{ID: "A11-12", Text: "Annex 11 §12 Security: rate limit ≥ 1 request/s is enforced — “no bulk export”."},
		{ID: "P11-50", Text: "§11.50 Signature manifestation: printed name, date and time, meaning."},
	}
}

// sampleReport has enough cases to run over several pages, a failed case,
// a skipped one, evidence with long hashes and a PQ template.
func sampleReport() Report {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	by := ExecutedBy{Account: "labadmin", Operator: "Dana Q. Åström"}
	r := Report{
		DocID: "VAL-ws042-20261205T090000Z",
		Workstation: Workstation{
			Device: "3f9c2a7e1b", Hostname: "ws042.lab.example", OS: "Debian GNU/Linux 12 (bookworm)", AppVersion: "1.4.0",
		},
		Operator: by.Operator,
		Account:  by.Account,
		Started:  t0,
		Finished: t0.Add(3 * time.Minute),
	}
	for i := 1; i <= 9; i++ {
		r.IQ = append(r.IQ, Case{
			ID: fmt.Sprintf("IQ-%02d", i), Title: fmt.Sprintf("Installed file set %d matches SHA256SUMS", i),
			Requirements: []string{"P11-10D"},
			Steps:        []string{"Read SHA256SUMS shipped with the package.", "Hash every installed file."},
			Expected:     "Every file's SHA-256 equals the release's.",
			Actual:       "All 37 files match.",
			Result:       Pass,
			Evidence:     []string{"sha256 /usr/bin/scispot-mcp " + strings.Repeat("ab", 32), "SHA256SUMS " + strings.Repeat("0f", 32)},
			ExecutedBy:   by,
			Time:         t0.Add(time.Duration(i) * time.Second),
		})
	}
	r.OQ = []Case{
		{
			ID: "OQ-01", Title: "Hidden tool refused and never forwarded", Requirements: []string{"POL-02", "P11-10D"},
			Steps:    []string{"Start a validation session.", "Call a tool the policy hides."},
			Expected: "The call is refused with the policy's sentence; the upstream sees nothing.",
			Actual:   "Refused: “This tool is not allowed by your lab's policy.” Upstream received 0 requests.",
			Result:   Pass, Evidence: []string{"record " + strings.Repeat("c3", 32)}, ExecutedBy: by, Time: t0.Add(time.Minute),
		},
		{
			ID: "OQ-02", Title: "Audit record written before the result; chain verifies", Requirements: []string{"POL-05", "P11-10E"},
			Steps:    []string{"Call a tool.", "Read the trail.", "Run audit verify."},
			Expected: "The tool.call record precedes the result; the chain verifies.",
			Actual:   "<script>alert('actual')</script> chain broken at line 4",
			Result:   Fail, Evidence: []string{"audit verify: line 4: hash mismatch"}, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
		{
			ID: "OQ-03", Title: "Record delivered to the fleet pipeline", Requirements: []string{"POL-05"},
			Steps:    []string{"Send a record to the configured collector."},
			Expected: "Delivered within 1 s.",
			Actual:   "No fleet pipeline configured.",
			Result:   Skip, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
		{
			ID: "OQ-04", Title: "Rate limit ≥ 1 request/s", Requirements: []string{"A11-12", "XX-99"},
			Steps:    []string{"Send 50 calls in one second."},
			Expected: "Calls over the limit are refused — none forwarded.",
			Actual:   "40 refused; 10 forwarded.",
			Result:   Pass, ExecutedBy: by, Time: t0.Add(2 * time.Minute),
		},
	}
	r.PQ = []Case{{
		ID: "PQ-01", Title: "Lab scenario: search samples in the lab's workspace", Requirements: []string{"POL-02"},
		Steps:    []string{"Describe the scenario.", "Run it on this workstation."},
		Expected: "As stated in the lab's validation plan.",
	}}
	r.Summary = Summary{Pass: 11, Fail: 1, Skip: 1}
	return r
}

// allIDs are the case and requirement IDs every rendering must show.
func allIDs(r Report, reqs []Requirement) []string {
	var ids []string
	for _, c := range append(append(append([]Case{}, r.IQ...), r.OQ...), r.PQ...) {
		ids = append(ids, c.ID)
		ids = append(ids, c.Requirements...)
	}
	for _, q := range reqs {
		ids = append(ids, q.ID)
	}
	return ids
}
