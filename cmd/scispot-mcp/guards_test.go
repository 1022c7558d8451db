package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// lastRecord returns the newest record for tool.
func lastRecord(t *testing.T, w *world, tool string) audit.Record {
	t.Helper()
	var last audit.Record
	for _, r := range records(t, w) {
		if r.Tool == tool {
			last = r
		}
	}
	return last
}

// TestGuards: each guard through a real subprocess and client against a
// loopback upstream: the refusal text, the audit record, and nothing
// refused reaching the upstream.
func TestGuards(t *testing.T) {
	t.Run("calls per minute", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxCallsPerMinute": 3`)
		cs := w.connect("", "claude-ai")
		for range 3 {
			if res, text := callText(t, cs, "list_labsheets", nil); res.IsError {
				t.Fatalf("call within the limit: %q", text)
			}
		}
		res, text := callText(t, cs, "list_labsheets", nil)
		if !res.IsError || !strings.Contains(text, "MaxCallsPerMinute") || !strings.Contains(text, "retry in") {
			t.Fatalf("4th call = %v %q", res.IsError, text)
		}
		if n := len(up.Calls()); n != 3 {
			t.Fatalf("upstream saw %d calls", n)
		}
		if r := lastRecord(t, w, "list_labsheets"); r.Event != audit.EventToolDenied || r.Reason != text {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("result size", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxResultBytes": 200`)
		up.SetResult("get_experiment", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 5000)}}})
		cs := w.connect("", "claude-ai")
		res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"})
		if !res.IsError || !strings.Contains(text, "MaxResultBytes") || !strings.Contains(text, "narrow") || strings.Contains(text, "xxxx") {
			t.Fatalf("big result = %v %q", res.IsError, text)
		}
		if r := lastRecord(t, w, "get_experiment"); r.Event != audit.EventToolDenied || r.Outcome != audit.OutcomeDenied {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("bytes per hour across sessions", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxBytesPerHour": 3000`)
		up.SetResult("get_protocol", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("p", 1000)}}})
		var refused string
		for i := range 4 { // a new session each time: the budget is shared
			cs := w.connect("", "claude-ai")
			res, text := callText(t, cs, "get_protocol", map[string]any{"hrid": "PRT-0003"})
			cs.Close()
			if res.IsError {
				refused = text
				if i < 2 {
					t.Fatalf("refused too early (call %d): %q", i, text)
				}
				break
			}
		}
		if !strings.Contains(refused, "MaxBytesPerHour") {
			t.Fatalf("the hourly budget never refused: %q", refused)
		}
	})
	t.Run("prompt injection", func(t *testing.T) {
		for _, tc := range []struct{ action, want string }{
			{"flag", "Note from Scispot MCP Desktop"},
			{"redact", "removed by Scispot MCP Desktop"},
			{"block", "CL-0137"},
		} {
			t.Run(tc.action, func(t *testing.T) {
				writePolicy(t, `{"InjectionAction": "`+tc.action+`"}`)
				w := newWorld(t)
				cs := w.connect("", "claude-ai", "--demo")
				res, text := callText(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "row_uuid": "CL-0137"})
				if !strings.Contains(text, tc.want) {
					t.Fatalf("%s: %v %q", tc.action, res.IsError, text)
				}
				switch tc.action {
				case "block":
					if !res.IsError || strings.Contains(text, "Ignore previous instructions") {
						t.Fatalf("block passed the record: %q", text)
					}
				case "redact":
					if strings.Contains(text, "Ignore previous instructions") {
						t.Fatalf("redact kept the instruction: %q", text)
					}
				}
				r := lastRecord(t, w, "get_labsheet_row")
				if tc.action != "block" && !strings.Contains(strings.Join(r.Flags, ","), audit.FlagInjectionSuspect) {
					t.Fatalf("record flags %v", r.Flags)
				}
				// An ordinary row passes untouched.
				if _, text := callText(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "row_uuid": "CL-0042"}); strings.Contains(text, "Scispot MCP Desktop") {
					t.Fatalf("ordinary row flagged: %q", text)
				}
			})
		}
	})
}

// TestConfirmedWrites: with writes allowed, every write asks the person —
// through elicitation when the client can, through the tray when not.
func TestConfirmedWrites(t *testing.T) {
	w, up, _ := managedWorld(t, `"AllowWriteTools": true, "AllowedTools": ["add_labsheet_rows", "update_labsheet_rows", "list_labsheets"]`)
	args := map[string]any{"labsheet": "Cell Lines", "rows": []any{map[string]any{"Name": "HeLa-2"}}}
	for _, approve := range []bool{true, false} {
		var asked string
		client := mcp.NewClient(&mcp.Implementation{Name: "eliciting-client", Version: "1"}, &mcp.ClientOptions{
			ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				asked = req.Params.Message
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"approve": approve}}, nil
			},
		})
		cs := w.connectClient("2025-06-18", client)
		before := len(up.Calls())
		res, text := callText(t, cs, "update_labsheet_rows", args)
		if !strings.Contains(asked, "DESTRUCTIVE") || !strings.Contains(asked, "Cell Lines") {
			t.Fatalf("the question did not say what and that it is destructive: %q", asked)
		}
		reached := len(up.Calls()) > before
		if approve != reached || approve == res.IsError {
			t.Fatalf("approve=%v: reached=%v result=%v %q", approve, reached, res.IsError, text)
		}
		cs.Close()
	}

	// A client that cannot elicit: the tray answers through the confirm files.
	cs := w.connect("2025-06-18", "no-elicitation")
	dir := confirm.Dir(w.stateDir())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go confirm.Watch(ctx, dir, func(r confirm.Request) {
		confirm.Respond(dir, r.ID, r.Tool == "add_labsheet_rows", "tray-user")
	})
	before := len(up.Calls())
	if res, text := callText(t, cs, "add_labsheet_rows", args); res.IsError {
		t.Fatalf("tray-approved write refused: %q", text)
	}
	if r := lastRecord(t, w, "add_labsheet_rows"); !strings.Contains(strings.Join(r.Flags, ","), "tray-user") {
		t.Fatalf("approval not audited: %+v", r)
	}
	res, text := callText(t, cs, "update_labsheet_rows", args)
	if !res.IsError || !strings.Contains(text, "denied it in the Scispot MCP tray") {
		t.Fatalf("tray-denied write = %v %q", res.IsError, text)
	}
	if n := len(up.Calls()) - before; n != 1 {
		t.Fatalf("upstream saw %d writes, want only the approved one", n)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && filepath.Ext(e.Name()) == ".json" {
			t.Fatalf("confirmation file left behind: %s", e.Name())
		}
	}
	_ = upstreamtest.Normal
}
