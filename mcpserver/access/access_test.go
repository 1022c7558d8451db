package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

func managed() access.Facts {
	return access.Facts{
		Policy:            policy.Snapshot{Policy: policy.Default()},
		User:              account.Account{Name: "alice"},
		EnrollmentChecked: true,
		Enrollment:        enroll.Result{Managed: true, Method: enroll.MethodLinuxPolicyManagedBy},
		TokenPresent:      true,
	}
}

func TestDecide(t *testing.T) {
	cases := []struct {
		name   string
		change func(*access.Facts)
		rule   string // "" = allowed
		says   string
	}{
		{"all good", nil, "", ""},
		{"no token", func(f *access.Facts) { f.TokenPresent = false }, gateway.RuleNoToken, "scispot-mcp token set"},
		{"keychain locked", func(f *access.Facts) { f.TokenPresent, f.TokenErr = false, errors.New("the login keyring is locked") }, access.RuleKeychain, "locked"},
		{"invalid policy first", func(f *access.Facts) {
			f.Policy.Err = errors.New(`policy key "Foo" is not a known key`)
			f.TokenPresent = false
		}, access.RulePolicyInvalid, `"Foo"`},
		{"disabled", func(f *access.Facts) { f.Policy.Policy.Enabled = false }, access.RuleDisabled, "Enabled is false"},
		{"killed", func(f *access.Facts) { f.Kill = control.State{Killed: true, Reason: "audit in progress"} }, access.RuleKilled, "kill switch on this workstation (audit in progress)"},
		{"control file unreadable", func(f *access.Facts) { f.KillErr = control.ErrCorrupt }, access.RuleKilled, "could not be read"},
		{"not enrolled", func(f *access.Facts) { f.Enrollment = enroll.Result{Detail: "no MDM agent found"} }, access.RuleNotEnrolled, "not enrolled in your organisation's device management (MDM); ask IT to enroll it (no MDM agent found)"},
		{"enrollment error", func(f *access.Facts) {
			f.Enrollment, f.EnrollmentErr = enroll.Result{}, errors.New("profiles timed out")
		}, access.RuleNotEnrolled, "profiles timed out"},
		{"enrollment not required", func(f *access.Facts) {
			f.Policy.Policy.RequireEnrollment = false
			f.EnrollmentChecked, f.Enrollment = false, enroll.Result{}
		}, "", ""},
		{"unauthorised user", func(f *access.Facts) { f.Policy.Policy.AuthorizedUsers = []string{"bob"} }, access.RuleUser, `"alice" is not authorised`},
		{"authorised user", func(f *access.Facts) { f.Policy.Policy.AuthorizedUsers = []string{"ALICE"} }, "", ""},
		{"demo needs no token or enrollment", func(f *access.Facts) {
			f.Demo, f.TokenPresent, f.EnrollmentChecked, f.Enrollment = true, false, false, enroll.Result{}
		}, "", ""},
		{"demo disabled", func(f *access.Facts) { f.Demo, f.Policy.Policy.AllowDemo = true, false }, access.RuleDemoDisabled, "AllowDemo"},
		{"demo still needs an authorised user", func(f *access.Facts) {
			f.Demo = true
			f.Policy.Policy.AuthorizedUsers = []string{"bob"}
		}, access.RuleUser, "AuthorizedUsers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := managed()
			if tc.change != nil {
				tc.change(&f)
			}
			r := access.Decide(f)
			if tc.rule == "" {
				if r != nil {
					t.Fatalf("refused: %v", r)
				}
				return
			}
			if r == nil || r.Rule != tc.rule || !strings.Contains(r.Sentence, tc.says) {
				t.Fatalf("got %+v, want rule %s saying %q", r, tc.rule, tc.says)
			}
		})
	}
}

func TestGatherNeverHoldsTheToken(t *testing.T) {
	kc := keychain.NewMemory()
	ctx := context.Background()
	kc.Set(ctx, keychain.AccountToken, "sst_secret")
	var gotManagedBy string
	src := access.Sources{
		Keychain: kc,
		User:     func() (account.Account, error) { return account.Account{Name: "alice"}, nil },
		Enroll: func(ctx context.Context, managedBy string) (enroll.Result, error) {
			gotManagedBy = managedBy
			return enroll.Result{Managed: true}, nil
		},
		ControlFile: t.TempDir() + "/control.json",
	}
	f, token := access.Gather(ctx, src, false)
	if token != "sst_secret" || !f.TokenPresent || f.TokenFingerprint != keychain.Fingerprint("sst_secret") {
		t.Fatalf("facts %+v token %q", f, token)
	}
	if strings.Contains(strings.ReplaceAll(fmtFacts(f), " ", ""), "sst_secret") {
		t.Fatal("facts hold the token")
	}
	if gotManagedBy != "" || access.Decide(f) != nil {
		t.Fatalf("decide = %v", access.Decide(f))
	}
	f2 := access.Refresh(ctx, src, f)
	if !f2.TokenPresent {
		t.Fatal("refresh forgot the token")
	}
}

func fmtFacts(f access.Facts) string {
	return strings.TrimSpace(strings.Join([]string{f.TokenFingerprint, f.User.Name}, " "))
}
