package report_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/app/validation/report"
)

// readFiled opens what a real run filed as the reviewer's tools do: the
// HTML in Debian's headless Chromium, the PDF through pdftotext. Both show
// every case and requirement ID.
func readFiled(t *testing.T, rep *validation.Report, filed validation.Filed) {
	t.Helper()
	reqs, err := validation.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	ids := report.AllIDs(rep, reqs)
	for _, f := range filed.Files {
		switch {
		case strings.HasSuffix(f, ".html"):
			text, scripts := report.DOMText(t, report.Chromium(t, "--dump-dom", report.FileURL(f)))
			for _, id := range ids {
				if !strings.Contains(text, id) {
					t.Errorf("the filed HTML, in Chromium, lacks %s", id)
				}
			}
			if scripts != 0 {
				t.Errorf("the filed HTML has %d script elements", scripts)
			}
		case strings.HasSuffix(f, ".pdf"):
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(strings.Join(report.PDFPages(t, b), "\n")), " ")
			for _, id := range ids {
				if !strings.Contains(text, id) {
					t.Errorf("the filed PDF's text lacks %s", id)
				}
			}
		}
	}
}
