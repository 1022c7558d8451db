package gateway_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// approverFunc adapts a function to gateway.Approver.
type approverFunc func(ctx context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error)

func (f approverFunc) Approve(ctx context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error) {
	return f(ctx, c)
}

func connectApproved(t *testing.T, a gateway.Approver, opts *mcp.ClientOptions) (*gateway.Gateway, *fakeUpstream, *memRecorder, *mcp.ClientSession) {
	t.Helper()
	up := newFakeUpstream()
	p := policy.Default()
	p.AllowWriteTools = true
	p.AllowedTools = []string{"add_labsheet_rows"}
	rec := &memRecorder{}
	gw := gateway.New(up, gateway.State{Policy: p}, &gateway.Options{Recorder: rec, Approver: a})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := gw.Server().Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, opts).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return gw, up, rec, cs
}

// TestInputRequiredIsAnsweredNotRecorded: an approver's input_required
// answer reaches a 2026-07-28 client as such, through the SDK, and is
// neither forwarded nor recorded; the retry carries what the client says
// and its record carries what the approver set.
func TestInputRequiredIsAnsweredNotRecorded(t *testing.T) {
	var retried *gateway.Call
	a := approverFunc(func(ctx context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error) {
		if !c.MultiRoundTrip {
			t.Error("a 2026-07-28 client is not taken for one that takes input_required")
		}
		if c.RequestState == "" {
			return nil, &gateway.InputRequired{Result: &mcp.CallToolResult{
				InputRequests: mcp.InputRequestMap{"q": &mcp.ElicitParams{Message: "sign?", RequestedSchema: map[string]any{"type": "object"}}},
				RequestState:  "state-1",
			}}
		}
		retried = c
		c.Signature = &audit.Signature{ID: "s", Record: "r"}
		c.Change = &audit.Change{Error: "e"}
		return func(context.Context, *mcp.CallToolResult) { c.Change.Error = "after ran" }, nil
	})
	_, up, rec, cs := connectApproved(t, a, &mcp.ClientOptions{MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true}})
	ctx := context.Background()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "add_labsheet_rows", Arguments: map[string]any{"labsheet": "x"}})
	if err != nil || !res.NeedsInput() || res.RequestState != "state-1" || res.InputRequests["q"] == nil {
		t.Fatalf("first round = %+v %v", res, err)
	}
	if len(up.Calls()) != 0 || len(rec.Events()) != 1 { // session.start only
		t.Fatalf("the first round reached the upstream (%v) or the trail (%+v)", up.Calls(), rec.Events())
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "add_labsheet_rows", Arguments: map[string]any{"labsheet": "x"}, RequestState: "state-1",
		InputResponses: mcp.InputResponseMap{"q": &mcp.ElicitResult{Action: "accept", Content: map[string]any{"ok": true}}}})
	if err != nil || res.IsError || res.NeedsInput() {
		t.Fatalf("retry = %+v %v", res, err)
	}
	if retried == nil || retried.InputResponses["q"] == nil {
		t.Fatalf("the approver did not see the answer: %+v", retried)
	}
	evs := rec.Events()
	last := evs[len(evs)-1]
	if last.Kind != gateway.EventToolCall || last.Signature == nil || last.Signature.Record != "r" || last.Change == nil || last.Change.Error != "after ran" {
		t.Fatalf("call record = %+v", last)
	}
}

// TestStopEndsTheQuestion: the kill switch ends a call that waits for the
// person with the stop's sentence.
func TestStopEndsTheQuestion(t *testing.T) {
	waiting := make(chan struct{})
	a := approverFunc(func(ctx context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error) {
		close(waiting)
		<-ctx.Done()
		return nil, &gateway.Refusal{Rule: "write-unconfirmed", Sentence: "nobody answered"}
	})
	gw, up, _, cs := connectApproved(t, a, nil)
	go func() {
		<-waiting
		gw.Stop(&gateway.Refusal{Rule: "killed", Sentence: "Stopped by the kill switch."})
	}()
	done := make(chan string, 1)
	go func() {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_labsheet_rows", Arguments: map[string]any{}})
		if err != nil {
			done <- err.Error()
			return
		}
		done <- res.Content[0].(*mcp.TextContent).Text
	}()
	select {
	case text := <-done:
		if !strings.Contains(text, "kill switch") {
			t.Fatalf("answer = %q", text)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the question outlived the kill switch")
	}
	if len(up.Calls()) != 0 {
		t.Fatal("the write reached the upstream")
	}
}
