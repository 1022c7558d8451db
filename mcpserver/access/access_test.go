package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

func TestDecide(t *testing.T) {
	ok := policy.Snapshot{Policy: policy.Default()}
	disabled := ok
	disabled.Policy.Enabled = false
	noDemo := ok
	noDemo.Policy.AllowDemo = false
	invalid := policy.Snapshot{Policy: policy.Default(), Err: errors.New(`policy key "Foo" is not a known key`)}
	cases := []struct {
		name  string
		facts access.Facts
		rule  string // "" = allowed
		says  string
	}{
		{"token present", access.Facts{Policy: ok, TokenPresent: true}, "", ""},
		{"no token", access.Facts{Policy: ok}, gateway.RuleNoToken, "scispot-mcp token set"},
		{"keychain locked", access.Facts{Policy: ok, TokenErr: errors.New("the login keyring is locked")}, access.RuleKeychain, "locked"},
		{"invalid policy first", access.Facts{Policy: invalid, TokenPresent: true}, access.RulePolicyInvalid, `"Foo"`},
		{"disabled", access.Facts{Policy: disabled, TokenPresent: true}, access.RuleDisabled, "Enabled is false"},
		{"demo needs no token", access.Facts{Policy: ok, Demo: true}, "", ""},
		{"demo disabled", access.Facts{Policy: noDemo, Demo: true}, access.RuleDemoDisabled, "AllowDemo"},
		{"disabled beats demo", access.Facts{Policy: disabled, Demo: true}, access.RuleDisabled, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := access.Decide(tc.facts)
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
