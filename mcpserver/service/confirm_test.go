package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

type memPolicy policy.Settings

func (memPolicy) Name() string                                    { return "test policy" }
func (m memPolicy) Read(context.Context) (policy.Settings, error) { return policy.Settings(m), nil }

// withWrites lets the demo's update tool through, with approvals, and
// prints every account as "Test Person".
func withWrites(cfg *service.Config) {
	cfg.Policy = []policy.Store{memPolicy{"AllowWriteTools": true, "AllowedTools": []string{"update_labsheet_rows", "get_labsheet_row"}}}
	cfg.FullName = func(string) (string, error) { return "Test Person", nil }
}

// TestTraySignatureNeedsThePassword: a write the AI client cannot ask
// about reaches the tray with what it changes; a signature without its
// reason or meaning, or with a wrong password, does not count; with the
// right password it is recorded as verified, with the printed name,
// before the write, and linked from the call.
func TestTraySignatureNeedsThePassword(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem, withWrites)
	c.Approves = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: map[string]any{
			"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": "Frozen"}}}}})
		done <- result{res, err}
	}()
	var q *localapi.Confirmation
	for q == nil {
		select {
		case e := <-events.C:
			if e.Kind == localapi.EventConfirm {
				q = e.Confirm
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the tray was not asked")
		}
	}
	if q.Tool != "update_labsheet_rows" || !strings.Contains(q.Current, `"Status":"Active"`) || !q.ReasonRequired ||
		strings.Join(q.Meanings, ",") != "Approved,Rejected" || !q.Destructive {
		t.Fatalf("confirmation = %+v", q)
	}
	for _, tc := range []struct {
		answer localapi.Answer
		status int
		rule   string
	}{
		{localapi.Answer{Approved: true, Meaning: "Approved", Password: "right"}, http.StatusBadRequest, "reason-required"},
		{localapi.Answer{Approved: true, Meaning: "Approved", Reason: "  ", Password: "right"}, http.StatusBadRequest, "reason-required"},
		{localapi.Answer{Approved: true, Meaning: "OK", Reason: "r", Password: "right"}, http.StatusBadRequest, "signature-invalid"},
		{localapi.Answer{Approved: true, Meaning: "Approved", Reason: "r"}, http.StatusUnauthorized, "password-needed"},
		{localapi.Answer{Approved: true, Meaning: "Approved", Reason: "r", Password: "wrong"}, http.StatusUnauthorized, "password-wrong"},
	} {
		tc.answer.ID = q.ID
		err := c.Answer(ctx, tc.answer)
		var e *localapi.Error
		if !errors.As(err, &e) || e.Status != tc.status || e.Rule != tc.rule {
			t.Fatalf("answer %+v = %v, want %d %s", tc.answer, err, tc.status, tc.rule)
		}
	}
	if err := c.Answer(ctx, localapi.Answer{ID: q.ID, Approved: true, Meaning: "Approved", Reason: " Freezer inventory ", Password: "right"}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.res.IsError {
		t.Fatalf("signed write = %+v %v", r.res, r.err)
	}
	recs, err := c.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var sig, call *audit.Record
	for i := range recs {
		switch recs[i].Event {
		case audit.EventSignature:
			sig = &recs[i]
		case audit.EventToolCall:
			call = &recs[i]
		}
	}
	me, _ := user.Current()
	if sig == nil || call == nil {
		t.Fatalf("records %+v", recs)
	}
	s := sig.Signature
	if s.Name != "Test Person" || s.Account != me.Username || s.Meaning != "Approved" || s.Reason != "Freezer inventory" ||
		s.Method != audit.MethodTrayPassword || !s.Verified || !s.Approves {
		t.Errorf("signature = %+v", s)
	}
	if call.Signature == nil || call.Signature.Record != sig.Hash || sig.Seq > call.Seq || call.Change == nil || call.Change.After == nil {
		t.Errorf("call = %+v", call)
	}
	v, err := c.Verify(ctx, false)
	if err != nil || !v.Report.OK() {
		t.Fatalf("verify = %+v %v", v.Report, err)
	}
}

// TestTrayDenialIsNoSignature: denying needs no password and leaves no
// signature.
func TestTrayDenialIsNoSignature(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem, withWrites)
	c.Approves = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	go func() {
		for e := range events.C {
			if e.Kind == localapi.EventConfirm {
				c.Answer(ctx, localapi.Answer{ID: e.Confirm.ID})
			}
		}
	}()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: map[string]any{
		"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": "Frozen"}}}}})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "denied it in the Scispot MCP tray") {
		t.Fatalf("denied write = %+v %v", res, err)
	}
	recs, _ := c.Records(ctx, localapi.RecordsQuery{})
	for _, r := range recs {
		if r.Event == audit.EventSignature {
			t.Fatalf("a denial left a signature: %+v", r)
		}
	}
}

// TestListeningIsNotApproving: an event stream that only listens
// (`audit tail --follow`, `serve --http`) is not a tray. With no tray a
// write that needs the person is refused at once, saying why, instead of
// waiting the whole approval timeout for an answer nobody can give.
func TestListeningIsNotApproving(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem, withWrites)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.Events(ctx); err != nil {
		t.Fatal(err)
	}
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	cctx, ccancel := context.WithTimeout(ctx, confirm.Timeout/2)
	defer ccancel()
	res, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: map[string]any{
		"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": "Frozen"}}}}})
	if err != nil {
		t.Fatalf("the write waited for a tray that is not there: %v", err)
	}
	if !res.IsError || !strings.Contains(fmt.Sprint(res.Content[0]), "tray") {
		t.Fatalf("write with only a listener = %+v", res.Content)
	}
}
