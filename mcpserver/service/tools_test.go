package service_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/service"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// staticPolicy is an admin policy that never changes.
type staticPolicy map[string]any

func (staticPolicy) Name() string { return "test policy" }
func (p staticPolicy) Read(context.Context) (policy.Settings, error) {
	return policy.FromValues(p)
}

const testToken = "sst_live_5c4b3a29181706f5e4d3"

// TestAcceptingAChangedToolNeedsThePerson: a definition Scispot changed
// mid-session is withheld and shown in status; accepting it takes the
// account password, checked by the service, and names the definition
// reviewed; then the running session gets the tool back.
func TestAcceptingAChangedToolNeedsThePerson(t *testing.T) {
	up := upstreamtest.New(t, testToken)
	c, state := start(t, localapi.ModeSystem, func(cfg *service.Config) {
		cfg.Policy = []policy.Store{staticPolicy{"UpstreamURL": up.URL, "RequireEnrollment": false}}
	})
	ctx := context.Background()
	conn, _, err := c.OpenMCP(ctx, localapi.MCPOptions{Token: testToken, Transport: "stdio"})
	if err != nil {
		t.Fatal(err)
	}
	changed := make(chan struct{}, 8)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "claude-ai", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
	}).Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); conn.Close() })
	listed := func() []string {
		t.Helper()
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range res.Tools {
			names = append(names, tl.Name)
		}
		return names
	}
	waitChanged := func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("no tools/list_changed %s", what)
		}
	}
	if !slices.Contains(listed(), "get_experiment") {
		t.Fatal("get_experiment not listed")
	}
	def := upstreamtest.Definition("get_experiment")
	def.Description += " Also lists who viewed it."
	up.SetTool(def)
	waitChanged("after Scispot changed get_experiment")
	if slices.Contains(listed(), "get_experiment") {
		t.Fatal("the changed tool is still listed")
	}

	st, err := c.Status(ctx, localapi.StatusRequest{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ToolChanges) != 1 || st.ToolChanges[0].Tool != "get_experiment" || st.ToolChanges[0].Rule != pin.RuleChanged ||
		st.ToolChanges[0].New.Definition != nil || st.ToolChanges[0].Old == nil {
		t.Fatalf("status tool changes: %+v", st.ToolChanges)
	}
	changes, err := c.ToolChanges(ctx, localapi.ToolsRequest{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || !strings.Contains(string(changes[0].New.Definition), "Also lists who viewed it.") ||
		strings.Contains(string(changes[0].Old.Definition), "Also lists") || !slices.Equal(changes[0].What, []string{"description"}) ||
		changes[0].PolicyEntry != "get_experiment@"+pin.Short(changes[0].New.SHA256) {
		t.Fatalf("tool changes: %+v", changes)
	}
	sha := changes[0].New.SHA256

	for _, tc := range []struct {
		name string
		req  localapi.AcceptToolRequest
		code int
	}{
		{"no password", localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: sha}, http.StatusUnauthorized},
		{"wrong password", localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: sha, Password: "guess"}, http.StatusUnauthorized},
		{"another definition", localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: changes[0].Old.SHA256, Password: "right"}, http.StatusConflict},
		{"too little of the hash", localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: sha[:6], Password: "right"}, http.StatusConflict},
		{"a tool that did not change", localapi.AcceptToolRequest{Tool: "list_labsheets", SHA256: sha, Password: "right"}, http.StatusNotFound},
	} {
		err := c.AcceptTool(ctx, tc.req)
		var e *localapi.Error
		if !errors.As(err, &e) || e.Status != tc.code {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if slices.Contains(listed(), "get_experiment") {
		t.Fatal("a refused acceptance brought the tool back")
	}
	if err := c.AcceptTool(ctx, localapi.AcceptToolRequest{Tool: "get_experiment", SHA256: pin.Short(sha), Password: "right", Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	waitChanged("after the person accepted the change")
	if !slices.Contains(listed(), "get_experiment") {
		t.Fatal("the accepted tool is not back")
	}
	if res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_experiment", Arguments: map[string]any{"hrid": "EXP-0001"}}); err != nil || res.IsError {
		t.Fatalf("call after acceptance: %v %+v", err, res)
	}
	if st, _ := c.Status(ctx, localapi.StatusRequest{Token: testToken}); len(st.ToolChanges) != 0 {
		t.Fatalf("still waiting: %+v", st.ToolChanges)
	}

	recs, err := c.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var changedRec, denied, accepted int
	for _, r := range recs {
		switch {
		case r.Event == audit.EventToolChanged && r.Tool == "get_experiment":
			changedRec++
			if !strings.Contains(string(r.Args), sha) || r.Rule != pin.RuleChanged {
				t.Fatalf("tool.changed: %+v", r)
			}
		case r.Event == audit.EventToolAccepted && r.Outcome == audit.OutcomeDenied:
			denied++
		case r.Event == audit.EventToolAccepted && r.Outcome == audit.OutcomeOK:
			accepted++
			if !strings.Contains(string(r.Args), sha) || !strings.Contains(string(r.Args), changes[0].Old.SHA256) ||
				!strings.Contains(r.Reason, "password checked by the service") || r.Client.Name != "scispot-mcp-cli" {
				t.Fatalf("tool.accepted: %+v", r)
			}
		}
	}
	if changedRec != 1 || denied != 5 || accepted != 1 {
		t.Fatalf("records: %d tool.changed, %d refused and %d accepted tool.accepted", changedRec, denied, accepted)
	}
	fi, err := os.Stat(filepath.Join(state, pin.FileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the pin record: %v %v", fi, err)
	}
}
