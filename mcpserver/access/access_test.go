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

		// The launching program, as the kernel names it.
		{"no launcher rules outside a session", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Policy.Policy.AllowedClientSigners = []string{"Q6L2SF6YDW"}
		}, "", ""},
		{"launcher allowed", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Launcher = &access.Launcher{Exe: "/usr/bin/claude"}
		}, "", ""},
		{"launcher not allowed", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Launcher = &access.Launcher{Exe: "/home/alice/bin/claude"}
		}, access.RuleClientExecutable, `The program that started this Scispot connection, "/home/alice/bin/claude", is not an approved AI client`},
		{"launcher unknown", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Launcher = &access.Launcher{}
		}, access.RuleClientExecutable, "a program the service could not identify"},
		{"any launcher without the key", func(f *access.Facts) { f.Launcher = &access.Launcher{} }, "", ""},
		{"launcher refused on the demo too", func(f *access.Facts) {
			f.Demo = true
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Launcher = &access.Launcher{Exe: "/usr/bin/python3"}
		}, access.RuleClientExecutable, `"/usr/bin/python3"`},
		{"launcher refused before enrollment is asked about", func(f *access.Facts) {
			f.Enrollment = enroll.Result{}
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Launcher = &access.Launcher{Exe: "/usr/bin/python3"}
		}, access.RuleClientExecutable, "AllowedClientExecutables"},
		{"signer allowed", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientSigners = []string{"Q6L2SF6YDW"}
			f.Launcher = &access.Launcher{Exe: "/Applications/Claude.app/Contents/MacOS/Claude", Signer: "Developer ID Application: Anthropic PBC (Q6L2SF6YDW)", SignersApply: true}
		}, "", ""},
		{"signer not allowed", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientSigners = []string{"Q6L2SF6YDW"}
			f.Launcher = &access.Launcher{Exe: "/Users/a/x", Signer: "ad-hoc", SignersApply: true}
		}, access.RuleClientSigner, `"/Users/a/x", carries the signature "ad-hoc", which is not an approved signer`},
		{"unsigned launcher", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientSigners = []string{"Anthropic, PBC"}
			f.Launcher = &access.Launcher{Exe: `C:\x.exe`, SignersApply: true}
		}, access.RuleClientSigner, "carries no code signature"},
		{"signers have no effect where programs are not signed", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientSigners = []string{"Anthropic, PBC"}
			f.Launcher = &access.Launcher{Exe: "/usr/bin/claude"}
		}, "", ""},
		{"executable checked before signer", func(f *access.Facts) {
			f.Policy.Policy.AllowedClientExecutables = []string{"/usr/bin/claude"}
			f.Policy.Policy.AllowedClientSigners = []string{"Anthropic, PBC"}
			f.Launcher = &access.Launcher{Exe: "/tmp/x", SignersApply: true}
		}, access.RuleClientExecutable, `"/tmp/x"`},
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
	src.Launcher = &access.Launcher{Exe: "/usr/bin/claude"}
	f3, _ := access.Gather(ctx, src, false)
	if f4 := access.Refresh(ctx, access.Sources{}, f3); f4.Launcher == nil || f4.Launcher.Exe != "/usr/bin/claude" {
		t.Fatalf("refresh forgot the session's launcher: %+v", f4.Launcher)
	}
}

func fmtFacts(f access.Facts) string {
	return strings.TrimSpace(strings.Join([]string{f.TokenFingerprint, f.User.Name}, " "))
}
