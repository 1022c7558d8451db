package diagnostics

import (
	"context"
	"errors"
	"flag"
	"github.com/scispot/mcp-desktop/app/apptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const secret = "sk-DIAG-secret-0123456789"

var when = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func good() Input {
	p := policy.Snapshot{Policy: policy.Default(), Sources: []string{"/etc/scispot-mcp/policy.json"}}
	return Input{
		Facts: access.Facts{
			Policy: p, User: account.Account{Name: "ann"},
			EnrollmentChecked: true, Enrollment: enroll.Result{Managed: true, Method: "mdm-profile", Detail: "Enrolled via Jamf."},
			TokenPresent: true, TokenFingerprint: keychain.Fingerprint(secret),
		},
		Upstream: UpstreamResult{Done: true, Verification: apitoken.Verification{URL: policy.DefaultUpstreamURL, Tools: 27, Latency: 230 * time.Millisecond}},
		Audit:    AuditResult{Done: true, Report: audit.Report{Totals: audit.Totals{Files: 3, Records: 40, OK: 3}}},
		AuditDir: "/state/audit",
		Clients: []clients.ClientStatus{
			{Client: clients.ClaudeDesktop, Name: "Claude Desktop", State: clients.Configured, Detail: "Claude Desktop is connected to Scispot."},
			{Client: clients.Cursor, Name: "Cursor", State: clients.Stale, Detail: "The entry launches /old/path."},
			{Client: clients.ClaudeCode, Name: "Claude Code", State: clients.PlaintextToken, Detail: "plaintext token (fingerprint abc)."},
			{Client: clients.VSCode, Name: "VS Code", State: clients.Removed, Detail: "The entry is gone."},
			{Client: clients.Windsurf, Name: "Windsurf", State: clients.NotInstalled, Detail: "Windsurf does not seem to be installed."},
		},
		Version: "1.2.3", Time: when,
	}
}

func byName(cs []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

func TestChecks(t *testing.T) {
	type want struct {
		status Status
		detail string // substring
	}
	tests := []struct {
		name   string
		modify func(*Input)
		want   map[string]want
	}{
		{"all good", func(*Input) {}, map[string]want{
			"AI access":                 {OK, "Allowed"},
			"Admin policy":              {OK, "from /etc/scispot-mcp/policy.json. Effective: AllowDemo=true"},
			"Device enrollment (MDM)":   {OK, "method: mdm-profile"},
			"OS account authorised":     {OK, `"ann"`},
			"Kill switch":               {OK, "Off"},
			"API token in the keychain": {OK, "fingerprint " + keychain.Fingerprint(secret)},
			"Scispot accepts the token": {OK, "27 tools published (230 ms)"},
			"Audit trail verifies":      {OK, "3 files, 40 records"},
			"Claude Desktop":            {OK, "connected"},
			"Cursor":                    {Fail, "old/path"},
			"Claude Code":               {Fail, "plaintext"},
			"VS Code":                   {Fail, "gone"},
			"Windsurf":                  {Info, "not seem to be installed"},
		}},
		{"busy", func(in *Input) { in.Upstream, in.Audit = UpstreamResult{}, AuditResult{} }, map[string]want{
			"Scispot accepts the token": {Pending, "Asking Scispot"},
			"Audit trail verifies":      {Pending, "Verifying"},
		}},
		{"policy invalid", func(in *Input) {
			in.Facts.Policy = policy.Snapshot{Policy: policy.Default(), Err: errors.New("managed policy /etc/x: unknown key \"Foo\"")}
			in.Facts.Policy.Policy.Enabled = false
		}, map[string]want{
			"AI access":                 {Fail, "policy for Scispot MCP is invalid"},
			"Admin policy":              {Fail, `unknown key "Foo"`},
			"Device enrollment (MDM)":   {Info, "policy is invalid"},
			"Scispot accepts the token": {Info, "Not checked"},
		}},
		{"keychain locked", func(in *Input) {
			in.Facts.TokenPresent, in.Facts.TokenFingerprint = false, ""
			in.Facts.TokenErr = &keychain.Error{Op: "reading", Kind: keychain.ErrLocked, Reason: "the keychain is locked"}
		}, map[string]want{
			"AI access":                 {Fail, "could not be read from the keychain"},
			"API token in the keychain": {Fail, "keychain is locked"},
		}},
		{"no token", func(in *Input) { in.Facts.TokenPresent = false }, map[string]want{
			"API token in the keychain": {Fail, "No token"},
		}},
		{"upstream 401", func(in *Input) {
			in.Upstream.Err = &upstream.Error{Kind: upstream.Unauthorized, Status: 401}
		}, map[string]want{
			"Scispot accepts the token": {Fail, "rejected the API token"},
		}},
		{"killed", func(in *Input) {
			in.Facts.Kill = control.State{Killed: true, Reason: "lunch", By: "ann"}
		}, map[string]want{
			"AI access":   {Fail, "kill switch"},
			"Kill switch": {Fail, "by ann"},
		}},
		{"user not authorised", func(in *Input) {
			in.Facts.Policy.Policy.AuthorizedUsers = []string{"bob"}
		}, map[string]want{
			"OS account authorised": {Fail, `"ann" is not in`},
		}},
		{"not enrolled", func(in *Input) {
			in.Facts.Enrollment = enroll.Result{Detail: "No MDM profile was found."}
		}, map[string]want{
			"Device enrollment (MDM)": {Fail, "No MDM profile"},
		}},
		{"audit broken", func(in *Input) {
			in.Audit.Report = audit.Report{Files: []audit.FileReport{{Name: "a.jsonl", Status: audit.StatusBroken}}, Totals: audit.Totals{Files: 1, Broken: 1}}
		}, map[string]want{
			"Audit trail verifies": {Fail, "a.jsonl"},
		}},
		{"demo", func(in *Input) {
			in.Facts = access.Facts{Policy: policy.Snapshot{Policy: policy.Default()}, Demo: true, User: account.Account{Name: "ann"}}
		}, map[string]want{
			"AI access":                 {OK, "demo"},
			"API token in the keychain": {Info, "demo"},
			"Scispot accepts the token": {Info, "demo"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.modify(&in)
			got := byName(Checks(in))
			for name, w := range tt.want {
				c, ok := got[name]
				if !ok {
					t.Errorf("no check %q", name)
					continue
				}
				if c.Status != w.status || !strings.Contains(c.Detail, w.detail) {
					t.Errorf("%s = %s %q, want %s …%q…", name, c.Status.Mark(), c.Detail, w.status.Mark(), w.detail)
				}
				if c.Status == Fail && c.Remedy == "" && name != "AI access" {
					t.Errorf("%s fails without a remedy", name)
				}
			}
		})
	}
}

// fakePolicy is an admin policy store pointing at an upstream.
type fakePolicy struct{}

func (fakePolicy) Name() string { return "test policy" }
func (fakePolicy) Read(context.Context) (policy.Settings, error) {
	return policy.FromValues(map[string]any{"RequireEnrollment": false})
}

// TestCollectAndCopyHaveNoToken runs the real collection with a stored
// token and checks that no report, and not the clipboard, carries it.
func TestCollectAndCopyHaveNoToken(t *testing.T) {
	ctx := context.Background()
	state := t.TempDir()
	kc := keychain.NewMemory()
	if err := kc.Set(ctx, keychain.AccountToken, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.AppendOnce(ctx, filepath.Join(state, "audit"), audit.SessionInfo{User: "ann"}, audit.Record{Event: audit.EventTokenSet, Outcome: audit.OutcomeOK, Token: keychain.Fingerprint(secret)}); err != nil {
		t.Fatal(err)
	}
	var gotToken string
	env := Env{
		Sources: access.Sources{
			Policy: []policy.Store{fakePolicy{}}, Keychain: kc, ControlFile: filepath.Join(state, "control.json"),
			User: func() (account.Account, error) { return account.Account{Name: "ann"}, nil },
		},
		AuditDir: filepath.Join(state, "audit"),
		Verify: func(_ context.Context, url, token string) (apitoken.Verification, error) {
			gotToken = token
			return apitoken.Verification{URL: url, Latency: time.Millisecond}, &upstream.Error{Kind: upstream.Unauthorized, Status: 401}
		},
		Now: func() time.Time { return when },
	}
	var inputs []Input
	Collect(ctx, env, func(in Input) { inputs = append(inputs, in) })
	if gotToken != secret {
		t.Error("the upstream check did not get the stored token")
	}
	if len(inputs) != 3 || !inputs[2].Upstream.Done {
		t.Fatalf("updates %d, last %+v", len(inputs), inputs[len(inputs)-1])
	}
	checks := byName(Checks(inputs[2]))
	if c := checks["Audit trail verifies"]; c.Status != OK {
		t.Errorf("audit: %+v", c)
	}
	if c := checks["Scispot accepts the token"]; c.Status != Fail {
		t.Errorf("upstream: %+v", c)
	}

	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	for _, in := range inputs {
		v.Update(in)
		if strings.Contains(Report(in), secret) || strings.Contains(test.RenderToMarkup(w.Canvas()), secret) {
			t.Fatal("the token appears in the report or the window")
		}
	}
	test.Tap(v.copy)
	clip := a.Clipboard().Content()
	if !strings.Contains(clip, "✗ Scispot accepts the token") || !strings.Contains(clip, "fingerprint "+keychain.Fingerprint(secret)) {
		t.Errorf("clipboard:\n%s", clip)
	}
	if strings.Contains(clip, secret) {
		t.Error("the clipboard report holds the token")
	}
}

func TestViewGolden(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 1400))
	in := good()
	in.Clients = in.Clients[:2]
	in.Facts.Policy.Sources = nil // keep the effective list short and stable
	v.Update(in)
	assertGolden(t, "testdata/mixed.xml", test.RenderToMarkup(w.Canvas()))
}

func TestReport(t *testing.T) {
	r := Report(good())
	for _, want := range []string{
		"Time: 2026-02-03T04:05:06Z", "Version: 1.2.3",
		"✓ AI access: Allowed", "✗ Cursor: The entry launches /old/path.\n    What to do: Reconnect",
		"– Windsurf",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

func assertGolden(t *testing.T, path, got string) {
	t.Helper()
	apptest.Golden(t, path, got, *update)
}
