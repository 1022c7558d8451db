package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// fakeUpstream is an in-memory stand-in for fast unit tests; the real
// loopback upstream is exercised in the serve integration tests.
type fakeUpstream struct {
	mu      sync.Mutex
	tools   []*mcp.Tool
	calls   []string
	lists   int
	block   chan struct{} // if set, CallTool waits on it or ctx
	started chan struct{}
	listErr error
}

func newFakeUpstream(extra ...string) *fakeUpstream {
	f := &fakeUpstream{}
	for _, t := range catalog.All() {
		f.tools = append(f.tools, &mcp.Tool{Name: t.Name, Description: "does " + t.Name, InputSchema: map[string]any{"type": "object"}})
	}
	for _, name := range extra {
		f.tools = append(f.tools, &mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}})
	}
	return f
}

func (f *fakeUpstream) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	return slices.Clone(f.tools), f.listErr
}

func (f *fakeUpstream) CallTool(ctx context.Context, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, p.Name)
	block, started := f.block, f.started
	f.mu.Unlock()
	if block != nil {
		close(started)
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	args, _ := json.Marshal(p.Arguments)
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: p.Name + " " + string(args)}}}, nil
}

func (f *fakeUpstream) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type memRecorder struct {
	mu     sync.Mutex
	events []gateway.Event
	err    error
}

func (m *memRecorder) Record(ctx context.Context, e gateway.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return m.err
}

func (m *memRecorder) Events() []gateway.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

type harness struct {
	gw      *gateway.Gateway
	up      *fakeUpstream
	rec     *memRecorder
	session *mcp.ClientSession
	changed chan struct{}
}

func connect(t *testing.T, up *fakeUpstream, state gateway.State, protocol string) *harness {
	t.Helper()
	var gwUp gateway.Upstream
	if up != nil {
		gwUp = up
	}
	h := connectWith(t, gwUp, state, &gateway.Options{}, protocol)
	h.up = up
	return h
}

// connectWith connects a client to a gateway in front of up, built with
// opts and a recorder.
func connectWith(t *testing.T, up gateway.Upstream, state gateway.State, opts *gateway.Options, protocol string) *harness {
	t.Helper()
	rec := &memRecorder{}
	opts.Recorder, opts.Version = rec, "test"
	gw := gateway.New(up, state, opts)
	h := &harness{gw: gw, rec: rec, changed: make(chan struct{}, 16)}
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := gw.Server().Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	client := mcp.NewClient(&mcp.Implementation{Name: "claude-ai", Version: "1.0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case h.changed <- struct{}{}:
			default:
			}
		},
	})
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: protocol})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	h.session = cs
	return h
}

func (h *harness) toolNames(t *testing.T) []string {
	t.Helper()
	res, err := h.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	slices.Sort(names)
	return names
}

func (h *harness) call(t *testing.T, name string, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := h.session.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	var text []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text = append(text, tc.Text)
		}
	}
	return res, strings.Join(text, "\n")
}

var protocols = []string{"", "2025-06-18"} // the SDK's default (2026-07-28) and the initialize handshake

func TestDefaultPolicyListsReadOnlyTools(t *testing.T) {
	for _, proto := range protocols {
		t.Run("protocol="+proto, func(t *testing.T) {
			h := connect(t, newFakeUpstream("export_everything"), gateway.State{Policy: policy.Default()}, proto)
			want := catalog.ReadOnlyNames()
			slices.Sort(want)
			if got := h.toolNames(t); !slices.Equal(got, want) {
				t.Fatalf("tools = %v\nwant %v", got, want)
			}
			res, text := h.call(t, "get_manifest", map[string]any{"barcode": "PLT-00142"})
			if res.IsError || !strings.Contains(text, "PLT-00142") {
				t.Fatalf("call result = %v %q", res.IsError, text)
			}
			if got := h.up.Calls(); !slices.Equal(got, []string{"get_manifest"}) {
				t.Fatalf("upstream calls = %v", got)
			}
		})
	}
}

func TestHiddenToolsNeverReachUpstream(t *testing.T) {
	cases := []struct {
		name   string
		policy func(*policy.Policy)
		tool   string
		reason string
	}{
		{"write by default", nil, "update_labsheet_rows", "AllowWriteTools is false"},
		{"write allowed but not listed", func(p *policy.Policy) { p.AllowWriteTools = true }, "add_labsheet_rows", "AllowedTools does not name"},
		{"unknown upstream tool", nil, "export_everything", "new tools stay hidden"},
		{"denied read tool", func(p *policy.Policy) { p.DeniedTools = []string{"get_manifest"} }, "get_manifest", "DeniedTools"},
		{"deny wins over allow", func(p *policy.Policy) {
			p.AllowedTools = []string{"get_manifest"}
			p.DeniedTools = []string{"get_manifest"}
		}, "get_manifest", "DeniedTools"},
		{"not in explicit allow list", func(p *policy.Policy) { p.AllowedTools = []string{"list_labsheets"} }, "get_manifest", "not named in the policy's AllowedTools"},
		{"not published upstream", nil, "no_such_tool", "not published"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := policy.Default()
			if tc.policy != nil {
				tc.policy(&p)
			}
			h := connect(t, newFakeUpstream("export_everything"), gateway.State{Policy: p}, "")
			if slices.Contains(h.toolNames(t), tc.tool) {
				t.Fatalf("%s is listed", tc.tool)
			}
			res, text := h.call(t, tc.tool, map[string]any{"x": 1})
			if !res.IsError || !strings.Contains(text, tc.reason) {
				t.Fatalf("result = %v %q, want an error naming %q", res.IsError, text, tc.reason)
			}
			if calls := h.up.Calls(); len(calls) != 0 {
				t.Fatalf("upstream saw %v", calls)
			}
			ev := h.rec.Events()
			last := ev[len(ev)-1]
			if last.Kind != gateway.EventToolDenied || last.Outcome != gateway.OutcomeDenied || last.Tool != tc.tool || last.Reason != text {
				t.Fatalf("audit event = %+v", last)
			}
		})
	}
}

func TestWriteToolsWhenAllowed(t *testing.T) {
	p := policy.Default()
	p.AllowWriteTools = true
	p.AllowedTools = []string{"add_labsheet_rows", "list_labsheets", "export_everything"}
	h := connect(t, newFakeUpstream("export_everything"), gateway.State{Policy: p}, "")
	want := []string{"add_labsheet_rows", "export_everything", "list_labsheets"}
	if got := h.toolNames(t); !slices.Equal(got, want) {
		t.Fatalf("tools = %v, want %v", got, want)
	}
	if res, _ := h.call(t, "add_labsheet_rows", map[string]any{}); res.IsError {
		t.Fatal("allowed write refused")
	}
}

func TestRefusedState(t *testing.T) {
	for _, proto := range protocols {
		t.Run("protocol="+proto, func(t *testing.T) {
			r := gateway.NoToken()
			h := connect(t, nil, gateway.State{Policy: policy.Default(), Refusal: r}, proto)
			if got := h.session.InitializeResult().Instructions; !strings.Contains(got, r.Sentence) {
				t.Fatalf("instructions %q lack the reason", got)
			}
			res, err := h.session.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Tools) != 1 || res.Tools[0].Name != gateway.StatusToolName || !strings.Contains(res.Tools[0].Description, r.Sentence) {
				t.Fatalf("tools = %+v", res.Tools)
			}
			st, text := h.call(t, gateway.StatusToolName, nil)
			if st.IsError || !strings.Contains(text, "scispot-mcp token set") {
				t.Fatalf("status = %v %q", st.IsError, text)
			}
			other, text := h.call(t, "list_labsheets", nil)
			if !other.IsError || text != r.Sentence {
				t.Fatalf("call = %v %q", other.IsError, text)
			}
			for _, e := range h.rec.Events() {
				if e.Kind == gateway.EventSessionStart {
					continue
				}
				if e.Outcome != gateway.OutcomeDenied || e.Rule != gateway.RuleNoToken {
					t.Fatalf("event %+v is not a denial", e)
				}
			}
		})
	}
}

func TestUnapprovedClient(t *testing.T) {
	p := policy.Default()
	p.AllowedClients = []string{"cursor*"}
	up := newFakeUpstream()
	h := connect(t, up, gateway.State{Policy: p}, "")
	res, text := h.call(t, "list_labsheets", nil)
	if !res.IsError || !strings.Contains(text, `"claude-ai"`) || !strings.Contains(text, "AllowedClients") {
		t.Fatalf("call = %v %q", res.IsError, text)
	}
	if got := h.toolNames(t); !slices.Equal(got, []string{gateway.StatusToolName}) {
		t.Fatalf("tools = %v", got)
	}
	if len(up.Calls()) != 0 {
		t.Fatal("upstream reached")
	}
}

func TestPolicyChangeReachesRunningSession(t *testing.T) {
	for _, proto := range protocols {
		t.Run("protocol="+proto, func(t *testing.T) { testPolicyChange(t, proto) })
	}
}

func testPolicyChange(t *testing.T, proto string) {
	h := connect(t, newFakeUpstream(), gateway.State{Policy: policy.Default()}, proto)
	if !slices.Contains(h.toolNames(t), "get_manifest") {
		t.Fatal("get_manifest not listed")
	}
	drain(h.changed)
	p := policy.Default()
	p.DeniedTools = []string{"get_manifest"}
	h.gw.SetState(gateway.State{Policy: p})
	<-h.changed // notifications/tools/list_changed
	if slices.Contains(h.toolNames(t), "get_manifest") {
		t.Fatal("get_manifest still listed")
	}
	if res, _ := h.call(t, "get_manifest", nil); !res.IsError {
		t.Fatal("call to a newly hidden tool was forwarded")
	}
}

func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func TestStopEndsInFlightCalls(t *testing.T) {
	up := newFakeUpstream()
	up.block, up.started = make(chan struct{}), make(chan struct{})
	h := connect(t, up, gateway.State{Policy: policy.Default()}, "")
	h.toolNames(t)
	type result struct {
		res  *mcp.CallToolResult
		text string
	}
	done := make(chan result)
	go func() {
		res, text := h.call(t, "list_labsheets", nil)
		done <- result{res, text}
	}()
	<-up.started
	kill := &gateway.Refusal{Rule: "killed", Sentence: "Stopped by the Scispot MCP kill switch on this workstation."}
	h.gw.Stop(kill)
	got := <-done
	if !got.res.IsError || got.text != kill.Sentence {
		t.Fatalf("in-flight call = %v %q", got.res.IsError, got.text)
	}
	if res, text := h.call(t, "list_labsheets", nil); !res.IsError || text != kill.Sentence {
		t.Fatalf("later call = %v %q", res.IsError, text)
	}
}

func TestAuditFailureWithholdsResult(t *testing.T) {
	h := connect(t, newFakeUpstream(), gateway.State{Policy: policy.Default()}, "")
	h.rec.err = errors.New("disk full")
	_, err := h.session.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
	if err == nil || !strings.Contains(err.Error(), "audit trail could not be written") {
		t.Fatalf("err = %v", err)
	}
}

func TestUpstreamDownShownThroughStatusTool(t *testing.T) {
	up := newFakeUpstream()
	up.listErr = errors.New("Scispot did not answer: connection refused.")
	h := connect(t, up, gateway.State{Policy: policy.Default()}, "")
	res, err := h.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 1 || !strings.Contains(res.Tools[0].Description, "connection refused") {
		t.Fatalf("tools = %+v", res.Tools)
	}
	if r, text := h.call(t, "list_labsheets", nil); !r.IsError || !strings.Contains(text, "connection refused") {
		t.Fatalf("call = %v %q", r.IsError, text)
	}
}

func TestDecide(t *testing.T) {
	def := policy.Default()
	writes := policy.Default()
	writes.AllowWriteTools = true
	writes.AllowedTools = []string{"update_labsheet_rows"}
	cases := []struct {
		p       policy.Policy
		tool    string
		visible bool
	}{
		{def, "list_labsheets", true},
		{def, "get_image_thumbnail", true},
		{def, "add_labsheet_rows", false},
		{def, "brand_new_tool", false},
		{writes, "update_labsheet_rows", true},
		{writes, "list_labsheets", false},
		{writes, "add_labsheet_rows", false},
	}
	for _, tc := range cases {
		if got := gateway.Decide(tc.p, tc.tool); got.Visible != tc.visible || (got.Visible == (got.Reason != "")) {
			t.Errorf("Decide(%s) = %+v, want visible %v", tc.tool, got, tc.visible)
		}
	}
	visible := 0
	for _, tl := range catalog.All() {
		if gateway.Decide(def, tl.Name).Visible {
			visible++
		}
	}
	if visible != 16 {
		t.Fatalf("default policy shows %d catalog tools, want 16", visible)
	}
}

func TestClientAllowed(t *testing.T) {
	cases := []struct {
		patterns []string
		name     string
		want     bool
	}{
		{[]string{"claude-ai"}, "Claude-AI", true},
		{[]string{"claude-*"}, "claude-code", true},
		{[]string{"claude-*"}, "cursor", false},
		{[]string{"*code*"}, "Visual Studio Code", true},
		{[]string{"a*b*c"}, "abc", true},
		{[]string{"a*b*c"}, "acb", false},
		{[]string{"*"}, "", true},
		{[]string{"x"}, "", false},
	}
	for _, tc := range cases {
		if got := gateway.ClientAllowed(tc.patterns, tc.name); got != tc.want {
			t.Errorf("ClientAllowed(%v, %q) = %v", tc.patterns, tc.name, got)
		}
	}
}

// TestListResultIsNormalisedInEveryState: refused and failed listings go
// through the SDK's own tools/list handler, so a 2026-07-28 client gets
// the cacheScope it requires (Claude Code rejects an empty one).
func TestListResultIsNormalisedInEveryState(t *testing.T) {
	allowed := policy.Default()
	onlyCursor := policy.Default()
	onlyCursor.AllowedClients = []string{"cursor"}
	down := newFakeUpstream()
	down.listErr = transientErr{"Scispot did not answer: connection refused."}
	cases := []struct {
		name  string
		up    *fakeUpstream
		state gateway.State
		title string
	}{
		{"allowed", newFakeUpstream(), gateway.State{Policy: allowed}, ""},
		{"refused", nil, gateway.State{Policy: allowed, Refusal: gateway.NoToken()}, "Scispot access is blocked"},
		{"client not approved", newFakeUpstream(), gateway.State{Policy: onlyCursor}, "Scispot access is blocked"},
		{"upstream down", down, gateway.State{Policy: allowed}, "Scispot is unreachable right now"},
	}
	for _, tc := range cases {
		for _, proto := range protocols {
			t.Run(tc.name+"/protocol="+proto, func(t *testing.T) {
				h := connect(t, tc.up, tc.state, proto)
				res, err := h.session.ListTools(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.CacheScope != "public" {
					t.Errorf("cacheScope = %q, want public", res.CacheScope)
				}
				if tc.title == "" {
					return
				}
				if len(res.Tools) != 1 || res.Tools[0].Name != gateway.StatusToolName || res.Tools[0].Title != tc.title {
					t.Fatalf("tools = %+v, want only %s titled %q", res.Tools, gateway.StatusToolName, tc.title)
				}
			})
		}
	}
}

type transientErr struct{ s string }

func (e transientErr) Error() string   { return e.s }
func (e transientErr) Transient() bool { return true }

// TestOutageIsNotABlock: Scispot being down reads as an outage with a next
// step, never as the workstation blocking access.
func TestOutageIsNotABlock(t *testing.T) {
	up := newFakeUpstream()
	up.listErr = transientErr{"Scispot did not answer: connection refused."}
	h := connect(t, up, gateway.State{Policy: policy.Default()}, "2025-06-18")
	res, err := h.session.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	desc := res.Tools[0].Description
	if strings.Contains(desc, "blocked on") || !strings.Contains(desc, "try again in a few minutes") {
		t.Fatalf("description = %q", desc)
	}
	r, text := h.call(t, gateway.StatusToolName, nil)
	if r.IsError || !strings.Contains(text, "connection refused") {
		t.Fatalf("status tool = %v %q", r.IsError, text)
	}
	if info := h.session.InitializeResult(); info != nil && strings.Contains(info.Instructions, "blocked") {
		t.Fatalf("instructions = %q", info.Instructions)
	}
}

// TestRefusalInServerInfo: a client that shows servers by title shows the
// refused state there, and the instructions carry the sentence.
func TestRefusalInServerInfo(t *testing.T) {
	h := connect(t, nil, gateway.State{Policy: policy.Default(), Refusal: gateway.NoToken()}, "2025-06-18")
	info := h.session.InitializeResult()
	if info == nil {
		t.Fatal("no initialize result")
	}
	if !strings.Contains(info.ServerInfo.Title, "blocked") || !strings.Contains(info.Instructions, gateway.NoToken().Sentence) {
		t.Fatalf("server info %+v, instructions %q", info.ServerInfo, info.Instructions)
	}
}

// TestListChangedOnlyWhenTheSessionsListChanged: no notification before a
// session has listed, none to a session whose own list stays the same, and
// one when it changes.
func TestListChangedOnlyWhenTheSessionsListChanged(t *testing.T) {
	for _, proto := range protocols {
		t.Run("protocol="+proto, func(t *testing.T) {
			h := connect(t, newFakeUpstream(), gateway.State{Policy: policy.Default()}, proto)
			// Another session (or the CLI) lists the upstream first, which
			// fills the registry before this one has asked for its list.
			if err := h.gw.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			quiet(t, h.changed, "before the session listed")
			h.toolNames(t)
			h.call(t, "list_labsheets", nil)
			p := policy.Default()
			p.MaxCallsPerMinute = 7 // changes nothing the session sees
			h.gw.SetState(gateway.State{Policy: p})
			quiet(t, h.changed, "although the session's list did not change")
			p.DeniedTools = []string{"get_manifest"}
			h.gw.SetState(gateway.State{Policy: p})
			<-h.changed
		})
	}

	t.Run("refused client", func(t *testing.T) {
		p := policy.Default()
		p.AllowedClients = []string{"cursor"}
		h := connect(t, newFakeUpstream(), gateway.State{Policy: p}, "")
		h.toolNames(t)
		p.DeniedTools = []string{"get_manifest"}
		h.gw.SetState(gateway.State{Policy: p})
		quiet(t, h.changed, "to a session refused for its client")
	})
}

// quiet fails if a tools/list_changed arrives within a while: the SDK
// sends one 10 ms after the registry changes.
func quiet(t *testing.T, changed chan struct{}, when string) {
	t.Helper()
	select {
	case <-changed:
		t.Fatal("tools/list_changed sent " + when)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestHiddenToolWhileUpstreamDownIsDenied: a tool the policy hides by name
// is refused as hidden (tool.denied) even when Scispot cannot be listed;
// an allowed one gets the outage as an error.
func TestHiddenToolWhileUpstreamDownIsDenied(t *testing.T) {
	up := newFakeUpstream()
	up.listErr = transientErr{"Scispot did not answer: connection refused."}
	h := connect(t, up, gateway.State{Policy: policy.Default()}, "")
	res, text := h.call(t, "update_labsheet_rows", nil)
	last := h.rec.Events()[len(h.rec.Events())-1]
	if !res.IsError || last.Kind != gateway.EventToolDenied || last.Rule != gateway.RuleToolHidden {
		t.Fatalf("hidden tool: %v %q, record %+v", res.IsError, text, last)
	}
	res, text = h.call(t, "list_labsheets", nil)
	last = h.rec.Events()[len(h.rec.Events())-1]
	if !res.IsError || !strings.Contains(text, "connection refused") || last.Kind != gateway.EventToolCall || last.Outcome != gateway.OutcomeError || last.Rule != gateway.RuleUpstreamDown {
		t.Fatalf("allowed tool: %v %q, record %+v", res.IsError, text, last)
	}
}

// TestDispatchToolIsNeverListed: the internal tool that carries calls to
// unregistered tools into the chain is in no list and refuses when named.
func TestDispatchToolIsNeverListed(t *testing.T) {
	h := connect(t, newFakeUpstream(), gateway.State{Policy: policy.Default()}, "")
	for _, name := range h.toolNames(t) {
		if strings.Contains(name, "dispatch") {
			t.Fatalf("listed %q", name)
		}
	}
	if res, _ := h.call(t, "scispot.dispatch", nil); !res.IsError {
		t.Fatal("calling the internal tool by name was not refused")
	}
}
