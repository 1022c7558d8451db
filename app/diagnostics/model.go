// Package diagnostics is the tray's diagnostics window: every check that
// decides whether AI clients can reach Scispot from this workstation, each
// with ✓ or ✗, what was found and the remedy in one sentence, and a "Copy
// report" button that puts the same as plain text (no secrets) on the
// clipboard for IT.
//
// Checks and Report are pure functions of Input, so every state is tested
// with fakes; Collect gathers a real Input; the Fyne view renders it.
package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Status is a check's verdict.
type Status int

// Statuses.
const (
	Pending Status = iota // still running
	OK
	Fail
	Info // neither good nor bad: not required, not installed
)

// Mark is the symbol shown for s.
func (s Status) Mark() string {
	switch s {
	case OK:
		return "✓"
	case Fail:
		return "✗"
	case Info:
		return "–"
	}
	return "…"
}

// Check is one line of the diagnostics.
type Check struct {
	Name   string
	Status Status
	Detail string // what was found
	Remedy string // one sentence: what to do; empty when nothing is needed
}

// UpstreamResult is the outcome of asking Scispot with the stored token.
type UpstreamResult struct {
	Done         bool
	Verification apitoken.Verification
	Err          error
}

// AuditResult is the outcome of verifying the audit trail.
type AuditResult struct {
	Done   bool
	Report audit.Report
	Err    error
}

// Input is everything the checks look at. It never holds the token.
type Input struct {
	Facts    access.Facts
	Upstream UpstreamResult
	Audit    AuditResult
	AuditDir string
	// Clients is nil until read; ClientsErr is set when they cannot be.
	Clients []clients.ClientStatus
	Version string
	Device  string
	Time    time.Time
}

// Checks turns in into the lines of the window, in a fixed order.
func Checks(in Input) []Check {
	f := in.Facts
	var out []Check
	out = append(out, summary(f))
	out = append(out, policyCheck(f))
	out = append(out, enrollmentCheck(f))
	out = append(out, userCheck(f))
	out = append(out, killCheck(f))
	out = append(out, tokenCheck(f))
	out = append(out, upstreamCheck(in))
	out = append(out, auditCheck(in))
	for _, c := range in.Clients {
		out = append(out, clientCheck(c))
	}
	return out
}

func summary(f access.Facts) Check {
	c := Check{Name: "AI access"}
	if r := access.Decide(f); r != nil {
		c.Status, c.Detail = Fail, "Blocked: "+r.Sentence
		return c
	}
	c.Status, c.Detail = OK, "Allowed: AI clients can use Scispot through this workstation's gateway."
	if f.Demo {
		c.Detail = "Allowed on the demo workspace."
	}
	return c
}

func policyCheck(f access.Facts) Check {
	c := Check{Name: "Admin policy"}
	p := f.Policy
	src := "no admin policy is set, so the defaults apply"
	if len(p.Sources) > 0 {
		src = "from " + strings.Join(p.Sources, ", ")
	}
	if len(p.Ignored) > 0 {
		src += "; ignored (not admin-controlled): " + strings.Join(p.Ignored, "; ")
	}
	if p.Err != nil {
		c.Status, c.Detail = Fail, fmt.Sprintf("Invalid (%s): %v", src, p.Err)
		c.Remedy = "Ask your IT admin to fix the managed policy; until then all AI access is blocked."
		return c
	}
	c.Detail = fmt.Sprintf("Valid, %s. Effective: %s", src, effective(p.Effective()))
	if !p.Policy.Enabled {
		c.Status = Fail
		c.Remedy = "The admin has turned AI access off (Enabled is false); ask your IT admin if you need it."
		return c
	}
	c.Status = OK
	return c
}

// effective renders the effective values as key=value pairs, sorted.
func effective(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		switch x := v.(type) {
		case []string:
			v = "[" + strings.Join(x, ", ") + "]"
			if x == nil {
				v = "(default)"
			}
		case nil:
			v = "(default)"
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, ", ")
}

func enrollmentCheck(f access.Facts) Check {
	c := Check{Name: "Device enrollment (MDM)"}
	switch {
	case f.Demo:
		c.Status, c.Detail = Info, "Not needed for the demo workspace."
	case f.Policy.Err != nil:
		c.Status, c.Detail = Info, "Not checked: the admin policy is invalid."
	case !f.Policy.Policy.RequireEnrollment:
		c.Status, c.Detail = Info, "Not required by the admin policy (RequireEnrollment is false)."
	case !f.EnrollmentChecked:
		c.Status, c.Detail = Fail, "Could not be checked."
		c.Remedy = "Ask IT to confirm this workstation is enrolled in device management."
	case f.EnrollmentErr != nil:
		c.Status, c.Detail = Fail, "Not confirmed: "+f.EnrollmentErr.Error()
		c.Remedy = "Ask IT to enroll this workstation in your organisation's device management (MDM)."
	case !f.Enrollment.Managed:
		c.Status, c.Detail = Fail, "Not enrolled: "+orDefault(f.Enrollment.Detail, "no device-management enrollment was found.")
		c.Remedy = "Ask IT to enroll this workstation in your organisation's device management (MDM)."
	default:
		c.Status, c.Detail = OK, fmt.Sprintf("Enrolled (method: %s). %s", f.Enrollment.Method, f.Enrollment.Detail)
	}
	return c
}

func userCheck(f access.Facts) Check {
	c := Check{Name: "OS account authorised"}
	allowed := f.Policy.Policy.AuthorizedUsers
	switch {
	case f.UserErr != nil:
		c.Status, c.Detail = Fail, "The OS account could not be determined: "+f.UserErr.Error()
		c.Remedy = "Sign in to a regular user account and try again; if it persists, ask IT."
	case !f.Authorized():
		c.Status, c.Detail = Fail, fmt.Sprintf("%q is not in the policy's AuthorizedUsers (%s).", f.User.Name, strings.Join(allowed, ", "))
		c.Remedy = "Ask your IT admin to add your account to AuthorizedUsers."
	case len(allowed) == 0:
		c.Status, c.Detail = OK, fmt.Sprintf("%q (the policy allows every account).", f.User.Name)
	default:
		c.Status, c.Detail = OK, fmt.Sprintf("%q is in AuthorizedUsers.", f.User.Name)
	}
	return c
}

func killCheck(f access.Facts) Check {
	c := Check{Name: "Kill switch"}
	switch {
	case f.KillErr != nil:
		c.Status, c.Detail = Fail, "The kill-switch file could not be read, so access is stopped: "+f.KillErr.Error()
		c.Remedy = "Choose Resume in the tray (or run `scispot-mcp resume`) to repair it."
	case f.Kill.Killed:
		d := "On: AI access is stopped"
		if f.Kill.By != "" {
			d += " by " + f.Kill.By
		}
		if !f.Kill.At.IsZero() {
			d += " at " + f.Kill.At.Local().Format("2 Jan 2006 15:04")
		}
		if f.Kill.Reason != "" {
			d += " (" + f.Kill.Reason + ")"
		}
		c.Status, c.Detail = Fail, d+"."
		c.Remedy = "Choose Resume in the tray (or run `scispot-mcp resume`) to allow AI access again."
	default:
		c.Status, c.Detail = OK, "Off: AI access is allowed."
	}
	return c
}

func tokenCheck(f access.Facts) Check {
	c := Check{Name: "API token in the keychain"}
	switch {
	case f.Demo:
		c.Status, c.Detail = Info, "Not needed for the demo workspace."
	case f.TokenErr != nil:
		c.Status, c.Detail = Fail, "The keychain could not be read: "+f.TokenErr.Error()
		c.Remedy = "Unlock the keychain (or answer its prompt) and press Refresh."
	case !f.TokenPresent:
		c.Status, c.Detail = Fail, "No token is stored."
		c.Remedy = "Open the token window from the tray and save your personal Scispot API token."
	default:
		c.Status, c.Detail = OK, "Stored (fingerprint "+f.TokenFingerprint+")."
	}
	return c
}

func upstreamCheck(in Input) Check {
	c := Check{Name: "Scispot accepts the token"}
	f := in.Facts
	u := in.Upstream
	switch {
	case f.Demo:
		c.Status, c.Detail = Info, "The demo workspace runs inside this app; Scispot is not asked."
	case f.Policy.Err != nil || !f.TokenPresent:
		c.Status, c.Detail = Info, "Not checked: needs a valid policy and a stored token."
	case !u.Done:
		c.Status, c.Detail = Pending, "Asking Scispot…"
	case u.Err != nil:
		c.Status = Fail
		c.Detail = fmt.Sprintf("%s answered after %s: %v", u.Verification.URL, latency(u.Verification.Latency), u.Err)
		switch upstream.KindOf(u.Err) {
		case upstream.Unauthorized:
			c.Remedy = "Create a new personal token in Scispot and save it in the token window."
		case upstream.RateLimited:
			c.Remedy = "Wait a minute and press Refresh."
		default:
			c.Remedy = "Check the network connection (and any proxy), then press Refresh; if it persists, ask IT whether the UpstreamURL is reachable."
		}
	default:
		c.Status = OK
		c.Detail = fmt.Sprintf("%s accepted it: %d tools published (%s).", u.Verification.URL, u.Verification.Tools, latency(u.Verification.Latency))
	}
	return c
}

func auditCheck(in Input) Check {
	c := Check{Name: "Audit trail verifies"}
	a := in.Audit
	switch {
	case !a.Done:
		c.Status, c.Detail = Pending, "Verifying…"
	case a.Err != nil:
		c.Status, c.Detail = Fail, "The audit folder could not be read: "+a.Err.Error()
		c.Remedy = "Check that " + in.AuditDir + " exists and belongs to you."
	case !a.Report.OK():
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d files, %d records; %v", a.Report.Totals.Files, a.Report.Totals.Records, a.Report.Err())
		c.Remedy = "Do not edit the audit files; report this to your IT admin, who can compare it with their copy."
	default:
		t := a.Report.Totals
		c.Status = OK
		c.Detail = fmt.Sprintf("%d files, %d records, every chain intact", t.Files, t.Records)
		if t.Incomplete > 0 {
			c.Detail += fmt.Sprintf(" (%d incomplete: running sessions or a crash, not tampering)", t.Incomplete)
		}
		c.Detail += "."
	}
	return c
}

func clientCheck(s clients.ClientStatus) Check {
	c := Check{Name: s.Name, Detail: s.Detail}
	switch s.State {
	case clients.Configured:
		c.Status = OK
		if s.Demo {
			c.Detail += " (demo workspace)"
		}
	case clients.NotInstalled, clients.NoConfig:
		c.Status = Info
		if s.State == clients.NoConfig {
			c.Remedy = "Connect it from the tray's Connect AI clients window if you use it."
		}
	case clients.PlaintextToken:
		c.Status, c.Remedy = Fail, "Use \"Move token to keychain\" in the Connect AI clients window."
	case clients.Unreadable:
		c.Status, c.Remedy = Fail, "Fix the file's syntax (or restore its backup) and reconnect."
	default: // Stale, Removed
		c.Status, c.Remedy = Fail, "Reconnect it in the Connect AI clients window."
	}
	return c
}

// Report is the plain-text report for the clipboard. It holds no secret:
// Input holds no token, only its fingerprint.
func Report(in Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scispot MCP Desktop diagnostics\n")
	fmt.Fprintf(&b, "Time: %s\n", in.Time.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Version: %s\n", orDefault(in.Version, "unknown"))
	if in.Device != "" {
		fmt.Fprintf(&b, "Device: %s\n", in.Device)
	}
	if in.Facts.Demo {
		b.WriteString("Workspace: demo\n")
	}
	b.WriteString("\n")
	for _, c := range Checks(in) {
		fmt.Fprintf(&b, "%s %s: %s\n", c.Status.Mark(), c.Name, c.Detail)
		if c.Remedy != "" {
			fmt.Fprintf(&b, "    What to do: %s\n", c.Remedy)
		}
	}
	return b.String()
}

func latency(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Env is where Collect looks.
type Env struct {
	Sources  access.Sources
	Demo     bool
	AuditDir string
	// Clients returns every AI client's status; nil skips them.
	Clients func(ctx context.Context) []clients.ClientStatus
	// Verify asks Scispot with the token; nil means apitoken.Verify.
	Verify  func(ctx context.Context, url, token string) (apitoken.Verification, error)
	Version string
	Device  string
	Now     func() time.Time
}

// Collect gathers every input, calling update with the Input after each
// step: the quick facts first, then the audit trail and the clients, and
// last Scispot's answer (which can take seconds). The token is read for
// the upstream check only and is not kept.
func Collect(ctx context.Context, env Env, update func(Input)) {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	facts, token := access.Gather(ctx, env.Sources, env.Demo)
	in := Input{Facts: facts, AuditDir: env.AuditDir, Version: env.Version, Device: env.Device, Time: now()}
	update(in)

	rep, err := audit.Verify(ctx, env.AuditDir)
	in.Audit = AuditResult{Done: true, Report: rep, Err: err}
	if env.Clients != nil {
		in.Clients = env.Clients(ctx)
	}
	update(in)

	if env.Demo || facts.Policy.Err != nil || token == "" {
		return
	}
	verify := env.Verify
	if verify == nil {
		verify = func(ctx context.Context, url, token string) (apitoken.Verification, error) {
			return apitoken.Verify(ctx, url, token, nil)
		}
	}
	v, err := verify(ctx, facts.Policy.Policy.UpstreamURL, token)
	if v.URL == "" {
		v.URL = facts.Policy.Policy.UpstreamURL
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	in.Upstream = UpstreamResult{Done: true, Verification: v, Err: err}
	update(in)
}
