package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func renderPDF(t *testing.T, r *Report, reqs []Requirement) []byte {
	t.Helper()
	b, err := PDF(r, reqs)
	if err != nil {
		t.Fatalf("PDF: %v", err)
	}
	return b
}

// pdfPages extracts the text of each page with poppler's pdftotext, the
// tool a reviewer's records system indexes with.
func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext is not installed (poppler-utils; packaging/dev-deps.sh installs it): cannot check the PDF's text")
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	// The timeout only keeps a broken tool from hanging the test run.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

func TestPDFTextHasEveryCaseAndRequirement(t *testing.T) {
	r, reqs := sampleReport(), sampleRequirements()
	pages := pdfPages(t, renderPDF(t, r, reqs))
	// Cells wrap: compare with every run of white space made one space.
	text := strings.Join(strings.Fields(strings.Join(pages, "\n")), " ")
	for _, id := range allIDs(r, reqs) {
		if !strings.Contains(text, id) {
			t.Errorf("the PDF's text lacks %s", id)
		}
	}
	for _, want := range []string{
		"21 CFR §11.10(e)",                            // the code page carries §
		"calls per minute >= the limit",               // ≥ has a spelling
		"“no bulk export”",                            // quotes
		"Lab data flows only on managed devices — an", // dashes
		"sha256 /usr/bin/scispot-mcp: abab",
		"Dana Q. Åström",
		"<script>alert('actual')</script>", // text, shown as it was
		"(not in the requirements list)",
		"Traceability matrix", "Meaning of signature", "Reviewer", "Approver",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
}

func TestPDFPagesHaveHeaderAndNumbers(t *testing.T) {
	r := sampleReport()
	pages := pdfPages(t, renderPDF(t, r, sampleRequirements()))
	if len(pages) < 5 {
		t.Fatalf("the PDF has %d pages, want the summary, IQ, OQ, PQ, matrix and signatures on pages of their own", len(pages))
	}
	for i, p := range pages {
		if want := "Document " + r.DocID; !strings.Contains(p, want) {
			t.Errorf("page %d lacks the header %q", i+1, want)
		}
		if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d lacks %q", i+1, want)
		}
	}
	if !strings.Contains(pages[0], "Summary") || !strings.Contains(pages[0], "FAIL: 1 of 13 cases failed (OQ-02).") {
		t.Errorf("page 1 lacks the summary and verdict:\n%s", pages[0])
	}
	if last := pages[len(pages)-1]; !strings.Contains(last, "Signatures") {
		t.Errorf("the last page lacks the signature block:\n%s", last)
	}
}

// Evidence longer than a page must continue on the next, not be cut off.
func TestPDFLongEvidenceContinues(t *testing.T) {
	r := sampleReport()
	var ev []string
	for i := range 150 {
		ev = append(ev, fmt.Sprintf("line-%03d %s", i, strings.Repeat("e", 64)))
	}
	r.IQ[0].Evidence = nil
	for _, e := range ev {
		r.IQ[0].Evidence = append(r.IQ[0].Evidence, Evidence{Name: "output", Value: e})
	}
	text := strings.Join(pdfPages(t, renderPDF(t, r, nil)), "\n")
	for _, e := range []string{"line-000", "line-075", "line-149"} {
		if !strings.Contains(text, e) {
			t.Errorf("the PDF lost evidence %s", e)
		}
	}
}

func TestPDFIsDeterministic(t *testing.T) {
	a := renderPDF(t, sampleReport(), sampleRequirements())
	b := renderPDF(t, sampleReport(), sampleRequirements())
	if !bytes.Equal(a, b) {
		t.Error("two renderings of one report differ")
	}
}

func TestPDFText(t *testing.T) {
	tr := pdfText(newPDFDoc(view{}, 0).pdf)
	tests := map[string]struct{ in, want string }{
		"ascii":                   {"IQ-01 ok", "IQ-01 ok"},
		"code page 1252":          {"§ — “é”", "\xa7 \x97 \x93\xe9\x94"},
		"spelled out":             {"≥ ≤ → ✓", ">= <= -> v"},
		"outside the code page":   {"温度", "??"},
		"control characters":      {"a\x00b\x1bc\u0085d", "a b c d"},
		"newlines kept, tabs cut": {"a\nb\tc", "a\nb    c"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tr(tt.in); got != tt.want {
				t.Errorf("pdfText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPDFRefusesBadReport(t *testing.T) {
	r := sampleReport()
	r.Summary.Pass = 0
	if b, err := PDF(r, nil); err == nil || b != nil {
		t.Fatalf("PDF of a report whose summary is wrong = %d bytes, %v; want an error", len(b), err)
	}
}

// Text that looks like a page-count placeholder is printed as it is.
func TestPDFKeepsPlaceholderLikeText(t *testing.T) {
	r := sampleReport()
	r.OQ[3].Actual = "output: {nb} pages, (parens) and \\backslash"
	text := strings.Join(pdfPages(t, renderPDF(t, r, nil)), "\n")
	if !strings.Contains(text, r.OQ[3].Actual) {
		t.Errorf("the PDF's text lacks %q", r.OQ[3].Actual)
	}
}
