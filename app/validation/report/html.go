package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/scispot/mcp-desktop/app/validation"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once per call: a package-level parsed template
// would be shared state, and parsing costs little next to a validation run.
func htmlTemplate() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"stamp":        stamp,
		"executor":     executor,
		"osLine":       osLine,
		"appLine":      appLine,
		"evidenceLine": evidenceLine,
		"when":         when,
		"join":         func(s []string) string { return strings.Join(s, ", ") },
		"resultWord":   resultWord,
		"classOf":      func(s string) string { return strings.ReplaceAll(s, " ", "") },
		"failed": func(cs []Case) int {
			n := 0
			for _, c := range cs {
				if c.Result == Fail {
					n++
				}
			}
			return n
		},
	}).Parse(htmlSource)
}

// HTML renders the report as one self-contained HTML file: inline CSS, no
// script, nothing fetched, printable with a page per part. Text from the
// run (hostile or not) is escaped by html/template for where it lands.
// reqs gives the matrix its requirement texts and order; nil lists only the
// IDs the cases name.
func HTML(r *Report, reqs []Requirement) ([]byte, error) {
	v, err := newView(r, reqs)
	if err != nil {
		return nil, err
	}
	t, err := htmlTemplate()
	if err != nil {
		return nil, fmt.Errorf("parsing the report template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("rendering the HTML report: %w", err)
	}
	return b.Bytes(), nil
}

// Renderings are every file of a report: its JSON, plain text, HTML and
// PDF, the last two with the traceability matrix quoting reqs.
func Renderings(reqs []validation.Requirement) []validation.Rendering {
	return []validation.Rendering{
		{File: ".json", Render: func(r *validation.Report) ([]byte, error) { return r.Marshal() }},
		{File: ".txt", Render: validation.Text},
		{File: ".html", Render: func(r *validation.Report) ([]byte, error) { return HTML(r, reqs) }},
		{File: ".pdf", Render: func(r *validation.Report) ([]byte, error) { return PDF(r, reqs) }},
	}
}
