package report

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Page geometry in millimetres (A4 portrait), shared by every page.
const (
	pageMargin = 15.0
	topMargin  = 20.0
	bottomEdge = 18.0 // the footer lives below this
	lineH      = 4.6
	cellPad    = 1.2
	labelW     = 42.0
)

// asciiFallback spells the symbols that code page 1252 lacks — which the
// core fonts cannot show — in plain text, so "≥ 3" prints as ">= 3" and not
// as a dot. Everything else outside the code page becomes "?".
var asciiFallback = strings.NewReplacer(
	"≥", ">=", "≤", "<=", "≠", "!=", "→", "->", "←", "<-", "⇒", "=>",
	"−", "-", "‐", "-", "‑", "-", "✓", "v", "✔", "v", "✗", "x", "✘", "x",
	"\u00a0", " ", "\u202f", " ", "\u2009", " ", "\t", "    ",
)

// pdfText returns the function that turns UTF-8 text into the code page
// 1252 bytes the core fonts print. fpdf's own translator does the mapping;
// this adds the fallbacks above and drops control characters, which would
// otherwise reach the page as garbage.
func pdfText(pdf *fpdf.Fpdf) func(string) string {
	cp1252 := pdf.UnicodeTranslatorFromDescriptor("")
	return func(s string) string {
		s = asciiFallback.Replace(s)
		var b strings.Builder
		for _, r := range s {
			switch {
			case r == '\n':
				b.WriteByte('\n')
			case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
				b.WriteByte(' ')
			case r < 0x80:
				b.WriteRune(r)
			default:
				t := cp1252(string(r))
				if t == "." { // fpdf's mark for "not in the code page"
					t = "?"
				}
				b.WriteString(t)
			}
		}
		return b.String()
	}
}

// PDF renders the report as a PDF with the same content and order as the
// HTML: a header with the document ID and "Page N of M" on every page, the
// summary first, then the cases, the matrix and the signature block. It
// uses the standard Helvetica and Courier fonts, so its text is
// extractable (pdftotext) and nothing is embedded.
func PDF(r *Report, reqs []Requirement) ([]byte, error) {
	v, err := newView(r, reqs)
	if err != nil {
		return nil, err
	}
	// Rendered twice: the first time counts the pages for "Page N of M".
	// (fpdf's page-count alias would be replaced in the report's own text
	// too, were a tool output to contain it.) The footer sits below the
	// body, so the count cannot change between the two.
	count := newPDFDoc(v, 0)
	count.render()
	if err := count.pdf.Error(); err != nil {
		return nil, fmt.Errorf("rendering the PDF report: %w", err)
	}
	d := newPDFDoc(v, count.pdf.PageNo())
	d.render()
	var b bytes.Buffer
	if err := d.pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("rendering the PDF report: %w", err)
	}
	return b.Bytes(), nil
}

type pdfDoc struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	v   view
	// pages is the document's page count, 0 while it is being counted.
	pages int
	// repeat redraws a table's header row on a page the table continues on.
	repeat func()
}

type cell struct {
	text  string
	bold  bool
	mono  bool
	fill  bool
	color [3]int
}

func newPDFDoc(v view, pages int) *pdfDoc {
	pdf := fpdf.New("P", "mm", "A4", "")
	d := &pdfDoc{pdf: pdf, tr: pdfText(pdf), v: v, pages: pages}
	pdf.SetMargins(pageMargin, topMargin, pageMargin)
	pdf.SetAutoPageBreak(false, bottomEdge)
	// The same report gives the same bytes: the dates are the run's, and
	// the catalogs are sorted.
	when := v.Generated
	if when.IsZero() {
		when = time.Unix(0, 0)
	}
	pdf.SetCreationDate(when)
	pdf.SetModificationDate(when)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Validation report "+v.DocID, true)
	pdf.SetSubject("Scispot MCP Desktop IQ/OQ/PQ validation report", true)
	pdf.SetCreator("Scispot MCP Desktop "+v.Workstation.AppVersion, true)
	pdf.SetAuthor(executor(v.ExecutedBy), true)
	pdf.SetLang("en")
	pdf.SetHeaderFunc(d.header)
	pdf.SetFooterFunc(d.footer)
	return d
}

func (d *pdfDoc) header() {
	p := d.pdf
	p.SetY(8)
	p.SetFont("Helvetica", "", 8)
	p.SetTextColor(85, 85, 85)
	p.CellFormat(90, 4, d.tr("Scispot MCP Desktop — validation report"), "", 0, "L", false, 0, "")
	p.CellFormat(0, 4, d.tr("Document "+d.v.DocID), "", 1, "R", false, 0, "")
	p.SetDrawColor(153, 153, 153)
	p.Line(pageMargin, 13, 210-pageMargin, 13)
	p.SetTextColor(17, 17, 17)
	p.SetY(topMargin)
}

func (d *pdfDoc) footer() {
	p := d.pdf
	p.SetY(-12)
	p.SetFont("Helvetica", "", 8)
	p.SetTextColor(85, 85, 85)
	p.CellFormat(90, 4, d.tr(d.v.DocID), "", 0, "L", false, 0, "")
	p.CellFormat(0, 4, fmt.Sprintf("Page %d of %d", p.PageNo(), d.pages), "", 0, "R", false, 0, "")
	p.SetTextColor(17, 17, 17)
}

func (d *pdfDoc) render() {
	p := d.pdf
	p.AddPage()
	p.SetFont("Helvetica", "B", 18)
	p.CellFormat(0, 9, "Validation report", "", 1, "L", false, 0, "")
	d.muted("Scispot MCP Desktop — installation, operational and performance qualification")
	d.heading("Summary", 0)

	red, green := [3]int{180, 35, 24}, [3]int{26, 127, 55}
	vc := green
	if d.v.Summary.Fail > 0 {
		vc = red
	}
	p.SetFont("Helvetica", "B", 12)
	p.SetTextColor(vc[0], vc[1], vc[2])
	p.MultiCell(0, 6, d.tr(d.v.Verdict), "1", "L", false)
	p.SetTextColor(17, 17, 17)
	p.Ln(3)

	r := d.v.Report
	d.kv([][2]string{
		{"Document ID", r.DocID},
		{"Result", strings.ToUpper(string(r.Summary.Result))},
		{"Cases passed", fmt.Sprintf("%d of %d", r.Summary.Pass, r.Summary.Total)},
		{"Cases failed", fmt.Sprint(r.Summary.Fail)},
		{"Cases skipped", fmt.Sprint(r.Summary.Skip)},
		{"Device", r.Workstation.Device},
		{"Host name", r.Workstation.Hostname},
		{"Operating system", osLine(r.Workstation)},
		{"Application version", appLine(r.Workstation)},
		{"Service version", r.Workstation.ServiceVersion},
		{"Executed by", executor(r.ExecutedBy)},
		{"Generated", stamp(r.Generated)},
	})
	p.Ln(3)
	widths := []float64{110, 35, 35}
	head := []cell{{text: "Part", bold: true, fill: true}, {text: "Cases", bold: true, fill: true}, {text: "Failed", bold: true, fill: true}}
	d.table(widths, head, func() {
		for _, pt := range d.v.Parts {
			failed := 0
			for _, c := range pt.Cases {
				if c.Result == Fail {
					failed++
				}
			}
			d.row(widths, []cell{{text: pt.Title}, {text: fmt.Sprint(len(pt.Cases))}, {text: fmt.Sprint(failed)}})
		}
	})
	p.Ln(2)
	d.muted("The traceability matrix maps each requirement to the cases that verify it; the signature block is on the last page.")

	for _, pt := range d.v.Parts {
		p.AddPage()
		d.heading(pt.Title, 0)
		d.muted(pt.Intro)
		if len(pt.Cases) == 0 {
			d.para("No cases.")
		}
		for _, c := range pt.Cases {
			d.caseBlock(c, pt.Template)
		}
	}

	p.AddPage()
	d.heading("Traceability matrix", 0)
	d.muted("Each requirement, the cases that verify it and its result: pass when a case verifying it passed and none failed; PQ template cases, not yet run, decide nothing.")
	mw := []float64{26, 62, 26, 46, 20}
	mh := []cell{{text: "Requirement", bold: true, fill: true}, {text: "Text", bold: true, fill: true}, {text: "Source", bold: true, fill: true}, {text: "Cases", bold: true, fill: true}, {text: "Result", bold: true, fill: true}}
	d.table(mw, mh, func() {
		for _, m := range d.v.Matrix {
			refs := make([]string, len(m.Cases))
			for i, c := range m.Cases {
				refs[i] = c.String()
			}
			cases := strings.Join(refs, ", ")
			if cases == "" {
				cases = "none"
			}
			d.row(mw, []cell{{text: m.ID, mono: true}, {text: m.Text}, {text: m.Source}, {text: cases}, {text: strings.ToUpper(m.Result), bold: true, color: resultColor(m.Result)}})
		}
	})

	p.AddPage()
	d.heading("Signatures", 0)
	d.para("By signing, each person below states the meaning given beside their role for document " + d.v.DocID + ".")
	p.Ln(2)
	sw := []float64{22, 38, 38, 24, 58}
	sh := []cell{{text: "Role", bold: true, fill: true}, {text: "Printed name", bold: true, fill: true}, {text: "Signature", bold: true, fill: true}, {text: "Date", bold: true, fill: true}, {text: "Meaning of signature", bold: true, fill: true}}
	d.table(sw, sh, func() {
		for _, s := range d.v.Signoffs {
			// Blank lines leave room to sign by hand.
			d.row(sw, []cell{{text: s.Role + "\n\n\n"}, {}, {}, {}, {text: s.Meaning}})
		}
	})
}

func resultColor(s string) [3]int {
	switch s {
	case string(Pass):
		return [3]int{26, 127, 55}
	case string(Fail):
		return [3]int{180, 35, 24}
	default:
		return [3]int{107, 89, 0}
	}
}

func (d *pdfDoc) heading(s string, level int) {
	p := d.pdf
	size := 14.0
	if level > 0 {
		size = 11
	}
	d.ensure(size*0.6 + 4*lineH)
	p.Bookmark(d.tr(s), level, -1)
	p.SetFont("Helvetica", "B", size)
	p.MultiCell(0, size*0.5, d.tr(s), "", "L", false)
	if level == 0 {
		y := p.GetY() + 0.5
		p.SetDrawColor(51, 51, 51)
		p.SetLineWidth(0.5)
		p.Line(pageMargin, y, 210-pageMargin, y)
		p.SetLineWidth(0.2)
	}
	p.Ln(2.5)
}

func (d *pdfDoc) para(s string) {
	d.pdf.SetFont("Helvetica", "", 10)
	d.flow(s)
}

func (d *pdfDoc) muted(s string) {
	d.pdf.SetTextColor(85, 85, 85)
	d.pdf.SetFont("Helvetica", "", 9)
	d.flow(s)
	d.pdf.SetTextColor(17, 17, 17)
}

// flow prints a paragraph across pages, a line at a time.
func (d *pdfDoc) flow(s string) {
	p := d.pdf
	lines := p.SplitLines([]byte(d.tr(s)), 210-2*pageMargin)
	for _, l := range lines {
		d.ensure(lineH)
		p.CellFormat(0, lineH, string(l), "", 1, "L", false, 0, "")
	}
	p.Ln(1.5)
}

// ensure starts a new page unless h millimetres fit on this one.
func (d *pdfDoc) ensure(h float64) {
	_, ph := d.pdf.GetPageSize()
	if d.pdf.GetY()+h > ph-bottomEdge {
		d.pdf.AddPage()
		if d.repeat != nil {
			d.repeat()
		}
	}
}

func (d *pdfDoc) caseBlock(c Case, template bool) {
	title := c.ID
	if c.Title != "" {
		title += " — " + c.Title
	}
	// Keep a case's heading with at least its first rows.
	d.ensure(8 * lineH)
	d.heading(title, 1)
	blank := func(s string) string {
		if s == "" && template {
			return "\n\n"
		}
		return s
	}
	steps := make([]string, len(c.Steps))
	for i, s := range c.Steps {
		steps[i] = fmt.Sprintf("%d. %s", i+1, s)
	}
	result := resultWord(c.Result)
	if c.Result == "" && template {
		result = "\n\n(pass / fail)"
	}
	evidence := make([]string, len(c.Evidence))
	for i, e := range c.Evidence {
		evidence[i] = evidenceLine(e)
	}
	widths := []float64{labelW, 210 - 2*pageMargin - labelW}
	lab := func(s string) cell { return cell{text: s, bold: true, fill: true} }
	d.row(widths, []cell{lab("Case ID"), {text: c.ID, mono: true}})
	d.row(widths, []cell{lab("Requirements"), {text: blank(strings.Join(c.Requirements, ", ")), mono: true}})
	d.row(widths, []cell{lab("Steps"), {text: blank(strings.Join(steps, "\n"))}})
	d.row(widths, []cell{lab("Expected result"), {text: blank(c.Expected)}})
	d.row(widths, []cell{lab("Actual result"), {text: blank(c.Actual)}})
	d.row(widths, []cell{lab("Result"), {text: strings.ToUpper(result), bold: true, color: resultColor(string(c.Result))}})
	d.row(widths, []cell{lab("Evidence"), {text: blank(strings.Join(evidence, "\n")), mono: true}})
	d.row(widths, []cell{lab("Executed by"), {text: blank(executor(c.ExecutedBy))}})
	d.row(widths, []cell{lab("Date and time"), {text: blank(when(c))}})
	d.pdf.Ln(4)
}

func (d *pdfDoc) kv(rows [][2]string) {
	widths := []float64{labelW, 210 - 2*pageMargin - labelW}
	for _, r := range rows {
		d.row(widths, []cell{{text: r[0], bold: true, fill: true}, {text: r[1]}})
	}
}

// table prints a header row, then body, repeating the header on every page
// the body continues on.
func (d *pdfDoc) table(widths []float64, head []cell, body func()) {
	d.ensure(3 * lineH)
	d.row(widths, head)
	d.repeat = func() { d.row(widths, head) }
	body()
	d.repeat = nil
}

func (c cell) font(p *fpdf.Fpdf) {
	family, style, size := "Helvetica", "", 9.5
	if c.mono {
		family, size = "Courier", 8.5
	}
	if c.bold {
		style = "B"
	}
	p.SetFont(family, style, size)
}

// row prints one row of bordered cells whose text wraps. A row taller than
// the space left continues on the next page, a slice of lines at a time, so
// long evidence is never cut off.
func (d *pdfDoc) row(widths []float64, cells []cell) {
	p := d.pdf
	lines := make([][][]byte, len(cells))
	n := 1
	for i, c := range cells {
		c.font(p)
		lines[i] = p.SplitLines([]byte(d.tr(c.text)), widths[i])
		// SplitLines drops trailing newlines; blanks left for handwriting
		// are made of them.
		for extra := strings.Count(c.text, "\n") - strings.Count(strings.TrimRight(c.text, "\n"), "\n"); extra > 0; extra-- {
			lines[i] = append(lines[i], nil)
		}
		n = max(n, len(lines[i]))
	}
	_, ph := p.GetPageSize()
	for done := 0; done < n; {
		room := int(math.Floor((ph - bottomEdge - p.GetY() - 2*cellPad) / lineH))
		// Start on a new page rather than leave a sliver of a row.
		if room < min(n-done, 2) {
			p.AddPage()
			if d.repeat != nil {
				d.repeat()
			}
			continue
		}
		k := min(room, n-done)
		h := float64(k)*lineH + 2*cellPad
		x, y := pageMargin, p.GetY()
		for i, c := range cells {
			style := "D"
			if c.fill {
				p.SetFillColor(238, 238, 238)
				style = "FD"
			}
			p.SetDrawColor(153, 153, 153)
			p.Rect(x, y, widths[i], h, style)
			c.font(p)
			if c.color != [3]int{} {
				p.SetTextColor(c.color[0], c.color[1], c.color[2])
			}
			for j := done; j < done+k && j < len(lines[i]); j++ {
				p.SetXY(x, y+cellPad+float64(j-done)*lineH)
				p.CellFormat(widths[i], lineH, string(lines[i][j]), "", 0, "L", false, 0, "")
			}
			p.SetTextColor(17, 17, 17)
			x += widths[i]
		}
		p.SetXY(pageMargin, y+h)
		done += k
	}
}
