package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestRecordTakesOnlyThePersonsOwnActions: the account may record a client
// config it wrote and a validation run's digests, nothing the service
// records itself (a call, a kill), and a validation.run only with a JSON
// object of bounded size.
func TestRecordTakesOnlyThePersonsOwnActions(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	ctx := context.Background()
	tests := []struct {
		name string
		req  localapi.RecordRequest
		ok   bool
	}{
		{"setup.write", localapi.RecordRequest{Event: audit.EventSetupWrite, Reason: "cursor"}, true},
		{"validation.run", localapi.RecordRequest{Event: audit.EventValidationRun, Reason: "VAL-x", Args: json.RawMessage(`{"doc_id":"VAL-x","files":[{"name":".json","sha256":"ab"}]}`)}, true},
		{"validation.run without args", localapi.RecordRequest{Event: audit.EventValidationRun, Reason: "VAL-y"}, false},
		{"validation.run with an array", localapi.RecordRequest{Event: audit.EventValidationRun, Args: json.RawMessage(`[1]`)}, false},
		{"validation.run too large", localapi.RecordRequest{Event: audit.EventValidationRun, Args: json.RawMessage(`{"x":"` + strings.Repeat("a", localapi.MaxRecordArgs) + `"}`)}, false},
		{"a call", localapi.RecordRequest{Event: audit.EventToolCall, Tool: "list_labsheets"}, false},
		{"a kill", localapi.RecordRequest{Event: audit.EventKill}, false},
		{"a resume", localapi.RecordRequest{Event: audit.EventResume}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Record(ctx, tt.req)
			if (err == nil) != tt.ok {
				t.Fatalf("Record = %v, want ok %v", err, tt.ok)
			}
		})
	}
	recs, err := c.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range recs {
		events = append(events, string(r.Event))
		if r.Event == audit.EventValidationRun && !strings.Contains(string(r.Args), `"doc_id":"VAL-x"`) {
			t.Errorf("validation.run args = %s", r.Args)
		}
	}
	if strings.Join(events, " ") != "setup.write validation.run" {
		t.Fatalf("recorded %v", events)
	}
}
