package validation

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A few rows as docs/validation/requirements.md has them.
const requirementsMD = `# Requirements traced by validation

Rows are ` + "`| ID | requirement | source | tests | cases |`" + `.

## Requirements

| ID | requirement | source | tests | cases |
|---|---|---|---|---|
| REQ-POL-01 | Lab data flows only on managed (MDM-enrolled) devices; a device the user's account merely claims to be managed does not count. | Seed policy: only managed devices | cmd/scispot-mcp:TestAUserWrittenEnrollmentDoesNotCount | IQ-06 |
| REQ-P11-02 | Secure, computer-generated, time-stamped audit trail that records actions independently, keeps previous values and makes tampering evident. | 21 CFR 11.10(e) | mcpserver/audit:TestVerifyEverySingleByteEdit | OQ-03, OQ-04 |
| REQ-A11-01 | A change to GxP data carries the reason for the change \| and says who. | EU GMP Annex 11 §9 | cmd/scispot-mcp:TestSignedWrites | OQ-08 |
`

func TestParseRequirements(t *testing.T) {
	got, err := ParseRequirements(strings.NewReader(requirementsMD))
	if err != nil {
		t.Fatal(err)
	}
	want := []Requirement{
		{ID: "REQ-POL-01", Text: "Lab data flows only on managed (MDM-enrolled) devices; a device the user's account merely claims to be managed does not count.", Source: "Seed policy: only managed devices", Tests: []string{"cmd/scispot-mcp:TestAUserWrittenEnrollmentDoesNotCount"}, Cases: []string{"IQ-06"}},
		{ID: "REQ-P11-02", Text: "Secure, computer-generated, time-stamped audit trail that records actions independently, keeps previous values and makes tampering evident.", Source: "21 CFR 11.10(e)", Tests: []string{"mcpserver/audit:TestVerifyEverySingleByteEdit"}, Cases: []string{"OQ-03", "OQ-04"}},
		{ID: "REQ-A11-01", Text: "A change to GxP data carries the reason for the change | and says who.", Source: "EU GMP Annex 11 §9", Tests: []string{"cmd/scispot-mcp:TestSignedWrites"}, Cases: []string{"OQ-08"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requirements (-want +got):\n%s", d)
	}
}

func TestParseRequirementsRejects(t *testing.T) {
	tests := map[string]struct{ md, text string }{
		"no rows":          {md: "# Requirements\n\nnone yet\n", text: "no requirement rows"},
		"a cell missing":   {md: "| REQ-X-01 | text | source | tests |\n", text: "line 1 has 4 cells"},
		"a cell too many":  {md: "x\n| REQ-X-01 | text | source | tests | cases | more |\n", text: "line 2 has 6 cells"},
		"no text":          {md: "| REQ-X-01 |  | source | tests | cases |\n", text: "line 1: requirement \"REQ-X-01\" has no text"},
		"a space in an ID": {md: "| REQ-X 01 | text | source | tests | cases |\n", text: "malformed ID"},
		"an ID twice":      {md: "| REQ-X-01 | a | s | t | c |\n| REQ-X-01 | b | s | t | c |\n", text: "line 2 repeats REQ-X-01 of line 1"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRequirements(strings.NewReader(tt.md))
			if !errors.Is(err, ErrRequirements) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want ErrRequirements saying %q", err, tt.text)
			}
		})
	}
}

func FuzzParseRequirements(f *testing.F) {
	f.Add(requirementsMD)
	f.Add("| REQ-A | \\| | | | |")
	f.Add("| REQ-\\|")
	f.Fuzz(func(t *testing.T, md string) {
		reqs, err := ParseRequirements(strings.NewReader(md))
		if err != nil {
			if !errors.Is(err, ErrRequirements) && !strings.Contains(err.Error(), "reading the requirements list") {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, q := range reqs {
			if !strings.HasPrefix(q.ID, "REQ-") || q.Text == "" || seen[q.ID] {
				t.Fatalf("accepted %+v", q)
			}
			seen[q.ID] = true
		}
	})
}
