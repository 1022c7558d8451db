package diagnostics

import (
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const secret = "sk-DIAG-secret-0123456789"

var when = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

func good() Input {
	var st localapi.Status
	st.Service = localapi.Service{Mode: localapi.ModeSystem, Version: "1.2.3", Socket: "/run/scispot-mcp/mcpd.sock", PID: 812}
	st.Access.Allowed, st.DemoAccess.Allowed = true, true
	st.Policy.Valid = true
	st.Policy.Sources = []string{"/etc/scispot-mcp/policy.json"}
	st.Policy.Effective = map[string]any{"AllowDemo": true, "Enabled": true, "RequireEnrollment": true, "MaxCallsPerMinute": float64(60), "MaxBytesPerHour": float64(52428800),
		"AllowedTools": []any{"list_labsheets", "get_manifest"}, "AuthorizedUsers": []any{}}
	st.User.Name, st.User.Authorized = "ann", true
	st.Device = "dev-1"
	st.Enrollment.Checked, st.Enrollment.Managed, st.Enrollment.Method, st.Enrollment.Detail = true, true, "mdm-profile", "Enrolled via Jamf."
	st.Token.Present, st.Token.Fingerprint = true, keychain.Fingerprint(secret)
	return Input{
		Service:    ServiceResult{Done: true, Status: st},
		ItemSealed: true,
		Audit: AuditResult{Done: true, Result: localapi.VerifyResult{Dir: "/var/lib/scispot-mcp/users/uid-1000/audit",
			Report: audit.Report{Totals: audit.Totals{Files: 3, Records: 40, OK: 3}}}},
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
	st := func(in *Input) *localapi.Status { return &in.Service.Status }
	tests := []struct {
		name   string
		modify func(*Input)
		want   map[string]want
	}{
		{"all good", func(*Input) {}, map[string]want{
			"Scispot MCP service":       {OK, "system service answers: scispot-mcpd 1.2.3 on /run/scispot-mcp/mcpd.sock (process 812)"},
			"AI access":                 {OK, "Allowed"},
			"Admin policy":              {OK, "from /etc/scispot-mcp/policy.json. Effective: AllowDemo=true, AllowedTools=[list_labsheets, get_manifest], AuthorizedUsers=[], Enabled=true, MaxBytesPerHour=52428800, "},
			"Device enrollment (MDM)":   {OK, "method: mdm-profile"},
			"OS account authorised":     {OK, `"ann" (the policy allows every account)`},
			"Kill switch":               {OK, "Off"},
			"API token in the keychain": {OK, "sealed to this workstation's Scispot MCP service (fingerprint " + keychain.Fingerprint(secret)},
			"Audit trail verifies":      {OK, "3 files, 40 records, every chain intact, kept by the service in /var/lib"},
			"Claude Desktop":            {OK, "connected"},
			"Cursor":                    {Fail, "old/path"},
			"Claude Code":               {Fail, "plaintext"},
			"VS Code":                   {Fail, "gone"},
			"Windsurf":                  {Info, "not seem to be installed"},
		}},
		{"direct connection beside the gateway entry", func(in *Input) {
			in.Clients[0].Direct = []clients.Direct{{Client: clients.ClaudeDesktop, File: "/home/ann/.config/Claude/claude_desktop_config.json", Entry: "remote", Kind: clients.KindBridge}}
		}, map[string]want{
			"Claude Desktop": {Fail, `Direct connection: /home/ann/.config/Claude/claude_desktop_config.json: entry "remote" bridges to Scispot directly`},
		}},
		{"direct-connection protection as status judges it", func(in *Input) {
			st(in).ClientSettings = []localapi.ClientSettings{
				{Client: clients.ClaudeCode, Name: "Claude Code", File: "/etc/claude-code/managed-settings.json", Blocked: true},
				{Client: "github-copilot", Name: "GitHub Copilot", File: "/etc/github-copilot/managed-settings.json", Error: "deniedMcpServers is not a list"},
			}
		}, map[string]want{
			"Claude Code":    {Fail, "Direct Scispot entries: blocked (Claude Code's managed settings deny direct Scispot connections)."},
			"Claude Desktop": {OK, "Direct Scispot entries: detected (Claude Desktop has no machine-level setting to deny a server"},
			"GitHub Copilot": {Info, "Direct Scispot entries: none (its managed settings could not be kept: deniedMcpServers is not a list)."},
		}},
		{"direct-connection protection, key false", func(in *Input) {
			st(in).ClientSettings = []localapi.ClientSettings{
				{Client: clients.ClaudeCode, Name: "Claude Code", File: "/etc/claude-code/managed-settings.json"},
				{Client: "github-copilot", Name: "GitHub Copilot", File: "/etc/github-copilot/managed-settings.json", Blocked: true},
			}
		}, map[string]want{
			"Claude Code":    {Fail, "Direct Scispot entries: detected (the policy's BlockDirectConnections is false)."},
			"GitHub Copilot": {OK, "Direct Scispot entries: blocked"},
		}},
		{"busy", func(in *Input) { in.Service, in.Audit = ServiceResult{}, AuditResult{} }, map[string]want{
			"Scispot MCP service":  {Pending, "Asking"},
			"Kill switch":          {Pending, "Asking"},
			"Audit trail verifies": {Pending, "Verifying"},
		}},
		{"service not running", func(in *Input) {
			in.Service = ServiceResult{Done: true, Err: errors.New("the Scispot MCP service (scispot-mcpd) is not running on this workstation (/run/scispot-mcp/mcpd.sock: no such file)")}
			in.Audit = AuditResult{Done: true, Err: in.Service.Err}
		}, map[string]want{
			"Scispot MCP service":       {Fail, "Not running: the Scispot MCP service (scispot-mcpd) is not running"},
			"AI access":                 {Fail, "Blocked: The Scispot MCP service is not running"},
			"Kill switch":               {Info, "did not answer"},
			"API token in the keychain": {Info, "did not answer"},
			"Audit trail verifies":      {Info, "did not answer"},
			"Cursor":                    {Fail, "old/path"},
		}},
		{"demo instance for the real workspace", func(in *Input) { st(in).Service.Mode = localapi.ModeUserDemo }, map[string]want{
			"Scispot MCP service": {Fail, "Your own demo instance"},
		}},
		{"demo instance for the demo", func(in *Input) {
			in.Demo = true
			st(in).Service.Mode = localapi.ModeUserDemo
			st(in).Access.Allowed, st(in).Access.Reason = false, "This is the demo instance."
		}, map[string]want{
			"Scispot MCP service":       {OK, "serves only the demo workspace"},
			"AI access":                 {OK, "demo"},
			"API token in the keychain": {Info, "demo"},
			"Device enrollment (MDM)":   {Info, "demo"},
		}},
		{"audit destinations", func(in *Input) {
			st(in).AuditDestinations = []localapi.AuditDestination{
				{Kind: "otlp", Endpoint: "https://otel.lab.example:4318", Connected: true, LastDelivery: when.Add(-3 * time.Second), Delivered: 40},
				{Kind: "syslog", Endpoint: "tls://syslog.lab.example:6514", LastDelivery: when.Add(-5 * time.Hour), Backlog: 12,
					OldestUndelivered: when.Add(-5 * time.Hour), LastError: "connecting to the syslog server: connection refused"},
			}
		}, map[string]want{
			"Audit delivery (otlp https://otel.lab.example:4318)":   {OK, "connected, last delivery 3s ago, nothing waiting."},
			"Audit delivery (syslog tls://syslog.lab.example:6514)": {Fail, "not connected, last delivery 5h ago, 12 records waiting (oldest 5h old); last error: connecting to the syslog server: connection refused."},
		}},
		{"policy invalid", func(in *Input) {
			st(in).Policy.Valid, st(in).Policy.Error = false, `managed policy /etc/x: unknown key "Foo"`
			st(in).Access.Allowed, st(in).Access.Reason = false, "The admin policy for Scispot MCP is invalid."
		}, map[string]want{
			"AI access":               {Fail, "policy for Scispot MCP is invalid"},
			"Admin policy":            {Fail, `unknown key "Foo"`},
			"Device enrollment (MDM)": {Info, "policy is invalid"},
		}},
		{"policy turned off", func(in *Input) { st(in).Policy.Effective["Enabled"] = false }, map[string]want{
			"Admin policy": {Fail, "Valid"},
		}},
		{"keychain locked", func(in *Input) {
			st(in).Token.Present, st(in).Token.Fingerprint, st(in).Token.Error = false, "", "the keychain is locked"
		}, map[string]want{
			"API token in the keychain": {Fail, "keychain is locked"},
		}},
		{"no token", func(in *Input) { st(in).Token.Present = false }, map[string]want{
			"API token in the keychain": {Fail, "No token"},
		}},
		{"plain token", func(in *Input) { in.ItemSealed = false }, map[string]want{
			"API token in the keychain": {Fail, "plain form"},
		}},
		{"killed", func(in *Input) {
			st(in).Killed = true
			st(in).Kill.Reason, st(in).Kill.By = "lunch", "ann"
		}, map[string]want{
			"Kill switch": {Fail, "by ann"},
		}},
		{"user not authorised", func(in *Input) {
			st(in).User.Authorized = false
			st(in).Policy.Effective["AuthorizedUsers"] = []any{"bob"}
		}, map[string]want{
			"OS account authorised": {Fail, `"ann" is not in the policy's AuthorizedUsers (bob)`},
		}},
		{"not enrolled", func(in *Input) {
			st(in).Enrollment.Managed, st(in).Enrollment.Detail = false, "No MDM profile was found."
		}, map[string]want{
			"Device enrollment (MDM)": {Fail, "No MDM profile"},
		}},
		{"enrollment not required", func(in *Input) {
			st(in).Policy.Effective["RequireEnrollment"] = false
			st(in).Enrollment.Checked = false
		}, map[string]want{
			"Device enrollment (MDM)": {Info, "Not required"},
		}},
		{"audit broken", func(in *Input) {
			in.Audit.Result.Report = audit.Report{Files: []audit.FileReport{{Name: "a.jsonl", Status: audit.StatusBroken}}, Totals: audit.Totals{Files: 1, Broken: 1}}
		}, map[string]want{
			"Audit trail verifies": {Fail, "a.jsonl"},
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
			}
			for _, c := range got {
				if c.Status == Fail && c.Remedy == "" && c.Name != "AI access" {
					t.Errorf("%s fails without a remedy", c.Name)
				}
			}
		})
	}
}

// TestCollectAndCopyHaveNoToken runs the real collection against a real
// service with a sealed token stored, and checks that no report, and not
// the clipboard, carries the token or its sealed form.
func TestCollectAndCopyHaveNoToken(t *testing.T) {
	ctx := context.Background()
	svc := apptest.NewService(t, apptest.ServiceOptions{Policy: []policy.Store{apptest.Policy{"RequireEnrollment": false}}})
	info, err := svc.SealToken(ctx, localapi.SealRequest{Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	kc := keychain.NewMemory()
	if err := kc.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
		t.Fatal(err)
	}
	env := Env{Service: svc.Client, Keychain: kc, Version: "test", Now: func() time.Time { return when }}
	var inputs []Input
	Collect(ctx, env, func(in Input) { inputs = append(inputs, in) })
	if len(inputs) != 2 || !inputs[1].Audit.Done {
		t.Fatalf("updates %d, last %+v", len(inputs), inputs[len(inputs)-1])
	}
	checks := byName(Checks(inputs[1]))
	for _, name := range []string{"Scispot MCP service", "AI access", "Admin policy", "Kill switch", "API token in the keychain", "Audit trail verifies"} {
		if c := checks[name]; c.Status != OK {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := checks["Device enrollment (MDM)"]; c.Status != Info {
		t.Errorf("enrollment: %+v", c)
	}

	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	for _, in := range inputs {
		v.Update(in)
		for _, text := range []string{Report(in), test.RenderToMarkup(w.Canvas())} {
			if strings.Contains(text, secret) || strings.Contains(text, info.Sealed) {
				t.Fatal("the token appears in the report or the window")
			}
		}
	}
	test.Tap(v.copy)
	clip := a.Clipboard().Content()
	if !strings.Contains(clip, "✓ Scispot MCP service: The system service answers") || !strings.Contains(clip, "fingerprint "+keychain.Fingerprint(secret)) {
		t.Errorf("clipboard:\n%s", clip)
	}
	if strings.Contains(clip, secret) || strings.Contains(clip, info.Sealed) {
		t.Error("the clipboard report holds the token")
	}

	// The service goes away: the window says so, with the remedy.
	svc.Stop(t)
	inputs = nil
	Collect(ctx, env, func(in Input) { inputs = append(inputs, in) })
	if c := byName(Checks(inputs[len(inputs)-1]))["Scispot MCP service"]; c.Status != Fail || !strings.Contains(c.Remedy, "install or start") {
		t.Errorf("without a service: %+v", c)
	}
}

func TestViewGolden(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 1400))
	v.SetOnValidate(func() {})
	in := good()
	in.Clients = in.Clients[:2]
	v.Update(in)
	apptest.Golden(t, "testdata/mixed.xml", test.RenderToMarkup(w.Canvas()), *update)
}

// The "Run validation…" button opens what the tray gives it, and is not
// there when it gives nothing.
func TestRunValidationButton(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	if b := apptest.Button(w.Content(), "Run validation…"); b == nil || b.Visible() {
		t.Fatalf("without a validation window the button shows: %v", b)
	}
	opened := 0
	v.SetOnValidate(func() { opened++ })
	b := apptest.Button(w.Content(), "Run validation…")
	if !b.Visible() {
		t.Fatal("the button is hidden")
	}
	test.Tap(b)
	if opened != 1 {
		t.Errorf("tapping opened %d windows", opened)
	}
}

func TestReport(t *testing.T) {
	r := Report(good())
	for _, want := range []string{
		"Time: 2026-02-03T04:05:06Z", "Version: 1.2.3", "Device: dev-1", "Account: ann", "Service: system scispot-mcpd 1.2.3",
		"✓ AI access: Allowed", "✗ Cursor: The entry launches /old/path. Direct Scispot entries: detected (Cursor has no machine-level setting to deny a server: a direct entry is detected and reported, not blocked).\n    What to do: Reconnect",
		"– Windsurf",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

// The window shows each client's direct-connection protection, and says
// nothing of it while the service has not answered (blocked and detected
// cannot be told apart then).
func TestViewDirectProtection(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow(Title)
	v := NewView(w, a.Clipboard())
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 1600))
	in := good()
	in.Service.Status.ClientSettings = []localapi.ClientSettings{
		{Client: clients.ClaudeCode, Name: "Claude Code", File: "/etc/claude-code/managed-settings.json", Blocked: true},
		{Client: "github-copilot", Name: "GitHub Copilot", File: "/etc/github-copilot/managed-settings.json", Blocked: true},
	}
	v.Update(in)
	shown := strings.Join(labels(v.list), "\n")
	for _, want := range []string{
		"Direct Scispot entries: blocked (Claude Code's managed settings deny direct Scispot connections).",
		"GitHub Copilot",
		"Direct Scispot entries: blocked (GitHub Copilot's managed settings deny direct Scispot connections).",
		"Direct Scispot entries: detected (Cursor has no machine-level setting",
	} {
		if !strings.Contains(shown, want) {
			t.Errorf("the window lacks %q:\n%s", want, shown)
		}
	}
	if r := v.Report(); !strings.Contains(r, "Direct Scispot entries: blocked (GitHub Copilot") {
		t.Errorf("the copied report lacks GitHub Copilot's protection:\n%s", r)
	}

	in.Service = ServiceResult{Done: true, Err: errors.New("not running")}
	v.Update(in)
	if shown := strings.Join(labels(v.list), "\n"); strings.Contains(shown, "Direct Scispot entries") || strings.Contains(shown, "GitHub Copilot") {
		t.Errorf("without the service's answer the window still shows a protection:\n%s", shown)
	}
}

// labels are the texts of the labels under o, in order.
func labels(o fyne.CanvasObject) []string {
	switch o := o.(type) {
	case *widget.Label:
		return []string{o.Text}
	case *fyne.Container:
		var out []string
		for _, c := range o.Objects {
			out = append(out, labels(c)...)
		}
		return out
	}
	return nil
}
