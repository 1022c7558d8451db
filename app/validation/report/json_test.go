package report

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/report.json is written in the runner's JSON (app/validation on
// i17-run, as `validate --json` prints it). Decoding it with unknown
// fields refused keeps this package's copy of the model in step with it.
func TestRendersTheRunnersJSON(t *testing.T) {
	b, err := os.ReadFile("testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the runner's JSON does not fit this package's model: %v", err)
	}
	h, err := HTML(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IQ-01", "OQ-09", "PQ-01", "REQ-P11-06", "REQ-POL-10", "FAIL: 1 of 2 cases failed (OQ-09).",
		"Dana Reviewer (account qa)", "linux, Debian GNU/Linux 13 (trixie), amd64", "kill to closed: timeout after 5000 ms", "(5003 ms)"} {
		if !strings.Contains(string(h), want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
	p, err := PDF(&r, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(strings.Join(pdfPages(t, p), " ")), " ")
	for _, want := range []string{"IQ-01", "OQ-09", "PQ-01", "REQ-P11-06", "REQ-POL-10", "kill to closed: timeout after 5000 ms"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
}
