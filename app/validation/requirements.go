package validation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	validationdocs "github.com/scispot/mcp-desktop/docs/validation"
)

// ErrRequirements means the requirements list could not be read as the
// table docs/validation/requirements.md keeps.
var ErrRequirements = errors.New("the requirements list is malformed")

// ParseRequirements reads the requirement rows of
// docs/validation/requirements.md, the table
//
//	| ID | requirement | source | tests | cases |
//
// whose rows start with "| REQ-". Other lines (prose, the header, the
// separator) are skipped. A row with the wrong number of cells, no text or
// an ID already seen is an error naming its line: a matrix built from a
// half-read list would show requirements as unverified that are not.
func ParseRequirements(r io.Reader) ([]Requirement, error) {
	var out []Requirement
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| REQ-") {
			continue
		}
		cells := splitRow(line)
		if len(cells) != 5 {
			return nil, fmt.Errorf("%w: line %d has %d cells, want 5 (ID, requirement, source, tests, cases)", ErrRequirements, n, len(cells))
		}
		q := Requirement{ID: cells[0], Text: cells[1], Source: cells[2], Tests: list(cells[3]), Cases: list(cells[4])}
		if strings.ContainsAny(q.ID, " \t") || q.Text == "" {
			return nil, fmt.Errorf("%w: line %d: requirement %q has no text or a malformed ID", ErrRequirements, n, q.ID)
		}
		if first, ok := seen[q.ID]; ok {
			return nil, fmt.Errorf("%w: line %d repeats %s of line %d", ErrRequirements, n, q.ID, first)
		}
		seen[q.ID] = n
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the requirements list: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no requirement rows", ErrRequirements)
	}
	return out, nil
}

// splitRow splits a Markdown table row into its trimmed cells; `\|` is a
// pipe inside a cell.
func splitRow(line string) []string {
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			b.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// list splits a comma-separated cell into its trimmed, non-empty items.
func list(cell string) []string {
	var l []string
	for _, x := range strings.Split(cell, ",") {
		if x = strings.TrimSpace(x); x != "" {
			l = append(l, x)
		}
	}
	return l
}

// Requirement is one row of docs/validation/requirements.md: its ID, what
// it requires, where that comes from (seed policy, 21 CFR 11, Annex 11),
// the repository's tests that verify it and the IQ/OQ cases that do.
type Requirement struct {
	ID     string   `json:"id"`
	Text   string   `json:"text"`
	Source string   `json:"source,omitempty"`
	Tests  []string `json:"tests,omitempty"`
	Cases  []string `json:"cases,omitempty"`
}

// Requirements is the list this build was validated against.
func Requirements() ([]Requirement, error) {
	return ParseRequirements(bytes.NewReader(validationdocs.Requirements()))
}
