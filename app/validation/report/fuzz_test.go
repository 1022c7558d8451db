package report

import (
	"github.com/scispot/mcp-desktop/app/validation"

	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The report's text comes from outside: tool outputs, host and operator
// names, requirement text. Whatever it holds, both renderings succeed, the
// HTML gains no element the template does not write, and the PDF's text
// carries no control character.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"", "<script>alert(1)</script>", `"></style><img src=x onerror=alert(1)>`,
		"§11.10(e) ≥ — “x”", "温度 ✓ \x00\x1b\r\n\t", strings.Repeat("x", 5000), "{nb} (\\) %PDF",
	} {
		f.Add(s, s)
	}
	allowed := map[string]bool{}
	for _, e := range strings.Fields("html head body meta title style header h1 h2 h3 p section div table tbody tr th td a span article ol ul li br") {
		allowed[e] = true
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		r := sampleReport()
		r.IQ = r.IQ[:1] // small: two PDFs per input
		r.Summary = validation.Summarize(r.IQ, r.OQ)
		r.ExecutedBy.Operator, r.Workstation.Hostname = a, b
		r.OQ[0].Actual, r.OQ[0].Title = a, b
		r.OQ[1].Evidence = []Evidence{{Name: a, Value: b}}
		r.OQ[1].Steps = []string{b}
		r.IQ[0].Requirements = []string{a}
		reqs := append(sampleRequirements(), Requirement{ID: b, Text: a})

		h, err := HTML(r, reqs)
		if err != nil {
			t.Fatalf("HTML: %v", err)
		}
		doc, err := html.Parse(bytes.NewReader(h))
		if err != nil {
			t.Fatalf("parsing the HTML: %v", err)
		}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && !allowed[n.Data] {
				t.Fatalf("the HTML holds a <%s> element", n.Data)
			}
			for _, at := range n.Attr {
				if strings.HasPrefix(at.Key, "on") || at.Key == "src" {
					t.Fatalf("the HTML holds a %s attribute", at.Key)
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)

		p, err := PDF(r, reqs)
		if err != nil {
			t.Fatalf("PDF: %v", err)
		}
		if !bytes.HasPrefix(p, []byte("%PDF-")) {
			t.Fatal("the PDF does not start with %PDF-")
		}
	})
}

func FuzzPDFText(f *testing.F) {
	for _, s := range []string{"", "a\nb", "§ — “é” ≥ ✓ 温度", "\x00\x7f\u0085\u2028", "\xff\xfe"} {
		f.Add(s)
	}
	tr := pdfText(newPDFDoc(view{}, 0).pdf)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []byte(tr(s)) {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Fatalf("pdfText(%q) holds control byte %#x", s, c)
			}
		}
	})
}
