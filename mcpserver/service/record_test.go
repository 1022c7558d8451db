package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestRecordTakesOnlyThePersonsOwnActions: the account may record a client
// config it wrote, nothing the service records itself (a call, a kill, a
// validation run, which only validation/file records after checking it).
func TestRecordTakesOnlyThePersonsOwnActions(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	ctx := context.Background()
	tests := []struct {
		name string
		req  localapi.RecordRequest
		ok   bool
	}{
		{"setup.write", localapi.RecordRequest{Event: audit.EventSetupWrite, Reason: "cursor"}, true},
		{"validation.run", localapi.RecordRequest{Event: audit.EventValidationRun, Reason: "VAL-x"}, false},
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
	}
	if strings.Join(events, " ") != "setup.write" {
		t.Fatalf("recorded %v", events)
	}
}
