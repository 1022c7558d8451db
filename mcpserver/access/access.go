// Package access decides whether this workstation may reach Scispot right
// now. Gather collects the facts (policy, kill switch, account, enrollment,
// token) from the sources it is given; Decide turns them into at most one
// gateway.Refusal, always in the same order, so the person sees the most
// fundamental reason first. serve, status and the tray all use it, so they
// never disagree.
package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// Rules this package can refuse with.
const (
	RulePolicyInvalid = "policy-invalid"
	RuleDisabled      = "policy-disabled"
	RuleKilled        = "kill-switch"
	RuleDemoDisabled  = "demo-disabled"
	RuleUser          = "user-not-authorized"
	RuleNotEnrolled   = "not-enrolled"
	RuleKeychain      = "keychain"
	// RuleAuditUndelivered refuses new sessions while audit records have
	// not reached the lab's log pipeline for longer than the policy's
	// AuditMaxUndeliveredHours.
	RuleAuditUndelivered = "audit-undelivered"
	// RuleClientExecutable and RuleClientSigner refuse a session whose
	// launching program is not one of the policy's
	// AllowedClientExecutables or AllowedClientSigners.
	RuleClientExecutable = "client-executable-not-allowed"
	RuleClientSigner     = "client-signer-not-allowed"
)

// Launcher is the program that started a session's relay (the AI
// client), as the service read it from the kernel, never from the client.
type Launcher struct {
	// Exe is the program's absolute path; "" when it could not be read.
	Exe string
	// Signer is its code signer (package codesign); "" when unsigned or
	// unreadable.
	Signer string
	// SignersApply is false where executables carry no code signature
	// (Linux): AllowedClientSigners then has no effect.
	SignersApply bool
}

// Facts are what the workstation looks like right now. They never hold
// the token itself.
type Facts struct {
	Policy policy.Snapshot
	// Demo is true for the built-in demo workspace, which holds no lab
	// data: it needs neither a token nor an enrolled device.
	Demo bool

	Kill    control.State
	KillErr error // the control file could not be read: treated as killed

	User    account.Account
	UserErr error

	// Enrollment is checked only when the policy requires it.
	EnrollmentChecked bool
	Enrollment        enroll.Result
	EnrollmentErr     error

	TokenPresent     bool
	TokenFingerprint string
	TokenErr         error // the keychain could not be asked

	// Undelivered is how old the oldest audit record is that has not
	// reached a destination of the policy (0: none waiting). It is
	// looked at when a session starts only: a session that started is
	// not cut off because the network went away.
	Undelivered time.Duration

	// Launcher is the session's launching program; nil outside a session
	// (status, the tray), where the launcher rules are not decided.
	Launcher *Launcher
}

// Sources are where Gather looks. Nil fields are skipped (their facts
// stay zero), which the tests and the demo-only paths use.
type Sources struct {
	Policy      []policy.Store
	ControlFile string
	User        func() (account.Account, error)
	// Enroll checks enrollment; managedBy is the trusted policy's
	// ManagedBy, Linux's signal.
	Enroll   func(ctx context.Context, managedBy string) (enroll.Result, error)
	Keychain keychain.Store
	// Undelivered returns the time of the oldest audit record not yet
	// delivered to the policy's audit destinations (ok false: none).
	Undelivered func() (oldest time.Time, ok bool)
	// Now is the clock for Undelivered; nil means time.Now.
	Now func() time.Time
	// Launcher is the session's launching program; nil outside a session.
	Launcher *Launcher
}

// Gather collects the facts and, when one is stored and needed, the token.
func Gather(ctx context.Context, src Sources, demo bool) (Facts, string) {
	f := Facts{Policy: policy.Load(ctx, src.Policy...), Demo: demo, Launcher: src.Launcher}
	if src.Undelivered != nil && f.Policy.Policy.AuditMaxUndeliveredHours > 0 {
		if oldest, ok := src.Undelivered(); ok {
			now := time.Now
			if src.Now != nil {
				now = src.Now
			}
			f.Undelivered = max(now().Sub(oldest), time.Nanosecond)
		}
	}
	return f, f.refresh(ctx, src, true)
}

// Refresh re-reads everything but the token, after a policy or kill
// switch change.
func Refresh(ctx context.Context, src Sources, old Facts) Facts {
	f := Facts{
		Policy: policy.Load(ctx, src.Policy...), Demo: old.Demo,
		TokenPresent: old.TokenPresent, TokenFingerprint: old.TokenFingerprint, TokenErr: old.TokenErr,
		Undelivered: old.Undelivered, Launcher: old.Launcher,
	}
	f.refresh(ctx, src, false)
	return f
}

func (f *Facts) refresh(ctx context.Context, src Sources, readToken bool) (token string) {
	if src.ControlFile != "" {
		f.Kill, f.KillErr = control.Read(src.ControlFile)
	}
	if src.User != nil {
		f.User, f.UserErr = src.User()
	}
	if !f.Demo && f.Policy.Err == nil && f.Policy.Policy.RequireEnrollment && src.Enroll != nil {
		f.EnrollmentChecked = true
		f.Enrollment, f.EnrollmentErr = src.Enroll(ctx, f.Policy.Policy.ManagedBy)
	}
	if readToken && !f.Demo && src.Keychain != nil {
		t, err := src.Keychain.Get(ctx, keychain.AccountToken)
		switch {
		case err == nil:
			token, f.TokenPresent, f.TokenFingerprint = t, true, keychain.Fingerprint(t)
		case errors.Is(err, keychain.ErrNotFound):
		default:
			f.TokenErr = err
		}
	}
	return token
}

// Killed reports whether the user's kill switch is on (or its file is
// unreadable, which counts as on).
func (f Facts) Killed() bool { return f.Kill.Killed || f.KillErr != nil }

// Authorized reports whether the OS account may use MCP here.
func (f Facts) Authorized() bool {
	return f.UserErr == nil && f.User.Authorized(f.Policy.Policy.AuthorizedUsers)
}

// KillRefusal is the sentence for the user's kill switch.
func KillRefusal(s control.State, readErr error) *gateway.Refusal {
	if readErr != nil {
		return &gateway.Refusal{Rule: RuleKilled, Sentence: fmt.Sprintf("AI access is stopped because the kill-switch file could not be read (%v); run `scispot-mcp resume` to repair it.", readErr)}
	}
	why := ""
	if r := strings.TrimSpace(s.Reason); r != "" {
		why = fmt.Sprintf(" (%s)", r)
	}
	return &gateway.Refusal{Rule: RuleKilled, Sentence: "Stopped by the Scispot MCP kill switch on this workstation" + why + "; run `scispot-mcp resume` or use the tray to allow AI access again."}
}

// UndeliveredRefusal is the refusal when the oldest undelivered audit
// record is older than maxHours (0: the check is off).
func UndeliveredRefusal(age time.Duration, maxHours int) *gateway.Refusal {
	if maxHours <= 0 || age <= time.Duration(maxHours)*time.Hour {
		return nil
	}
	return &gateway.Refusal{Rule: RuleAuditUndelivered, Sentence: fmt.Sprintf(
		"This workstation's audit records have not reached your lab's log server for %s (your admin allows %d hours), so new AI sessions are refused; connect the workstation to the lab network (or its VPN) so they can be delivered, then try again.",
		roundAge(age), maxHours)}
}

// LauncherRefusal is the refusal for a session launched by a program the
// policy's AllowedClientExecutables or AllowedClientSigners do not admit,
// or nil. It applies to the demo too, like AllowedClients: the policy
// names which programs may talk to the gateway at all.
func LauncherRefusal(p policy.Policy, l *Launcher) *gateway.Refusal {
	if l == nil {
		return nil
	}
	if len(p.AllowedClientExecutables) > 0 && !policy.ExecutableAllowed(p.AllowedClientExecutables, l.Exe) {
		seen := "a program the service could not identify"
		if l.Exe != "" {
			seen = fmt.Sprintf("%q", l.Exe)
		}
		return &gateway.Refusal{Rule: RuleClientExecutable, Sentence: fmt.Sprintf(
			"The program that started this Scispot connection, %s, is not an approved AI client on this workstation; start Scispot from an approved AI client, or ask your IT admin to add that program to the policy's AllowedClientExecutables.", seen)}
	}
	if l.SignersApply && len(p.AllowedClientSigners) > 0 && !policy.SignerAllowed(p.AllowedClientSigners, l.Signer) {
		prog, signer := "the program that started this Scispot connection", "no code signature"
		if l.Exe != "" {
			prog = fmt.Sprintf("%s, %q,", prog, l.Exe)
		}
		if l.Signer != "" {
			signer = fmt.Sprintf("the signature %q", l.Signer)
		}
		return &gateway.Refusal{Rule: RuleClientSigner, Sentence: fmt.Sprintf(
			"Scispot refused this connection because %s carries %s, which is not an approved signer on this workstation; ask your IT admin to add its signer to the policy's AllowedClientSigners.", prog, signer)}
	}
	return nil
}

// roundAge says an age in whole hours, or days past two days.
func roundAge(d time.Duration) string {
	h := int(d / time.Hour)
	switch {
	case h >= 48:
		return fmt.Sprintf("%d days", h/24)
	case h == 1:
		return "1 hour"
	default:
		return fmt.Sprintf("%d hours", h)
	}
}

// Decide returns the refusal that applies, or nil when access is allowed.
// Per-client approval is decided by the gateway for each request.
func Decide(f Facts) *gateway.Refusal {
	if err := f.Policy.Err; err != nil {
		return &gateway.Refusal{Rule: RulePolicyInvalid, Sentence: fmt.Sprintf("The admin policy for Scispot MCP is invalid, so access is blocked: %v. Ask your IT admin to fix it.", err)}
	}
	p := f.Policy.Policy
	if !p.Enabled {
		return &gateway.Refusal{Rule: RuleDisabled, Sentence: "Your organisation's admin policy has turned off AI access to Scispot on this workstation (Enabled is false); ask your IT admin if you need it."}
	}
	if f.Killed() {
		return KillRefusal(f.Kill, f.KillErr)
	}
	if f.Demo && !p.AllowDemo {
		return &gateway.Refusal{Rule: RuleDemoDisabled, Sentence: "The admin policy does not allow the demo workspace on this workstation (AllowDemo is false)."}
	}
	if f.UserErr != nil {
		return &gateway.Refusal{Rule: RuleUser, Sentence: fmt.Sprintf("Scispot MCP could not tell which OS account is running it (%v), so access is blocked.", f.UserErr)}
	}
	if !f.User.Authorized(p.AuthorizedUsers) {
		return &gateway.Refusal{Rule: RuleUser, Sentence: fmt.Sprintf("Your account %q is not authorised to use Scispot MCP on this device; ask your IT admin to add it to the policy's AuthorizedUsers.", f.User.Name)}
	}
	if r := LauncherRefusal(p, f.Launcher); r != nil {
		return r
	}
	if f.Demo {
		return nil
	}
	if r := UndeliveredRefusal(f.Undelivered, p.AuditMaxUndeliveredHours); r != nil {
		return r
	}
	if p.RequireEnrollment && (!f.EnrollmentChecked || !f.Enrollment.Managed) {
		detail := f.Enrollment.Detail
		if f.EnrollmentErr != nil {
			detail = f.EnrollmentErr.Error()
		}
		if detail == "" {
			detail = "no device-management enrollment was found"
		}
		return &gateway.Refusal{Rule: RuleNotEnrolled, Sentence: fmt.Sprintf("This workstation is not enrolled in your organisation's device management (MDM); ask IT to enroll it (%s).", strings.TrimSuffix(detail, "."))}
	}
	if f.TokenErr != nil {
		return &gateway.Refusal{Rule: RuleKeychain, Sentence: fmt.Sprintf("The Scispot API token could not be read from the keychain: %v", f.TokenErr)}
	}
	if !f.TokenPresent {
		return gateway.NoToken()
	}
	return nil
}
