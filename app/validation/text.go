package validation

import (
	"fmt"
	"strings"
	"time"
)

// Text is the plain-text rendering: the summary first, then every case,
// the traceability matrix and the PQ template's case IDs.
func Text(r *Report) ([]byte, error) {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Scispot MCP Desktop: installation and operational qualification\n")
	w("Document %s, generated %s\n\n", r.DocID, r.Generated.UTC().Format(time.RFC3339))
	ws := r.Workstation
	w("Workstation  %s (device %s), %s %s %s\n", ws.Hostname, ws.Device, ws.OS, ws.Arch, ws.OSVersion)
	w("Software     scispot-mcp %s (%s), scispot-mcpd %s\n", ws.AppVersion, ws.AppCommit, ws.ServiceVersion)
	w("Executed by  %s", r.ExecutedBy.Account)
	if r.ExecutedBy.Operator != "" {
		w(" (operator %s)", r.ExecutedBy.Operator)
	}
	s := r.Summary
	w("\n\nSummary      %s: %d passed, %d failed, %d skipped of %d\n", strings.ToUpper(string(s.Result)), s.Pass, s.Fail, s.Skip, s.Total)
	for _, sec := range []struct {
		name  string
		cases []Case
	}{{"Installation qualification (IQ)", r.IQ}, {"Operational qualification (OQ)", r.OQ}} {
		w("\n%s\n", sec.name)
		for _, c := range sec.cases {
			w("\n%s  %-4s  %s\n", c.ID, strings.ToUpper(string(c.Result)), c.Title)
			w("  requirements: %s\n", strings.Join(c.Requirements, ", "))
			for i, st := range c.Steps {
				w("  step %d: %s\n", i+1, st)
			}
			w("  expected: %s\n  actual:   %s\n", c.Expected, c.Actual)
			for _, e := range c.Evidence {
				w("  evidence: %s: %s\n", e.Name, e.Value)
			}
			w("  executed: %s by %s, %d ms\n", c.Time.UTC().Format(time.RFC3339), c.ExecutedBy.Account, c.DurationMS)
		}
	}
	w("\nTraceability\n")
	for _, t := range r.Trace() {
		var cells []string
		for i, id := range t.Cases {
			cells = append(cells, id+" "+string(t.Results[i]))
		}
		w("  %-11s %s\n", t.Requirement, strings.Join(cells, ", "))
	}
	w("\nPerformance qualification (PQ): template cases")
	for _, c := range r.PQ {
		w(" %s", c.ID)
	}
	w(" for the lab to complete.\n")
	return []byte(b.String()), nil
}
