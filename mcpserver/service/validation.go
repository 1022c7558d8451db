package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// ReportFiler checks a validation report an account files against what
// the service observed and renders its files. record is the
// validation.run record's args. It is a function of the composition root
// so the service does not carry the report's renderers
// (app/validation/report); errors are sentences.
type ReportFiler func(ctx context.Context, report []byte, seen ReportFacts) (filed localapi.FiledValidation, record json.RawMessage, err error)

// ReportFacts is what the service observed for a filing.
type ReportFacts struct {
	// Status is the caller's status as the service gives it.
	Status localapi.Status
	// Trail is the account's records since the report was generated.
	Trail []audit.Record
	// TrailVerifies is whether the account's whole trail verifies now.
	TrailVerifies bool
	// Hostname is this machine's.
	Hostname string
	Now      time.Time
}

// maxReportAge is how old a report's run may be when it is filed; older
// ones are refused before the trail is read.
const maxReportAge = 6 * time.Hour

// reportHead is what the service reads of a report before the filer:
// when its run began, to read the trail from then on.
type reportHead struct {
	DocID     string    `json:"doc_id"`
	Generated time.Time `json:"generated"`
}

// handleFileValidation files a validation report: the account's program
// ran the cases, but only the service writes validation.run, and only for
// a report its own observations support, so a report an agent running as
// the account made up cannot be filed as the workstation's validation.
func (s *Service) handleFileValidation(w http.ResponseWriter, r *http.Request, c *caller) {
	if s.cfg.FileReport == nil {
		writeError(w, errorf(http.StatusNotImplemented, "validation-unavailable", "This Scispot MCP service cannot file validation reports."))
		return
	}
	var req localapi.FileValidationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, localapi.MaxValidationReport+1024)).Decode(&req); err != nil {
		writeError(w, errorf(http.StatusBadRequest, "", "The validation report could not be read (at most %d MiB of JSON): %v.", localapi.MaxValidationReport>>20, err))
		return
	}
	var head reportHead
	if err := json.Unmarshal(req.Report, &head); err != nil || head.Generated.IsZero() {
		writeError(w, errorf(http.StatusBadRequest, "", "The validation report has no generation time."))
		return
	}
	ctx := r.Context()
	refuse := func(why string) {
		sentence := "The validation report was not filed: " + why + "."
		s.record(ctx, c, clientOfSource(req.Source), audit.Record{Event: audit.EventRefused, Outcome: audit.OutcomeDenied,
			Rule: "validation-unsupported", Reason: sentence})
		writeError(w, errorf(http.StatusUnprocessableEntity, "validation-unsupported", "%s", sentence))
	}
	now := s.cfg.Now()
	if head.Generated.Before(now.Add(-maxReportAge)) || head.Generated.After(now.Add(time.Minute)) {
		refuse(fmt.Sprintf("it was generated at %s; a report is filed within %s of its run", head.Generated.UTC().Format(time.RFC3339), maxReportAge))
		return
	}
	// One filing at a time per account: a document ID is filed once.
	c.user.filing.Lock()
	defer c.user.filing.Unlock()
	facts, _ := s.facts(ctx, c, false, "", "")
	seen := ReportFacts{Status: s.status(ctx, c, facts), Now: now}
	seen.Hostname, _ = os.Hostname()
	trail, err := audit.Read(ctx, c.user.auditDir(), audit.Filter{Since: head.Generated})
	if err != nil && !errors.Is(err, io.EOF) {
		writeError(w, errorf(http.StatusInternalServerError, "", "Reading the audit trail to check the report: %v.", err))
		return
	}
	seen.Trail = trail
	vr, err := audit.Verify(ctx, c.user.auditDir(), s.verifyOptions()...)
	seen.TrailVerifies = err == nil && vr.OK()
	filed, args, err := s.cfg.FileReport(ctx, req.Report, seen)
	if err != nil {
		refuse(err.Error())
		return
	}
	rec := audit.Record{Event: audit.EventValidationRun, Outcome: audit.OutcomeOK, Reason: filed.DocID, Args: args}
	written, err := s.recordOnce(ctx, c, clientOfSource(req.Source), rec)
	if err != nil {
		writeError(w, errorf(http.StatusInternalServerError, "", "Recording the validation run: %v.", err))
		return
	}
	filed.Record = written.Hash
	writeJSON(w, filed)
}
