package session_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/session"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

const (
	token       = "sst_live_5a4b3c2d1e0f99887766"
	localSecret = "7f3e2d1c0b9a887766554433221100ffeeddccbbaa99887766554433221100ff"
)

// policyFile is an admin policy held in memory.
type policyFile []byte

func (p policyFile) Name() string { return "test policy" }
func (p policyFile) Read(context.Context) (policy.Settings, error) {
	return policy.ParseJSON(p)
}

// world is one account's session host in front of a loopback stand-in
// for Scispot, with the real guards, audit trail and policy.
type world struct {
	state string
	up    *upstreamtest.Server
	host  *session.Host
}

func newWorld(t *testing.T, extraPolicy string) *world {
	t.Helper()
	return newWorldWith(t, extraPolicy, nil)
}

// newWorldWith is newWorld with changes to the host's configuration.
func newWorldWith(t *testing.T, extraPolicy string, configure func(*session.Config)) *world {
	t.Helper()
	w := &world{state: t.TempDir(), up: upstreamtest.New(t, token)}
	kc := keychain.NewMemory()
	if err := kc.Set(context.Background(), keychain.AccountToken, token); err != nil {
		t.Fatal(err)
	}
	body := `{"UpstreamURL": "` + w.up.URL + `", "RequireEnrollment": false` + extraPolicy + `}`
	cfg := session.Config{
		Sources: access.Sources{
			Policy:      []policy.Store{policyFile(body)},
			ControlFile: statedir.ControlFile(w.state),
			User:        func() (account.Account, error) { return account.Account{Name: "alice"}, nil },
			Keychain:    kc,
		},
		StateDir:  w.state,
		Device:    "device-1",
		Version:   "test",
		Transport: audit.TransportStdio,
		Secrets:   []string{localSecret},
	}
	if configure != nil {
		configure(&cfg)
	}
	h, err := session.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(session.EndContext) })
	w.host = h
	return w
}

// connect serves one MCP session of a client to the host.
func (w *world) connect(t *testing.T) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ct, st := mcp.NewInMemoryTransports()
	done := make(chan struct{})
	go func() { defer close(done); w.host.Serve(ctx, st) }()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "claude-ai", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); cancel(); <-done })
	return cs
}

// records returns every record of the host's trail, and its raw bytes.
func (w *world) records(t *testing.T) ([]audit.Record, string) {
	t.Helper()
	recs, err := audit.Read(context.Background(), statedir.AuditDir(w.state), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var raw strings.Builder
	files, _ := filepath.Glob(filepath.Join(statedir.AuditDir(w.state), "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		raw.Write(b)
	}
	return recs, raw.String()
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	b, _ := json.Marshal(res)
	return res, string(b)
}

// TestSecretsStayOutOfResultsAndRecords: the token (echoed back by
// Scispot in a result, in an error result), the local HTTP secret and any
// token-shaped word reach neither the client nor any audit record — args,
// reason, flags — and the record says a secret was removed.
func TestSecretsStayOutOfResultsAndRecords(t *testing.T) {
	w := newWorld(t, "")
	other := "sst_0123456789abcdef0123"
	w.up.SetResultFunc("get_experiment", upstreamtest.EchoToken)
	w.up.SetResult("get_protocol", &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "rejected Bearer " + token + " and " + localSecret}}})
	cs := w.connect(t)
	var seen []string
	_, raw := call(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001", "note": "my token is " + token})
	seen = append(seen, raw)
	_, raw = call(t, cs, "get_protocol", map[string]any{"hrid": "PRT-0001", "secret_note": localSecret, "other": other})
	seen = append(seen, raw)
	_, raw = call(t, cs, "update_labsheet_rows", map[string]any{"labsheet": other}) // hidden: a denied record
	seen = append(seen, raw)
	recs, trail := w.records(t)
	seen = append(seen, trail)
	for _, s := range seen {
		for _, secret := range []string{token, localSecret, other} {
			if strings.Contains(s, secret) {
				t.Errorf("%q reached the client or the trail:\n%s", secret[:8], s)
			}
		}
	}
	flagged := 0
	for _, r := range recs {
		if slices.Contains(r.Flags, audit.FlagSecretRedacted) {
			flagged++
		}
	}
	if flagged != 2 {
		t.Errorf("%d records flagged %s, want 2", flagged, audit.FlagSecretRedacted)
	}
}

// TestGuardOrderInTheService: the account's hourly budget counts only
// what reached the client — error results included, blocked results not.
func TestGuardOrderInTheService(t *testing.T) {
	w := newWorld(t, `, "InjectionAction": "block", "MaxResultBytes": 4000, "MaxBytesPerHour": 5000`)
	w.up.SetResult("get_labsheet_row", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 1500) + " " + upstreamtest.Injection}}})
	w.up.SetResult("get_experiment", upstreamtest.HugeError(1<<20))
	w.up.SetResult("get_protocol", upstreamtest.HugeError(1500))
	cs := w.connect(t)
	for range 4 {
		call(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "uuid": "CL-0137"})
		call(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"})
	}
	for range 4 {
		call(t, cs, "get_protocol", map[string]any{"hrid": "PRT-0001"})
	}
	recs, _ := w.records(t)
	rules := map[string][]string{}
	for _, r := range recs {
		if r.Tool != "" {
			rules[r.Tool] = append(rules[r.Tool], string(r.Event)+":"+r.Rule)
		}
	}
	for _, r := range rules["get_labsheet_row"] {
		if r != "tool.denied:"+guard.RuleInjectionBlock {
			t.Fatalf("blocked results: %v", rules["get_labsheet_row"])
		}
	}
	for _, r := range rules["get_experiment"] {
		if r != "tool.denied:"+guard.RuleResultSize {
			t.Fatalf("oversized error results: %v", rules["get_experiment"])
		}
	}
	// 1.5 KB error results: three fit the 5000 bytes the refused results
	// did not touch; the fourth does not.
	want := []string{"tool.call:", "tool.call:", "tool.call:", "tool.denied:" + guard.RuleHourlyBudget}
	if !slices.Equal(rules["get_protocol"], want) {
		t.Fatalf("error results against the hourly budget: %v, want %v", rules["get_protocol"], want)
	}
}
