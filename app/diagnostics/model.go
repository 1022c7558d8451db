// Package diagnostics is the tray's diagnostics window: every check that
// decides whether AI clients can reach Scispot from this workstation, each
// with ✓ or ✗, what was found and the remedy in one sentence, and a "Copy
// report" button that puts the same as plain text (no secrets) on the
// clipboard for IT.
//
// The checks come from the workstation service (its status and its
// verdict on the audit trail) and from the AI clients' config files on
// this machine. Checks and Report are pure functions of Input, so every
// state is tested without a service; Collect gathers a real Input; the
// Fyne view renders it.
package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
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

// ServiceResult is the service's status, or why it could not be asked.
type ServiceResult struct {
	Done   bool
	Status localapi.Status
	Err    error
}

// AuditResult is the service's verdict on the account's audit trail.
type AuditResult struct {
	Done   bool
	Result localapi.VerifyResult
	Err    error
}

// Input is everything the checks look at. It never holds the token.
type Input struct {
	// Demo: the tray runs on the demo workspace.
	Demo    bool
	Service ServiceResult
	// ItemSealed: the keychain's item is the sealed form of the token.
	ItemSealed bool
	Audit      AuditResult
	// Clients is nil until read.
	Clients []clients.ClientStatus
	Version string
	Time    time.Time
}

// answered reports whether the service's status is there to check.
func (in Input) answered() bool { return in.Service.Done && in.Service.Err == nil }

// Checks turns in into the lines of the window, in a fixed order.
func Checks(in Input) []Check {
	out := []Check{serviceCheck(in), summary(in)}
	for _, f := range []func(Input) Check{policyCheck, enrollmentCheck, userCheck, killCheck, tokenCheck} {
		c := f(in)
		if !in.answered() {
			c.Status, c.Detail, c.Remedy = notChecked(in)
		}
		out = append(out, c)
	}
	out = append(out, auditCheck(in))
	if in.answered() {
		for _, d := range in.Service.Status.AuditDestinations {
			out = append(out, destinationCheck(d, in.Time))
		}
	}
	lines := make([]Check, 0, len(in.Clients))
	for _, c := range in.Clients {
		lines = append(lines, clientCheck(c))
	}
	return append(out, protectionChecks(in, lines)...)
}

func notChecked(in Input) (Status, string, string) {
	if !in.Service.Done {
		return Pending, "Asking the Scispot MCP service…", ""
	}
	return Info, "Not checked: the Scispot MCP service did not answer.", ""
}

func serviceCheck(in Input) Check {
	c := Check{Name: "Scispot MCP service"}
	r := in.Service
	var apiErr *localapi.Error
	switch {
	case !r.Done:
		c.Status, c.Detail = Pending, "Asking the Scispot MCP service…"
	case errors.As(r.Err, &apiErr):
		c.Status, c.Detail = Fail, "It answers, but refused to say the status: "+apiErr.Sentence
		c.Remedy = "Ask your IT admin to check the Scispot MCP service (scispot-mcpd) on this workstation."
	case r.Err != nil:
		c.Status, c.Detail = Fail, "Not running: "+r.Err.Error()
		c.Remedy = "Ask your IT admin to install or start the Scispot MCP service (scispot-mcpd); until then AI clients cannot reach Scispot."
		if in.Demo {
			c.Remedy = "Quit and reopen the tray app: it starts its demo instance of the service itself; if that fails, reinstall Scispot MCP Desktop."
		}
	default:
		s := r.Status.Service
		where := fmt.Sprintf("scispot-mcpd %s on %s", orDefault(s.Version, "(version unknown)"), orDefault(s.Socket, "its socket"))
		if s.PID > 0 {
			where += fmt.Sprintf(" (process %d)", s.PID)
		}
		switch s.Mode {
		case localapi.ModeUserDemo:
			c.Status, c.Detail = OK, "Your own demo instance, "+where+": it serves only the demo workspace, because no system service is installed."
			if !in.Demo {
				c.Status = Fail
				c.Remedy = "Ask your IT admin to install Scispot MCP Desktop's service; the demo instance cannot reach your Scispot workspace."
			}
		default:
			c.Status, c.Detail = OK, "The system service answers: "+where+"."
		}
	}
	return c
}

func summary(in Input) Check {
	c := Check{Name: "AI access"}
	if !in.answered() {
		c.Status, c.Detail, _ = notChecked(in)
		if in.Service.Done {
			c.Status, c.Detail = Fail, "Blocked: "+app.NotRunning(in.Demo)
		}
		return c
	}
	st := in.Service.Status
	a := st.Access
	if in.Demo {
		a = st.DemoAccess
	}
	if !a.Allowed {
		c.Status, c.Detail = Fail, "Blocked: "+orDefault(a.Reason, "AI access is refused.")
		return c
	}
	c.Status, c.Detail = OK, "Allowed: AI clients can use Scispot through this workstation's Scispot MCP service."
	if in.Demo {
		c.Detail = "Allowed on the demo workspace."
	}
	return c
}

// effective is a policy key's value.
func effective(st localapi.Status, key string) any { return st.Policy.Effective[key] }

func policyBool(st localapi.Status, key string) bool {
	b, _ := effective(st, key).(bool)
	return b
}

func policyList(st localapi.Status, key string) []string {
	var out []string
	switch v := effective(st, key).(type) {
	case []any:
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
	case []string:
		out = v
	}
	return out
}

func policyCheck(in Input) Check {
	c := Check{Name: "Admin policy"}
	p := in.Service.Status.Policy
	src := "no admin policy is set, so the defaults apply"
	if len(p.Sources) > 0 {
		src = "from " + strings.Join(p.Sources, ", ")
	}
	if len(p.Ignored) > 0 {
		src += "; ignored (not admin-controlled): " + strings.Join(p.Ignored, "; ")
	}
	if !p.Valid {
		c.Status, c.Detail = Fail, fmt.Sprintf("Invalid (%s): %s", src, orDefault(p.Error, "no reason given"))
		c.Remedy = "Ask your IT admin to fix the managed policy; until then all AI access is blocked."
		return c
	}
	c.Detail = fmt.Sprintf("Valid, %s. Effective: %s", src, effectiveLine(p.Effective))
	if !policyBool(in.Service.Status, "Enabled") {
		c.Status = Fail
		c.Remedy = "The admin has turned AI access off (Enabled is false); ask your IT admin if you need it."
		return c
	}
	c.Status = OK
	return c
}

// effectiveLine renders the effective values as key=value pairs, sorted.
func effectiveLine(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := m[k]
		switch x := v.(type) {
		case []any:
			s := make([]string, len(x))
			for i, e := range x {
				s[i] = fmt.Sprint(e)
			}
			v = "[" + strings.Join(s, ", ") + "]"
		case []string:
			v = "[" + strings.Join(x, ", ") + "]"
		case float64:
			// JSON numbers: 52428800, not 5.24288e+07.
			v = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			v = "(default)"
		}
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	return strings.Join(parts, ", ")
}

func enrollmentCheck(in Input) Check {
	c := Check{Name: "Device enrollment (MDM)"}
	st := in.Service.Status
	e := st.Enrollment
	switch {
	case in.Demo:
		c.Status, c.Detail = Info, "Not needed for the demo workspace."
	case !st.Policy.Valid:
		c.Status, c.Detail = Info, "Not checked: the admin policy is invalid."
	case !policyBool(st, "RequireEnrollment"):
		c.Status, c.Detail = Info, "Not required by the admin policy (RequireEnrollment is false)."
	case !e.Checked:
		c.Status, c.Detail = Fail, "Could not be checked"
		if e.Detail != "" {
			c.Detail += ": " + e.Detail
		}
		c.Detail += "."
		c.Remedy = "Ask IT to confirm this workstation is enrolled in device management."
	case e.Error != "":
		c.Status, c.Detail = Fail, "Not confirmed: "+e.Error
		c.Remedy = "Ask IT to enroll this workstation in your organisation's device management (MDM)."
	case !e.Managed:
		c.Status, c.Detail = Fail, "Not enrolled: "+orDefault(e.Detail, "no device-management enrollment was found.")
		c.Remedy = "Ask IT to enroll this workstation in your organisation's device management (MDM)."
	default:
		c.Status, c.Detail = OK, strings.TrimSpace(fmt.Sprintf("Enrolled (method: %s). %s", e.Method, e.Detail))
	}
	return c
}

func userCheck(in Input) Check {
	c := Check{Name: "OS account authorised"}
	st := in.Service.Status
	allowed := policyList(st, "AuthorizedUsers")
	switch {
	case st.User.Name == "":
		c.Status, c.Detail = Fail, "The service could not name the OS account."
		c.Remedy = "Sign in to a regular user account and try again; if it persists, ask IT."
	case !st.User.Authorized:
		c.Status, c.Detail = Fail, fmt.Sprintf("%q is not in the policy's AuthorizedUsers (%s).", st.User.Name, strings.Join(allowed, ", "))
		c.Remedy = "Ask your IT admin to add your account to AuthorizedUsers."
	case len(allowed) == 0:
		c.Status, c.Detail = OK, fmt.Sprintf("%q (the policy allows every account).", st.User.Name)
	default:
		c.Status, c.Detail = OK, fmt.Sprintf("%q is in AuthorizedUsers.", st.User.Name)
	}
	return c
}

const resumeRemedy = "Choose Resume AI access in the tray (it asks for your account password) or run `scispot-mcp resume`."

func killCheck(in Input) Check {
	c := Check{Name: "Kill switch"}
	st := in.Service.Status
	k := st.Kill
	switch {
	case k.Error != "":
		c.Status, c.Detail = Fail, "The kill switch could not be read, so access is stopped: "+k.Error
		c.Remedy = resumeRemedy
	case st.Killed:
		d := "On: AI access is stopped"
		if k.By != "" {
			d += " by " + k.By
		}
		if !k.At.IsZero() {
			d += " at " + k.At.Local().Format("2 Jan 2006 15:04")
		}
		if k.Reason != "" {
			d += " (" + k.Reason + ")"
		}
		c.Status, c.Detail = Fail, d+"."
		c.Remedy = resumeRemedy
	default:
		c.Status, c.Detail = OK, "Off: AI access is allowed."
	}
	return c
}

func tokenCheck(in Input) Check {
	c := Check{Name: "API token in the keychain"}
	t := in.Service.Status.Token
	switch {
	case in.Demo:
		c.Status, c.Detail = Info, "Not needed for the demo workspace."
	case t.Error != "":
		c.Status, c.Detail = Fail, "The stored token cannot be used: "+t.Error
		c.Remedy = "Unlock the keychain (or answer its prompt) and press Refresh; if it persists, save your token again in the token window."
	case !t.Present:
		c.Status, c.Detail = Fail, "No token is stored."
		c.Remedy = "Open the token window from the tray and save your personal Scispot API token."
	case !t.Sealed && !in.ItemSealed:
		c.Status, c.Detail = Fail, "Stored in plain form (fingerprint "+t.Fingerprint+"), from before tokens were sealed to the service."
		c.Remedy = "Open the token window from the tray: it replaces it with its sealed form."
	default:
		c.Status, c.Detail = OK, "Stored, sealed to this workstation's Scispot MCP service (fingerprint "+t.Fingerprint+")."
	}
	return c
}

func auditCheck(in Input) Check {
	c := Check{Name: "Audit trail verifies"}
	a := in.Audit
	rep := a.Result.Report
	var apiErr *localapi.Error
	switch {
	case !a.Done:
		c.Status, c.Detail = Pending, "Verifying…"
	case app.Unreachable(a.Err):
		c.Status, c.Detail = Info, "Not checked: the Scispot MCP service did not answer."
	case errors.As(a.Err, &apiErr):
		c.Status, c.Detail = Fail, "The service could not verify the audit trail: "+apiErr.Sentence
		c.Remedy = "Report this to your IT admin."
	case a.Err != nil:
		c.Status, c.Detail = Fail, "The service could not verify the audit trail: "+a.Err.Error()
		c.Remedy = "Report this to your IT admin."
	case !rep.OK():
		c.Status = Fail
		c.Detail = fmt.Sprintf("%d files, %d records; %v", rep.Totals.Files, rep.Totals.Records, rep.Err())
		c.Remedy = "Report this to your IT admin, who can compare the trail with their copy."
	default:
		t := rep.Totals
		c.Status = OK
		c.Detail = fmt.Sprintf("%d files, %d records, every chain intact", t.Files, t.Records)
		if t.Incomplete > 0 {
			c.Detail += fmt.Sprintf(" (%d incomplete: running sessions or a crash, not tampering)", t.Incomplete)
		}
		if a.Result.Dir != "" {
			c.Detail += ", kept by the service in " + a.Result.Dir
		}
		c.Detail += "."
	}
	return c
}

// destinationCheck is one of the policy's audit destinations: connected
// or not, last delivery, backlog and its age, last error.
func destinationCheck(d localapi.AuditDestination, now time.Time) Check {
	c := Check{Name: "Audit delivery (" + d.Kind + " " + d.Endpoint + ")", Detail: d.Describe(now) + "."}
	switch {
	case d.Connected && d.LastError == "":
		c.Status = OK
	case d.LastDelivery.IsZero() && d.LastError == "":
		c.Status = Pending
	default:
		c.Status = Fail
		c.Remedy = "Records wait on this workstation and go out when the lab's log server can be reached: connect to the lab network (or its VPN); if that does not help, tell your IT admin."
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
	directCheck(&c, s)
	return c
}

// Report is the plain-text report for the clipboard. It holds no secret:
// Input holds no token, only its fingerprint.
func Report(in Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scispot MCP Desktop diagnostics\n")
	fmt.Fprintf(&b, "Time: %s\n", in.Time.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Version: %s\n", orDefault(in.Version, "unknown"))
	if in.answered() {
		st := in.Service.Status
		if st.Device != "" {
			fmt.Fprintf(&b, "Device: %s\n", st.Device)
		}
		if st.User.Name != "" {
			fmt.Fprintf(&b, "Account: %s\n", st.User.Name)
		}
		fmt.Fprintf(&b, "Service: %s scispot-mcpd %s\n", st.Service.Mode, st.Service.Version)
	}
	if in.Demo {
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

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Env is where Collect looks.
type Env struct {
	Service  app.Service
	Keychain keychain.Store
	Demo     bool
	// Clients returns every AI client's status; nil skips them.
	Clients func(ctx context.Context) []clients.ClientStatus
	Version string
	Now     func() time.Time
}

// Collect gathers every input, calling update with the Input after each
// step: the service's status first, then its verdict on the audit trail
// and the clients. The keychain's item goes to the service (sealed; the
// tray never opens it) and is not kept.
func Collect(ctx context.Context, env Env, update func(Input)) {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	in := Input{Demo: env.Demo, Version: env.Version, Time: now()}
	req := app.StatusRequestFor(ctx, env.Keychain, env.Demo)
	in.ItemSealed = req.Token != "" && seal.IsSealed(req.Token)
	st, err := app.ReadStatus(ctx, env.Service, req)
	if errors.Is(err, context.Canceled) {
		return
	}
	in.Service = ServiceResult{Done: true, Status: st, Err: err}
	update(in)

	res, err := env.Service.Verify(ctx, false)
	if errors.Is(err, context.Canceled) {
		return
	}
	in.Audit = AuditResult{Done: true, Result: res, Err: err}
	if env.Clients != nil {
		in.Clients = env.Clients(ctx)
	}
	update(in)
}
