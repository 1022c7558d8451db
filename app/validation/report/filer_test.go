package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestFilingHoldsTheReportToTheServicesObservations: a real run files,
// and every way an agent running as the account could dress up a report
// (a failed case made to pass, a record made up or left out, another
// account or device, an old report filed again, a run that never
// happened) is refused, recorded as a refusal, and leaves no
// validation.run behind.
func TestFilingHoldsTheReportToTheServicesObservations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a validation against a service")
	}
	ctx := context.Background()
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	rep, err := validation.Run(ctx, validation.Options{Service: svc.Client, Version: "test", Operator: "QA",
		Password: func() (string, error) { return apptest.Password, nil }})
	if err != nil {
		t.Fatal(err)
	}
	caseOf := func(r *validation.Report, id string) *validation.Case {
		for _, cs := range [][]validation.Case{r.IQ, r.OQ} {
			for i := range cs {
				if cs[i].ID == id {
					return &cs[i]
				}
			}
		}
		t.Fatalf("no case %s", id)
		return nil
	}
	// The test service checks no enrollment: IQ-06 fails, honestly.
	if c := caseOf(rep, "IQ-06"); c.Result != validation.Fail {
		t.Fatalf("IQ-06 = %s %s; the forgery below needs it failed", c.Result, c.Actual)
	}

	out := t.TempDir()
	// A folder that already holds one of the files stops the filing
	// before the service records anything, and keeps what was there.
	taken := filepath.Join(out, rep.DocID+".pdf")
	os.WriteFile(taken, []byte("someone's file"), 0o644)
	if _, err := validation.File(ctx, svc.Client, rep, out, "", "cli"); err == nil || !strings.Contains(err.Error(), "nothing was filed") {
		t.Fatalf("filing into a folder holding %s: %v", taken, err)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "*")); len(left) != 1 {
		t.Fatalf("after a refused filing the folder holds %v", left)
	}
	if b, _ := os.ReadFile(taken); string(b) != "someone's file" {
		t.Fatalf("the existing file became %q", b)
	}
	os.Remove(taken)
	filed, err := validation.File(ctx, svc.Client, rep, out, "", "cli")
	if err != nil {
		t.Fatalf("filing a real run: %v", err)
	}
	var exts []string
	for _, f := range filed.Files {
		exts = append(exts, filepath.Ext(f))
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(exts, []string{".json", ".txt", ".html", ".pdf"}) || filed.Record == "" {
		t.Fatalf("filed %v (record %q)", filed.Files, filed.Record)
	}
	written, err := os.ReadFile(filed.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if back, err := validation.Parse(written); err != nil || back.DocID != rep.DocID {
		t.Fatalf("the filed JSON reads back as %v, %v", back, err)
	}
	readFiled(t, rep, filed)
	back, _ := validation.Parse(written)
	serviceCheck := func(id string) string {
		for _, e := range caseOf(back, id).Evidence {
			if e.Name == "service check" {
				return e.Value
			}
		}
		return ""
	}
	if got := serviceCheck("OQ-02"); !strings.Contains(got, "is in the trail") {
		t.Errorf("OQ-02's service check = %q, want its record confirmed", got)
	}
	if got := serviceCheck("IQ-03"); !strings.HasPrefix(got, "rerun by the service") {
		t.Errorf("IQ-03's service check = %q", got)
	}
	if got := serviceCheck("OQ-13"); !strings.Contains(got, "not observable by the service") {
		t.Errorf("OQ-13's service check = %q", got)
	}

	// A record of the account's own making, to cite.
	if err := svc.Record(ctx, localapi.RecordRequest{Event: audit.EventSetupWrite, Reason: "cursor"}); err != nil {
		t.Fatal(err)
	}
	recs, err := svc.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	setupWrite := recs[len(recs)-1]
	if setupWrite.Event != audit.EventSetupWrite {
		t.Fatalf("last record %+v", setupWrite)
	}

	forgeries := []struct {
		name string
		edit func(r *validation.Report)
		says string
	}{
		{"a failed IQ case made to pass", func(r *validation.Report) {
			c := caseOf(r, "IQ-06")
			c.Result, c.Actual = validation.Pass, "managed (mdm)"
		}, "IQ-06 says pass, but the service finds fail"},
		{"a record hash made up", func(r *validation.Report) {
			c := caseOf(r, "OQ-02")
			c.Evidence = append(c.Evidence, validation.Evidence{Name: "record", Value: "tool.denied (seq 2, hash 0123456789abcdef)"})
		}, "OQ-02 cites record 0123456789abcdef"},
		{"a call's record left out", func(r *validation.Report) {
			caseOf(r, "OQ-04").Evidence = nil
		}, "OQ-04 passed without citing the record"},
		{"another account", func(r *validation.Report) {
			r.ExecutedBy.Account = "qa-lead"
		}, `it says it was run by "qa-lead"`},
		{"another device", func(r *validation.Report) {
			r.Workstation.Device = "labpc99"
		}, `it is about device "labpc99"`},
		{"the same report filed again", func(*validation.Report) {}, "was already filed"},
		{"a run that never happened", func(r *validation.Report) {
			r.Generated = time.Now().UTC()
			r.DocID = strings.TrimSuffix(r.DocID, r.DocID[len(r.DocID)-16:]) + r.Generated.Format("20060102T150405Z")
		}, "no scispot-mcp-validate session"},
		{"a record of another kind cited", func(r *validation.Report) {
			c := caseOf(r, "OQ-02")
			c.Evidence = []validation.Evidence{{Name: "record", Value: "tool.denied hash " + setupWrite.Hash}}
		}, "OQ-02 cites record " + setupWrite.Hash},
		{"a citation too short to look up", func(r *validation.Report) {
			c := caseOf(r, "OQ-04")
			c.Evidence = append(c.Evidence, validation.Evidence{Name: "record", Value: "HASH: 12ab"})
		}, "names a hash the service cannot look up"},
		{"a case left out", func(r *validation.Report) {
			r.OQ = slices.DeleteFunc(r.OQ, func(c validation.Case) bool { return c.ID == "OQ-13" })
		}, "IQ and OQ cases; this version runs"},
		{"a weaker expected result", func(r *validation.Report) {
			caseOf(r, "OQ-02").Expected = "The tool is refused or not."
		}, "OQ-02's title, expected result or requirements are not this version's"},
		{"a PQ case marked passed", func(r *validation.Report) {
			r.PQ[0].Result, r.PQ[0].Actual = validation.Pass, "the lab's scenario worked"
		}, "PQ section is not the blank template"},
		{"a case dated before the run", func(r *validation.Report) {
			caseOf(r, "OQ-01").Time = r.Generated.Add(-time.Hour)
		}, "OQ-01 ran at"},
		{"a report from long ago", func(r *validation.Report) {
			r.Generated = r.Generated.Add(-24 * time.Hour)
		}, "a report is filed within"},
	}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			b, _ := rep.Marshal()
			forged, err := validation.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			f.edit(forged)
			forged.Summary = validation.Summarize(forged.IQ, forged.OQ)
			_, err = validation.File(ctx, svc.Client, forged, t.TempDir(), "", "cli")
			var le *localapi.Error
			if !errors.As(err, &le) || le.Rule != "validation-unsupported" || !strings.Contains(le.Sentence, f.says) {
				t.Fatalf("filing it = %v, want a validation-unsupported refusal saying %q", err, f.says)
			}
		})
	}

	recs, err = svc.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var runs, refusals int
	for _, r := range recs {
		switch {
		case r.Event == audit.EventValidationRun:
			runs++
			var rr validation.RunRecord
			if err := json.Unmarshal(r.Args, &rr); err != nil || rr.DocID != rep.DocID || len(rr.Files) != 4 || r.Hash != filed.Record {
				t.Errorf("validation.run %s args %s", r.Hash, r.Args)
			}
		case r.Event == audit.EventRefused && r.Rule == "validation-unsupported":
			refusals++
			if !strings.HasPrefix(r.Reason, "The validation report was not filed: ") {
				t.Errorf("refusal says %q", r.Reason)
			}
		}
	}
	if runs != 1 || refusals != len(forgeries) {
		t.Fatalf("%d validation.run and %d refusals recorded, want 1 and %d", runs, refusals, len(forgeries))
	}
}
