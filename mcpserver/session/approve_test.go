package session

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
)

// memPolicy is an admin policy held in memory.
type memPolicy struct{ s policy.Settings }

func (m memPolicy) Name() string                                  { return "test policy" }
func (m memPolicy) Read(context.Context) (policy.Settings, error) { return m.s, nil }

// writesPolicy allows the demo's update and add tools, with approvals.
func writesPolicy(extra policy.Settings) memPolicy {
	s := policy.Settings{
		"AllowWriteTools": true,
		"AllowedTools":    []string{"update_labsheet_rows", "add_labsheet_rows", "get_labsheet_row", "write_to_experiment"},
	}
	for k, v := range extra {
		s[k] = v
	}
	return memPolicy{s}
}

// signing is a demo host with writes allowed, for one test.
type signing struct {
	t     *testing.T
	h     *Host
	state string
	// tray answers the host's tray questions; asked holds them.
	mu    sync.Mutex
	tray  func(confirm.Request) (confirm.Answer, error)
	asked []confirm.Request
}

func newSigning(t *testing.T, p memPolicy) *signing {
	t.Helper()
	sg := &signing{t: t, state: t.TempDir()}
	h, err := Start(context.Background(), Config{
		Sources: access.Sources{
			Policy:      []policy.Store{p},
			ControlFile: filepath.Join(sg.state, "control.json"),
			User:        func() (account.Account, error) { return account.Account{Name: "jane"}, nil },
		},
		Demo:      true,
		StateDir:  sg.state,
		Device:    "dev-1",
		Version:   "test",
		Transport: audit.TransportStdio,
		Ask: func(ctx context.Context, req confirm.Request) (confirm.Answer, error) {
			sg.mu.Lock()
			sg.asked = append(sg.asked, req)
			f := sg.tray
			sg.mu.Unlock()
			if f == nil {
				return confirm.Answer{ID: req.ID, TimedOut: true}, confirm.ErrNoAnswer
			}
			return f(req)
		},
		FullName: func(acct string) (string, error) { return "Jane Q. Tester", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	sg.h = h
	return sg
}

// connect starts a session of client on protocol ("" is the SDK's
// newest, 2026-07-28).
func (sg *signing) connect(protocol string, client *mcp.Client) *mcp.ClientSession {
	sg.t.Helper()
	ct, st := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sg.h.Serve(ctx, st); close(done) }()
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: protocol})
	if err != nil {
		sg.t.Fatal(err)
	}
	sg.t.Cleanup(func() { cs.Close(); cancel(); <-done })
	return cs
}

// formClient answers every signature form with content (or declines
// when content is nil) and remembers the question.
func formClient(opts *mcp.ClientOptions, content map[string]any, asked *string) *mcp.Client {
	if opts == nil {
		opts = &mcp.ClientOptions{}
	}
	opts.ElicitationHandler = func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		*asked = req.Params.Message
		if content == nil {
			return &mcp.ElicitResult{Action: "decline"}, nil
		}
		return &mcp.ElicitResult{Action: "accept", Content: content}, nil
	}
	return mcp.NewClient(&mcp.Implementation{Name: "signing-client", Version: "1"}, opts)
}

func (sg *signing) records() []audit.Record {
	sg.t.Helper()
	recs, err := audit.Read(context.Background(), statedir.AuditDir(sg.state), audit.Filter{})
	if err != nil {
		sg.t.Fatal(err)
	}
	return recs
}

// verified checks every chain and every signature link.
func (sg *signing) verified() {
	sg.t.Helper()
	rep, err := audit.Verify(context.Background(), statedir.AuditDir(sg.state))
	if err != nil {
		sg.t.Fatal(err)
	}
	for _, f := range rep.Files {
		for _, is := range f.Issues {
			if !is.Problem.Incomplete() || is.Problem == audit.ProblemSignatureUnused {
				sg.t.Fatalf("the trail does not verify: %s", f)
			}
		}
	}
}

// signatureAndCall returns the last signature record and the record of
// the call for tool.
func (sg *signing) signatureAndCall(tool string) (sig, call *audit.Record) {
	recs := sg.records()
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Tool != tool:
		case r.Event == audit.EventSignature:
			sig = r
		case r.Event == audit.EventToolCall || r.Event == audit.EventToolDenied:
			call = r
		}
	}
	return sig, call
}

func callTool(t *testing.T, cs *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	return res, resultText(res)
}

var updateArgs = map[string]any{"labsheet": "Cell Lines", "updates": []any{
	map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": "Frozen"}},
}}

// statusOf reads CL-0001's Status through a session.
func statusOf(t *testing.T, cs *mcp.ClientSession) string {
	t.Helper()
	_, text := callTool(t, cs, "get_labsheet_row", map[string]any{"row_uuid": "CL-0001", "labsheet": "Cell Lines"})
	var row struct {
		Data map[string]any `json:"data"`
	}
	json.Unmarshal([]byte(text), &row)
	s, _ := row.Data["Status"].(string)
	return s
}

// TestSignedWriteInTheClient: a 2025-06-18 client answers an elicitation
// and a 2026-07-28 client an input_required result; either way the
// signature is recorded before the write, linked from its call, with the
// printed name, meaning, reason and method, and the call record holds the
// previous and the new value.
func TestSignedWriteInTheClient(t *testing.T) {
	for _, tc := range []struct {
		protocol, method string
	}{
		{"2025-06-18", audit.MethodElicitation},
		{"", audit.MethodInputRequired},
	} {
		t.Run(tc.method, func(t *testing.T) {
			sg := newSigning(t, writesPolicy(nil))
			var asked string
			cs := sg.connect(tc.protocol, formClient(nil, map[string]any{"meaning": "Approved", "reason": "Vials moved to the -80 freezer"}, &asked))
			if before := statusOf(t, cs); before != "Active" {
				t.Fatalf("CL-0001 starts %q", before)
			}
			res, text := callTool(t, cs, "update_labsheet_rows", updateArgs)
			if res.IsError {
				t.Fatalf("signed write refused: %s", text)
			}
			for _, want := range []string{"DESTRUCTIVE", "update_labsheet_rows", `labsheet "Cell Lines"`, "Current value: ", `"Status":"Active"`, "Approved, Rejected", "reason for the change"} {
				if !strings.Contains(asked, want) {
					t.Errorf("the question lacks %q:\n%s", want, asked)
				}
			}
			if after := statusOf(t, cs); after != "Frozen" {
				t.Fatalf("CL-0001 is %q after the approved write", after)
			}
			sig, call := sg.signatureAndCall("update_labsheet_rows")
			if sig == nil || call == nil || call.Event != audit.EventToolCall || call.Outcome != audit.OutcomeOK {
				t.Fatalf("records: signature %+v, call %+v", sig, call)
			}
			s := sig.Signature
			if s.Name != "Jane Q. Tester" || s.Account != "jane" || s.Meaning != "Approved" || !s.Approves ||
				s.Reason != "Vials moved to the -80 freezer" || s.Method != tc.method || s.Verified || s.Time.IsZero() ||
				s.Call != audit.CallDigest("update_labsheet_rows", mustJSON(updateArgs)) || !strings.Contains(s.Target, "Cell Lines") {
				t.Errorf("signature = %+v", s)
			}
			if sig.Seq >= call.Seq || call.Signature == nil || call.Signature.Record != sig.Hash || call.Signature.ID != s.ID {
				t.Errorf("the call does not link the signature written before it: %+v / %+v", sig, call.Signature)
			}
			ch := call.Change
			if ch == nil || ch.Before == nil || ch.After == nil || !strings.Contains(string(ch.Before.Value), `"Status":"Active"`) ||
				!strings.Contains(string(ch.After.Value), `"Status":"Frozen"`) || ch.Error != "" {
				t.Errorf("change = %+v", ch)
			}
			sg.verified()
		})
	}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TestClientAnswersThatDoNotSign: a missing reason, a meaning that is not
// on the list, a declined form and a rejecting meaning; none of them
// writes, and only the rejection is a signature.
func TestClientAnswersThatDoNotSign(t *testing.T) {
	for _, protocol := range []string{"2025-06-18", ""} {
		for _, tc := range []struct {
			name      string
			content   map[string]any
			rule      string
			signature bool
		}{
			{"blank reason", map[string]any{"meaning": "Approved", "reason": "   "}, RuleReasonRequired, false},
			{"no reason", map[string]any{"meaning": "Approved"}, RuleReasonRequired, false},
			{"unknown meaning", map[string]any{"meaning": "Whatever", "reason": "x"}, RuleSignatureInvalid, false},
			{"declined", nil, RuleWriteDeclined, false},
			{"rejected", map[string]any{"meaning": "Rejected", "reason": "Wrong row"}, RuleWriteDeclined, true},
		} {
			t.Run(protocol+"/"+tc.name, func(t *testing.T) {
				sg := newSigning(t, writesPolicy(nil))
				var asked string
				var res *mcp.CallToolResult
				var text string
				var cs *mcp.ClientSession
				if protocol == "" {
					// The go-sdk client checks a form against its schema
					// before it answers; send the answer as another client
					// (or an AI agent) could, to see the gateway refuse it.
					cs = sg.connect(protocol, formClient(&mcp.ClientOptions{MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true}}, nil, &asked))
					res, text = retryWith(t, cs, tc.content)
				} else {
					cs = sg.connect(protocol, formClient(nil, tc.content, &asked))
					res, text = callTool(t, cs, "update_labsheet_rows", updateArgs)
				}
				if !res.IsError {
					t.Fatalf("the write went through: %s", text)
				}
				if statusOf(t, cs) != "Active" {
					t.Fatal("the refused write changed the row")
				}
				sig, call := sg.signatureAndCall("update_labsheet_rows")
				if call == nil || call.Event != audit.EventToolDenied || call.Rule != tc.rule || call.Reason != text {
					t.Fatalf("call record %+v, want tool.denied %s with %q", call, tc.rule, text)
				}
				if tc.rule == RuleReasonRequired && !strings.Contains(text, "no reason for the change") {
					t.Errorf("the refusal does not say why: %q", text)
				}
				if (sig != nil) != tc.signature {
					t.Fatalf("signature record %+v, want one: %v", sig, tc.signature)
				}
				if sig != nil && (sig.Signature.Approves || call.Signature == nil || call.Signature.Record != sig.Hash || !strings.Contains(text, `signed "Rejected"`)) {
					t.Fatalf("rejection: %+v %+v %q", sig.Signature, call.Signature, text)
				}
				sg.verified()
			})
		}
	}
}

// TestSignedWriteInTheTray: a client that cannot ask sends the write to
// the tray; the service's answer (it checked the password) is a verified
// signature, a denial writes nothing, and silence is no approval.
func TestSignedWriteInTheTray(t *testing.T) {
	sg := newSigning(t, writesPolicy(nil))
	cs := sg.connect("2025-06-18", mcp.NewClient(&mcp.Implementation{Name: "no-forms", Version: "1"}, nil))
	sg.tray = func(req confirm.Request) (confirm.Answer, error) {
		return confirm.Answer{ID: req.ID, Approved: true, Meaning: "Approved", Reason: "Thaw recorded", By: "jane", Name: "Jane Q. Tester", Verified: true, At: time.Now()}, nil
	}
	if res, text := callTool(t, cs, "update_labsheet_rows", updateArgs); res.IsError {
		t.Fatalf("tray-signed write refused: %s", text)
	}
	req := sg.asked[0]
	if req.Tool != "update_labsheet_rows" || !strings.Contains(req.Current, `"Status":"Active"`) || !req.ReasonRequired ||
		strings.Join(req.Meanings, ",") != "Approved,Rejected" || req.ClientName != "no-forms" || !req.Destructive {
		t.Errorf("tray request = %+v", req)
	}
	sig, call := sg.signatureAndCall("update_labsheet_rows")
	if sig.Signature.Method != audit.MethodTrayPassword || !sig.Signature.Verified || call.Signature.Record != sig.Hash || call.Outcome != audit.OutcomeOK {
		t.Fatalf("tray signature %+v, call %+v", sig.Signature, call)
	}

	// Signed without the password check (a demo instance): recorded as such.
	sg.tray = func(req confirm.Request) (confirm.Answer, error) {
		return confirm.Answer{ID: req.ID, Approved: true, Meaning: "Approved", Reason: "Demo", By: "jane"}, nil
	}
	callTool(t, cs, "update_labsheet_rows", updateArgs)
	if sig, _ := sg.signatureAndCall("update_labsheet_rows"); sig.Signature.Method != audit.MethodTray || sig.Signature.Verified || sig.Signature.Name != "Jane Q. Tester" {
		t.Errorf("unchecked tray signature = %+v", sig.Signature)
	}

	for _, tc := range []struct {
		name string
		tray func(confirm.Request) (confirm.Answer, error)
		rule string
	}{
		{"denied", func(req confirm.Request) (confirm.Answer, error) { return confirm.Answer{ID: req.ID, By: "jane"}, nil }, RuleWriteDeclined},
		{"no answer", nil, RuleWriteUnconfirmed},
		{"no reason", func(req confirm.Request) (confirm.Answer, error) {
			return confirm.Answer{ID: req.ID, Approved: true, Meaning: "Approved", Verified: true}, nil
		}, RuleReasonRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sg.tray = tc.tray
			res, text := callTool(t, cs, "add_labsheet_rows", map[string]any{"labsheet": "Cell Lines", "rows": []any{map[string]any{"Name": "HeLa-2"}}})
			_, call := sg.signatureAndCall("add_labsheet_rows")
			if !res.IsError || call.Rule != tc.rule {
				t.Fatalf("%v %q, record %+v", res.IsError, text, call)
			}
		})
	}
	sg.verified()
}

// TestRequestStateCannotBeForged: the state of an input_required result
// answers one retry of the same call in the same trail, within its time;
// a made-up one, a replay, a retry with other arguments and a late one
// are refused and write nothing.
func TestRequestStateCannotBeForged(t *testing.T) {
	sg := newSigning(t, writesPolicy(nil))
	var asked string
	client := formClient(&mcp.ClientOptions{MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true}}, nil, &asked)
	cs := sg.connect("", client)
	ctx := context.Background()
	answer := mcp.InputResponseMap{inputSignature: &mcp.ElicitResult{Action: "accept", Content: map[string]any{"meaning": "Approved", "reason": "ok"}}}
	ask := func(args any) *mcp.CallToolResult {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: args})
		if err != nil || !res.NeedsInput() || res.RequestState == "" || res.InputRequests[inputSignature] == nil {
			t.Fatalf("first round = %+v %v", res, err)
		}
		return res
	}
	retry := func(args any, state string) (*mcp.CallToolResult, string) {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: args, RequestState: state, InputResponses: answer})
		if err != nil {
			t.Fatal(err)
		}
		return res, resultText(res)
	}
	if res, text := retry(updateArgs, "made-up-state"); !res.IsError || !strings.Contains(text, "unknown, already answered") {
		t.Fatalf("made-up state = %q", text)
	}
	first := ask(updateArgs)
	other := map[string]any{"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": "Retired"}}}}
	if res, text := retry(other, first.RequestState); !res.IsError || !strings.Contains(text, "another call") {
		t.Fatalf("state reused for other arguments = %q", text)
	}
	// The mismatch used the state up.
	if res, _ := retry(updateArgs, first.RequestState); !res.IsError {
		t.Fatal("a state answered two retries")
	}
	second := ask(updateArgs)
	if res, text := retry(updateArgs, second.RequestState); res.IsError {
		t.Fatalf("a proper retry was refused: %q", text)
	}
	if res, _ := retry(updateArgs, second.RequestState); !res.IsError {
		t.Fatal("a replayed retry was accepted")
	}
	third := ask(updateArgs)
	sg.h.approver.now = func() time.Time { return time.Now().Add(inputStateTTL + time.Second) }
	if res, text := retry(updateArgs, third.RequestState); !res.IsError || !strings.Contains(text, "older than") {
		t.Fatalf("late retry = %q", text)
	}
	sg.h.approver.now = time.Now
	signatures := 0
	for _, r := range sg.records() {
		if r.Event == audit.EventSignature {
			signatures++
		}
	}
	if signatures != 1 {
		t.Fatalf("%d signature records, want the one proper retry's", signatures)
	}
	sg.verified()
}

// TestChangedWhileAsked: the signature is for the value the person saw;
// if the record changes before the write, the write is not made.
func TestChangedWhileAsked(t *testing.T) {
	sg := newSigning(t, writesPolicy(nil))
	cs := sg.connect("2025-06-18", mcp.NewClient(&mcp.Implementation{Name: "no-forms", Version: "1"}, nil))
	sg.tray = func(req confirm.Request) (confirm.Answer, error) {
		// Someone else changes the row meanwhile.
		sg.h.gw.ReadUpstream(context.Background(), &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: map[string]any{
			"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Notes": "changed elsewhere"}}}}})
		return confirm.Answer{ID: req.ID, Approved: true, Meaning: "Approved", Reason: "r", Verified: true, By: "jane"}, nil
	}
	res, text := callTool(t, cs, "update_labsheet_rows", updateArgs)
	if !res.IsError || !strings.Contains(text, "changed in Scispot while") {
		t.Fatalf("write over a changed record = %q", text)
	}
	if statusOf(t, cs) != "Active" {
		t.Fatal("the write was made")
	}
	sig, call := sg.signatureAndCall("update_labsheet_rows")
	if sig == nil || call.Rule != RuleChangedWhileAsk || call.Signature.Record != sig.Hash {
		t.Fatalf("records %+v %+v", sig, call)
	}
	sg.verified()
}

// TestValuesWithoutApprovals: with ConfirmWrites off, nobody is asked,
// no signature is recorded, and an update still records what it changed.
func TestValuesWithoutApprovals(t *testing.T) {
	sg := newSigning(t, writesPolicy(policy.Settings{"ConfirmWrites": false}))
	cs := sg.connect("", mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil))
	if res, text := callTool(t, cs, "write_to_experiment", map[string]any{"hrid": "EXP-0002", "html": "<p>Marker 7731.</p>"}); res.IsError {
		t.Fatal(text)
	}
	sig, call := sg.signatureAndCall("write_to_experiment")
	if sig != nil || call.Signature != nil || len(sg.asked) != 0 {
		t.Fatalf("asked without ConfirmWrites: %+v", sig)
	}
	ch := call.Change
	if ch == nil || ch.Before == nil || ch.After == nil || ch.Before.Same(ch.After) {
		t.Fatalf("change = %+v", ch)
	}
	if !strings.Contains(string(ch.After.Value), "Marker 7731") && ch.After.Value != nil {
		t.Errorf("after = %s", ch.After.Value)
	}
	// An add changes no existing value.
	callTool(t, cs, "add_labsheet_rows", map[string]any{"labsheet": "Cell Lines", "rows": []any{map[string]any{"Name": "HeLa-3"}}})
	if _, call := sg.signatureAndCall("add_labsheet_rows"); call.Change != nil {
		t.Errorf("an add recorded a change: %+v", call.Change)
	}
	sg.verified()
}

// TestHiddenReadToolIsNotShown: the value is shown only when the policy
// lets this client read it anyway; the trail keeps it by digest then.
func TestHiddenReadToolIsNotShown(t *testing.T) {
	p := writesPolicy(nil)
	p.s["AllowedTools"] = []string{"update_labsheet_rows"}
	sg := newSigning(t, p)
	var asked string
	cs := sg.connect("2025-06-18", formClient(nil, map[string]any{"meaning": "Approved", "reason": "r"}, &asked))
	if res, text := callTool(t, cs, "update_labsheet_rows", updateArgs); res.IsError {
		t.Fatal(text)
	}
	if strings.Contains(asked, "Active") || !strings.Contains(asked, "not shown: the admin policy hides get_labsheet_row") {
		t.Fatalf("question = %q", asked)
	}
	_, call := sg.signatureAndCall("update_labsheet_rows")
	if ch := call.Change; ch == nil || ch.Before == nil || ch.Before.Value != nil || ch.Before.SHA256 == "" || ch.After == nil || ch.After.Value != nil || ch.Before.Same(ch.After) {
		t.Fatalf("values the policy hides were kept inline, or not recorded: %+v", call.Change)
	}
}

// retryWith does a 2026-07-28 client's two rounds by hand, answering the
// signature request with content (declining when nil).
func retryWith(t *testing.T, cs *mcp.ClientSession, content map[string]any) (*mcp.CallToolResult, string) {
	t.Helper()
	ctx := context.Background()
	first, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: updateArgs})
	if err != nil || !first.NeedsInput() {
		t.Fatalf("first round = %+v %v", first, err)
	}
	ans := &mcp.ElicitResult{Action: "decline"}
	if content != nil {
		ans = &mcp.ElicitResult{Action: "accept", Content: content}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "update_labsheet_rows", Arguments: updateArgs, RequestState: first.RequestState,
		InputResponses: mcp.InputResponseMap{inputSignature: ans}})
	if err != nil {
		t.Fatal(err)
	}
	return res, resultText(res)
}
