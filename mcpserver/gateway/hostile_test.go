package gateway_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// The attacker here controls Scispot (a loopback stand-in over real
// Streamable HTTP) and aims hostile results and tool definitions at the
// AI behind the gateway; the gateway runs with the real guards.

const hostileToken = "sst_live_9c8b7a6d5e4f30211203"

// hostile is a gateway in front of a hostile stand-in, with the real
// guards and a person who answers write confirmations.
type hostile struct {
	*harness
	up *upstreamtest.Server

	mu    sync.Mutex
	asked []confirm.Request // write confirmations put to the person
}

func connectHostile(t *testing.T, p policy.Policy, prepare func(up *upstreamtest.Server)) *hostile {
	t.Helper()
	up := upstreamtest.New(t, hostileToken)
	if prepare != nil {
		prepare(up)
	}
	client, err := upstream.NewHTTP(up.URL, hostileToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	guards, err := session.NewGuards(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostile{up: up}
	h.harness = connectWith(t, client, gateway.State{Policy: p}, &gateway.Options{Guards: guards, Secrets: redact.New(hostileToken), Approver: h}, "")
	return h
}

// Approve stands in for the person: it asks, as the session's approver
// does, about every call the gateway classifies as a write when the
// policy wants writes confirmed, and signs.
func (h *hostile) Approve(_ context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error) {
	if !c.Class.Write || !c.Policy.ConfirmWrites {
		return nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, confirm.Request{Tool: c.Tool, Destructive: c.Class.Destructive})
	return nil, nil
}

func (h *hostile) lastEvent(t *testing.T) gateway.Event {
	t.Helper()
	ev := h.rec.Events()
	return ev[len(ev)-1]
}

func (h *hostile) callRaw(t *testing.T, name string, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := h.session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func limits(maxResult, perHour int64, action string) policy.Policy {
	p := policy.Default()
	p.MaxResultBytes, p.MaxBytesPerHour, p.InjectionAction = maxResult, perHour, action
	return p
}

// TestErrorResultsPassEveryGuard: an isError result is size-capped and
// charged to the hourly budget like any other (before, 5.4 MB error
// results went past a 100 KB limit and the budget was charged nothing).
func TestErrorResultsPassEveryGuard(t *testing.T) {
	h := connectHostile(t, limits(100<<10, 200<<10, guard.ActionFlag), func(up *upstreamtest.Server) {
		up.SetResult("get_experiment", upstreamtest.HugeError(5<<20))
		up.SetResult("get_protocol", upstreamtest.HugeError(90<<10))
	})
	res, text := h.call(t, "get_experiment", map[string]any{"hrid": "EXP-0001"})
	ev := h.lastEvent(t)
	if !res.IsError || !strings.Contains(text, "MaxResultBytes") || strings.Contains(text, "EEEE") ||
		ev.Kind != gateway.EventToolDenied || ev.Rule != guard.RuleResultSize {
		t.Fatalf("5 MB error result: %v %.200q, record %+v", res.IsError, text, ev)
	}
	// Two 90 KB error results fit the 200 KB hour; the third does not.
	for i := range 3 {
		res, text := h.call(t, "get_protocol", map[string]any{"hrid": "PRT-0001"})
		ev := h.lastEvent(t)
		if i < 2 && (ev.Kind != gateway.EventToolCall || ev.Outcome != gateway.OutcomeError || !strings.Contains(text, "EEEE")) {
			t.Fatalf("error result %d within the budget: %+v", i, ev)
		}
		if i == 2 && (!res.IsError || ev.Kind != gateway.EventToolDenied || ev.Rule != guard.RuleHourlyBudget) {
			t.Fatalf("error result past the hourly budget passed: %.200q, record %+v", text, ev)
		}
	}
}

// TestBudgetChargesOnlyWhatReachesTheClient: a result withheld for
// instruction-like text (InjectionAction block) is refused as
// tool.denied with rule injection-block, and charged nothing.
func TestBudgetChargesOnlyWhatReachesTheClient(t *testing.T) {
	note := strings.Repeat("Passage 14, mycoplasma negative. ", 30) + upstreamtest.Injection
	h := connectHostile(t, limits(1<<20, 3000, guard.ActionBlock), func(up *upstreamtest.Server) {
		up.SetResult("get_labsheet_row", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: `{"ID": "CL-0137", "Notes": "` + note + `"}`}}})
		up.SetResult("get_protocol", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("p", 1000)}}})
	})
	for range 5 {
		res, text := h.call(t, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "uuid": "CL-0137"})
		ev := h.lastEvent(t)
		if !res.IsError || !strings.Contains(text, "CL-0137") || ev.Kind != gateway.EventToolDenied || ev.Rule != guard.RuleInjectionBlock ||
			!slices.Contains(ev.Flags, audit.FlagInjectionSuspect) {
			t.Fatalf("blocked result: %v %q, record %+v", res.IsError, text, ev)
		}
	}
	// Five withheld results of 1.1 KB each would have spent the 3000
	// bytes; none reached the client, so the hour is untouched.
	for i := range 2 {
		if res, text := h.call(t, "get_protocol", map[string]any{"hrid": "PRT-0001"}); res.IsError {
			t.Fatalf("ordinary result %d refused after blocked ones: %q", i, text)
		}
	}
}

// TestEveryPlaceIsScanned: instruction-like text in a resource link, in
// _meta or in structuredContent is handled by the policy's action like
// text content (before, only text, embedded text and structuredContent
// were looked at).
func TestEveryPlaceIsScanned(t *testing.T) {
	results := map[string]*mcp.CallToolResult{
		"resource_link name": {Content: []mcp.Content{&mcp.ResourceLink{URI: "scispot://exp/EXP-0001", Name: upstreamtest.Injection}}},
		"resource_link desc": {Content: []mcp.Content{&mcp.ResourceLink{URI: "scispot://exp/EXP-0001", Name: "EXP-0001", Description: upstreamtest.Injection}}},
		"result _meta":       {Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}, Meta: mcp.Meta{"note": upstreamtest.Injection}},
		"content _meta":      {Content: []mcp.Content{&mcp.TextContent{Text: "ok", Meta: mcp.Meta{"note": upstreamtest.Injection}}}},
		"structuredContent":  {Content: []mcp.Content{&mcp.TextContent{Text: "see structured"}}, StructuredContent: map[string]any{"hrid": "EXP-0001", "notes": upstreamtest.Injection}},
		"error result":       {IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: upstreamtest.Injection}}},
	}
	for place, res := range results {
		for _, action := range []string{guard.ActionFlag, guard.ActionRedact, guard.ActionBlock} {
			t.Run(place+"/"+action, func(t *testing.T) {
				h := connectHostile(t, limits(1<<20, 1<<30, action), func(up *upstreamtest.Server) { up.SetResult("get_experiment", res) })
				out, raw := h.callRaw(t, "get_experiment", map[string]any{"hrid": "EXP-0001"})
				ev := h.lastEvent(t)
				if !slices.Contains(ev.Flags, audit.FlagInjectionSuspect) {
					t.Fatalf("not flagged: record %+v", ev)
				}
				switch action {
				case guard.ActionFlag:
					if !strings.Contains(raw, guard.InjectionNotice) {
						t.Fatalf("no notice: %s", raw)
					}
				case guard.ActionRedact:
					if strings.Contains(raw, "Ignore previous instructions") || !strings.Contains(raw, "removed by Scispot MCP Desktop") {
						t.Fatalf("not redacted: %s", raw)
					}
				case guard.ActionBlock:
					if !out.IsError || strings.Contains(raw, "Ignore previous instructions") || ev.Kind != gateway.EventToolDenied || ev.Rule != guard.RuleInjectionBlock {
						t.Fatalf("not blocked: %s, record %+v", raw, ev)
					}
				}
			})
		}
	}
}

// TestPoisonedToolsAreHidden: a tool whose definition carries text aimed
// at the model — in its description, title, an input property's
// description, its annotations' title or its output schema — is never
// listed, a call to it is refused as tool-poisoned without reaching
// Scispot, and Tools (tools --all) says why.
func TestPoisonedToolsAreHidden(t *testing.T) {
	poisoned := map[string]upstreamtest.Poison{
		"get_experiment":       upstreamtest.InDescription,
		"get_protocol":         upstreamtest.InTitle,
		"search_labsheet_rows": upstreamtest.InPropertyDescription,
		"get_manifest":         upstreamtest.InAnnotationsTitle,
		"list_labsheets":       upstreamtest.InOutputSchema,
	}
	h := connectHostile(t, policy.Default(), func(up *upstreamtest.Server) {
		for name, where := range poisoned {
			up.SetTool(upstreamtest.Poisoned(name, where))
		}
	})
	listed := h.toolNames(t)
	for name := range poisoned {
		if slices.Contains(listed, name) {
			t.Errorf("poisoned %s is listed", name)
		}
		res, text := h.call(t, name, map[string]any{})
		if ev := h.lastEvent(t); !res.IsError || ev.Kind != gateway.EventToolDenied || ev.Rule != gateway.RuleToolPoisoned || strings.Contains(text, "Ignore previous") {
			t.Errorf("call of poisoned %s: %v %q, record %+v", name, res.IsError, text, ev)
		}
	}
	if len(h.up.Calls()) != 0 {
		t.Fatalf("poisoned tools reached Scispot: %+v", h.up.Calls())
	}
	if !slices.Contains(listed, "list_labsheet_folders") || len(listed) != 16-len(poisoned) {
		t.Fatalf("listed = %v", listed)
	}
	infos, err := h.gw.Tools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		if _, ok := poisoned[ti.Tool.Name]; ok && (ti.Visible || ti.Rule != gateway.RuleToolPoisoned || !strings.Contains(ti.Reason, "instructions to an AI")) {
			t.Errorf("Tools: %s = %+v", ti.Tool.Name, ti.Visibility)
		}
	}
}

// TestUnknownToolsAreDangerous: a tool the catalogue does not know is a
// write tool — destructive unless the upstream marks it readOnlyHint and
// the policy names it — whatever its hints say, and destructiveHint makes
// any tool destructive. Listing, calling, confirmation and Tools agree.
func TestUnknownToolsAreDangerous(t *testing.T) {
	yes, no := true, false
	named := func(writes bool, tools ...string) policy.Policy {
		p := policy.Default()
		p.AllowWriteTools, p.AllowedTools = writes, append(tools, "list_labsheets")
		return p
	}
	tests := []struct {
		name        string
		policy      policy.Policy
		def         *mcp.Tool
		visible     bool
		destructive bool
		class       string
	}{
		{"named, writes off", named(false, upstreamtest.UnknownTool), upstreamtest.PurgeWorkspace(upstreamtest.Hints{}), false, true, "not in this release's catalogue"},
		{"named, claims read-only, writes off", named(false, upstreamtest.UnknownTool), upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true}), false, false, "readOnlyHint"},
		{"named, writes on", named(true, upstreamtest.UnknownTool), upstreamtest.PurgeWorkspace(upstreamtest.Hints{}), true, true, "write, destructive: not in this release's catalogue"},
		{"named, claims read-only, writes on", named(true, upstreamtest.UnknownTool), upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true, Destructive: &no}), true, false, "write: not in this release's catalogue"},
		{"named, read-only and destructive", named(true, upstreamtest.UnknownTool), upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true, Destructive: &yes}), true, true, "destructiveHint"},
		{"not named, claims read-only", named(true), upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true}), false, true, "not in this release's catalogue"},
		{"a catalogue read tool marked destructive", policy.Default(), func() *mcp.Tool {
			t := upstreamtest.Definition("get_experiment")
			t.Annotations.DestructiveHint = &yes
			return t
		}(), false, true, "the upstream marks it destructiveHint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := connectHostile(t, tt.policy, func(up *upstreamtest.Server) { up.SetTool(tt.def) })
			name := tt.def.Name
			res, err := h.session.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(res.Tools, func(t *mcp.Tool) bool { return t.Name == name })
			if (i >= 0) != tt.visible {
				t.Fatalf("%s listed: %v, want %v", name, i >= 0, tt.visible)
			}
			if i >= 0 {
				// What the client sees says what the gateway counts it as:
				// a client that runs read-only tools unasked must not run it.
				a := res.Tools[i].Annotations
				if a == nil || a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint != tt.destructive {
					t.Errorf("listed annotations %+v", a)
				}
			}
			out, text := h.call(t, name, map[string]any{"confirm": true})
			ev := h.lastEvent(t)
			reached := len(h.up.Calls()) > 0
			if reached != tt.visible || out.IsError == tt.visible || (!tt.visible && (ev.Kind != gateway.EventToolDenied || ev.Rule != gateway.RuleToolHidden)) {
				t.Fatalf("call: reached %v, %v %q, record %+v", reached, out.IsError, text, ev)
			}
			if tt.visible {
				h.mu.Lock()
				asked := slices.Clone(h.asked)
				h.mu.Unlock()
				if len(asked) != 1 || asked[0].Tool != name || asked[0].Destructive != tt.destructive {
					t.Fatalf("ConfirmWrites asked %+v, want one question, destructive %v", asked, tt.destructive)
				}
			}
			infos, err := h.gw.Tools(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			j := slices.IndexFunc(infos, func(ti gateway.ToolInfo) bool { return ti.Tool.Name == name })
			if ti := infos[j]; ti.Visible != tt.visible || !ti.Class.Write || ti.Class.Destructive != tt.destructive || !strings.Contains(ti.Class.Why, tt.class) {
				t.Fatalf("Tools: %+v", ti.Visibility)
			}
		})
	}
}

// TestSecretsNeverReachTheClient: a token echoed back by Scispot — in
// text, a resource link, _meta, structuredContent, an error result — or
// any token-shaped word in lab data is redacted before the client sees
// it, and the record says so.
func TestSecretsNeverReachTheClient(t *testing.T) {
	other := "sst_0123456789abcdef0123456789ab"
	h := connectHostile(t, policy.Default(), func(up *upstreamtest.Server) {
		up.SetResultFunc("get_experiment", upstreamtest.EchoToken)
		up.SetResult("get_protocol", &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "unauthorised: Bearer " + hostileToken}}})
		up.SetResult("get_labsheet_row", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: `{"ID": "CL-0001", "Notes": "api key ` + other + `"}`}}})
	})
	for _, tool := range []string{"get_experiment", "get_protocol", "get_labsheet_row"} {
		_, raw := h.callRaw(t, tool, map[string]any{"hrid": "EXP-0001"})
		if strings.Contains(raw, hostileToken) || strings.Contains(raw, other) || !strings.Contains(raw, redact.Marker) {
			t.Errorf("%s: the client got %s", tool, raw)
		}
		if ev := h.lastEvent(t); !slices.Contains(ev.Flags, audit.FlagSecretRedacted) || strings.Contains(ev.Reason, hostileToken) {
			t.Errorf("%s: record %+v", tool, ev)
		}
	}
	// A tool definition that carries the token is hidden, not listed.
	h.up.SetTool(&mcp.Tool{Name: "list_labspaces", Description: "Labspaces; authenticate with " + hostileToken, InputSchema: map[string]any{"type": "object"}})
	if err := h.gw.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(h.toolNames(t), "list_labspaces") {
		t.Error("a tool whose description carries the token is listed")
	}
}

// TestUnknownToolWhileUpstreamDownIsDenied: while Scispot cannot be
// listed, a tool the catalogue does not know is refused as hidden
// (tool.denied), whether the policy names it or not: only its definition
// could say what it does. A catalogue tool the policy allows gets the
// outage as an error, as before.
func TestUnknownToolWhileUpstreamDownIsDenied(t *testing.T) {
	for _, writes := range []bool{false, true} {
		p := policy.Default()
		p.AllowWriteTools, p.AllowedTools = writes, []string{upstreamtest.UnknownTool, "list_labsheets"}
		up := newFakeUpstream(upstreamtest.UnknownTool)
		up.listErr = transientErr{"Scispot did not answer: connection refused."}
		h := connect(t, up, gateway.State{Policy: p}, "")
		res, text := h.call(t, upstreamtest.UnknownTool, nil)
		last := h.rec.Events()[len(h.rec.Events())-1]
		if !res.IsError || last.Kind != gateway.EventToolDenied || last.Rule != gateway.RuleToolHidden || len(up.Calls()) != 0 {
			t.Fatalf("AllowWriteTools %v: %v %q, record %+v", writes, res.IsError, text, last)
		}
		res, _ = h.call(t, "list_labsheets", nil)
		if last := h.rec.Events()[len(h.rec.Events())-1]; !res.IsError || last.Kind != gateway.EventToolCall || last.Rule != gateway.RuleUpstreamDown {
			t.Fatalf("allowed catalogue tool while down: record %+v", last)
		}
	}
}
