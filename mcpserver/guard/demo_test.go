package guard_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/demo"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// demoSession connects a client to a fresh demo workspace in memory.
func demoSession(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	ct, st := mcp.NewInMemoryTransports()
	ss, err := demo.NewServer().Connect(ctx, st, nil)
	if err != nil {
		t.Fatalf("demo server: %v", err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "guard-test", Version: "0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	return cs
}

func demoCall(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, out any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): %s", name, args, textOf(res))
	}
	if out != nil {
		if err := json.Unmarshal([]byte(textOf(res)), out); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return res
}

// TestDemoWorkspaceHasOneInjectedRecord reads every labsheet row,
// experiment, protocol and documentation page of the demo workspace: the
// sample data is ordinary lab text, so exactly one record — the row with
// the planted injection — may be flagged.
func TestDemoWorkspaceHasOneInjectedRecord(t *testing.T) {
	cs := demoSession(t)
	var flagged []string
	records := 0
	check := func(name string, record json.RawMessage) {
		records++
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(record)}}}
		out, hit, err := guard.ApplyInjection(res, guard.ActionBlock)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hit {
			flagged = append(flagged, name+": "+textOf(out))
		}
	}

	var sheets struct {
		Labsheets []struct{ Name string } `json:"labsheets"`
	}
	demoCall(t, cs, "list_labsheets", nil, &sheets)
	for _, s := range sheets.Labsheets {
		for page := 1; ; page++ {
			var rows struct {
				Rows     []json.RawMessage `json:"rows"`
				NextPage *int              `json:"next_page"`
			}
			demoCall(t, cs, "search_labsheet_rows", map[string]any{
				"labsheet": s.Name, "filter": map[string]any{"column": "ID", "op": "is_not_empty"},
				"page": page, "page_size": 100,
			}, &rows)
			for _, r := range rows.Rows {
				check(s.Name, r)
			}
			if rows.NextPage == nil {
				break
			}
		}
	}

	var spaces struct {
		Labspaces []struct{ Name string } `json:"labspaces"`
	}
	demoCall(t, cs, "list_labspaces", nil, &spaces)
	for _, ls := range spaces.Labspaces {
		for _, kind := range []string{"experiment", "protocol", "documentation"} {
			var list struct {
				Items []struct{ HRID string } `json:"items"`
			}
			demoCall(t, cs, "list_"+kind+"s", map[string]any{"location": ls.Name}, &list)
			for _, it := range list.Items {
				res := demoCall(t, cs, "get_"+kind, map[string]any{"hrid": it.HRID}, nil)
				check(it.HRID, json.RawMessage(textOf(res)))
			}
		}
	}

	t.Logf("read %d demo records; flagged: %q", records, flagged)
	if records < 300 {
		t.Fatalf("read only %d records from the demo workspace", records)
	}
	if len(flagged) != 1 || !strings.Contains(flagged[0], demo.InjectedRowID) {
		t.Errorf("flagged %d of %d demo records, want exactly %s:\n%s", len(flagged), records, demo.InjectedRowID, strings.Join(flagged, "\n"))
	}
}

// TestDemoToolsAreClean: the tool definitions the demo workspace publishes
// (the same words as Scispot's) pass InspectTool, so no real tool is
// hidden as poisoned.
func TestDemoToolsAreClean(t *testing.T) {
	res, err := demoSession(t).ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range res.Tools {
		if why := guard.InspectTool(tool, redact.New()); why != "" {
			t.Errorf("%s: %s", tool.Name, why)
		}
	}
}
