package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once per call: a package-level parsed template
// would be shared state, and parsing costs little next to a validation run.
func htmlTemplate() (*template.Template, error) {
	return template.New("report").Funcs(template.FuncMap{
		"stamp":      stamp,
		"join":       func(s []string) string { return strings.Join(s, ", ") },
		"resultWord": resultWord,
		"classOf":    func(s string) string { return strings.ReplaceAll(s, " ", "") },
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

// HTML writes the report as one self-contained HTML file: inline CSS, no
// script, nothing fetched, printable with a page per part. Text from the
// run (hostile or not) is escaped by html/template for where it lands.
func HTML(w io.Writer, r Report, reqs []Requirement) error {
	v, err := newView(r, reqs)
	if err != nil {
		return err
	}
	t, err := htmlTemplate()
	if err != nil {
		return fmt.Errorf("parsing the report template: %w", err)
	}
	// Rendered into a buffer first so a template error leaves w untouched.
	var b bytes.Buffer
	if err := t.Execute(&b, v); err != nil {
		return fmt.Errorf("rendering the HTML report: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}
