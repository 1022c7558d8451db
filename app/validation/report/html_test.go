package report

import (
	"regexp"
	"strings"
	"testing"
)

func renderHTML(t *testing.T, r *Report, reqs []Requirement) string {
	t.Helper()
	b, err := HTML(r, reqs)
	if err != nil {
		t.Fatalf("HTML: %v", err)
	}
	return string(b)
}

func TestHTMLShowsEveryCaseAndRequirement(t *testing.T) {
	r, reqs := sampleReport(), sampleRequirements()
	out := renderHTML(t, r, reqs)
	for _, id := range allIDs(r, reqs) {
		if !strings.Contains(out, id) {
			t.Errorf("the HTML lacks %s", id)
		}
	}
	for _, want := range []string{
		`id="case-OQ-02"`, // every case has an anchor the matrix links to
		`<a href="#case-OQ-04">OQ-04</a>&nbsp;(pass)`, // the matrix
		"(not in the requirements list)",              // REQ-XX-99
		"FAIL: 1 of 13 cases failed (OQ-02).",         // the verdict
		"Secure, computer-generated, time-stamped",    // requirement text
		"21 CFR §11.10(e)",                            // and its source
		"linux, Debian GNU/Linux 12 (bookworm), amd64",
		"1.4.0 (commit 43a59ac)",
		"Dana Q. Åström (account labadmin)", // executed by
		"2026-12-05 09:00:01 UTC (4 ms)",    // a case's time and duration
		"sha256 /usr/bin/scispot-mcp: abab", // evidence
		"Meaning of signature",              // the signature block
		"Reviewer", "Approver",
		`content: "Page " counter(page) " of " counter(pages)`, // page numbers
		`break-before: page`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
}

// The summary comes first, then IQ, OQ, PQ, the matrix and the signatures.
func TestHTMLOrder(t *testing.T) {
	out := renderHTML(t, sampleReport(), sampleRequirements())
	last := -1
	for _, id := range []string{`id="summary"`, `id="iq"`, `id="oq"`, `id="pq"`, `id="matrix"`, `id="signatures"`} {
		i := strings.Index(out, id)
		if i <= last {
			t.Fatalf("%s at %d, want after %d", id, i, last)
		}
		last = i
	}
}

func TestHTMLEscapesHostileText(t *testing.T) {
	const hostile = `<script>alert(1)</script>`
	tests := map[string]func(*Report){
		"actual result":  func(r *Report) { r.OQ[0].Actual = hostile },
		"case title":     func(r *Report) { r.IQ[0].Title = `"><img src=x onerror=alert(1)>` + hostile },
		"evidence":       func(r *Report) { r.IQ[0].Evidence = []Evidence{{Name: hostile, Value: hostile}} },
		"step":           func(r *Report) { r.IQ[0].Steps = []string{hostile} },
		"operator":       func(r *Report) { r.ExecutedBy.Operator = hostile; r.OQ[0].ExecutedBy.Operator = hostile },
		"host name":      func(r *Report) { r.Workstation.Hostname = hostile },
		"requirement ID": func(r *Report) { r.OQ[0].Requirements = []string{`" onmouseover="alert(1)`} },
		// The document ID also lands in CSS (the running header) and in a
		// meta attribute: a way out of the <style> element must not work.
		"document ID": func(r *Report) { r.DocID = `"}</style>` + hostile },
		"case ID":     func(r *Report) { r.OQ[0].ID = `x" onclick="alert(1)` },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			r := sampleReport()
			edit(r)
			out := renderHTML(t, r, sampleRequirements())
			for _, bad := range []string{"<script", "<img", `" onmouseover=`, `" onclick=`, "</style><"} {
				if strings.Contains(out, bad) {
					t.Errorf("the HTML contains %q unescaped", bad)
				}
			}
			if strings.Count(out, "</style>") != 1 {
				t.Errorf("the HTML has %d </style>, want 1", strings.Count(out, "</style>"))
			}
		})
	}
	// And the hostile text is still shown, as text.
	r := sampleReport()
	r.OQ[0].Actual = hostile
	if out := renderHTML(t, r, nil); !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the escaped actual result is not in the HTML")
	}
}

// The file must open the same on a workstation without network and in a
// records archive years later: nothing fetched, nothing run.
func TestHTMLIsSelfContained(t *testing.T) {
	out := renderHTML(t, sampleReport(), sampleRequirements())
	for _, re := range []string{`(?i)<script`, `(?i)\bsrc=`, `(?i)<link\b`, `(?i)@import`, `(?i)url\(`, `(?i)href="(?:https?:)?//`} {
		if m := regexp.MustCompile(re).FindString(out); m != "" {
			t.Errorf("the HTML contains %q", m)
		}
	}
}

func TestHTMLIsDeterministic(t *testing.T) {
	a := renderHTML(t, sampleReport(), sampleRequirements())
	b := renderHTML(t, sampleReport(), sampleRequirements())
	if a != b {
		t.Error("two renderings of one report differ")
	}
}

func TestHTMLPQTemplateLeavesBlanks(t *testing.T) {
	out := renderHTML(t, sampleReport(), nil)
	for _, tt := range []struct {
		id     string
		blanks int
	}{
		{"PQ-01", 5},  // actual, result, evidence, executed by, time
		{"PQ-02", 10}, // and requirements, three lines of steps, expected
	} {
		start := strings.Index(out, `id="case-`+tt.id+`"`)
		end := start + strings.Index(out[start:], "</article>")
		if n := strings.Count(out[start:end], `class="blank"`); n != tt.blanks {
			t.Errorf("%s has %d blanks to fill in, want %d", tt.id, n, tt.blanks)
		}
	}
}

func TestHTMLRefusesBadReport(t *testing.T) {
	r := sampleReport()
	r.Summary.Fail = 0
	if b, err := HTML(r, nil); err == nil || b != nil {
		t.Fatalf("HTML of a report whose summary hides a failure = %d bytes, %v; want an error", len(b), err)
	}
}
