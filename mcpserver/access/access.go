// Package access decides whether this workstation may reach Scispot right
// now. It turns the facts the serve command gathered (policy, token, …)
// into at most one gateway.Refusal, always in the same order, so the
// person sees the most fundamental reason first.
package access

import (
	"fmt"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// Rules this package can refuse with.
const (
	RulePolicyInvalid = "policy-invalid"
	RuleDisabled      = "policy-disabled"
	RuleDemoDisabled  = "demo-disabled"
	RuleKeychain      = "keychain"
)

// Facts are what the caller found out about the workstation.
type Facts struct {
	Policy policy.Snapshot
	// Demo is true for the built-in demo workspace, which holds no lab
	// data: it needs no token.
	Demo bool
	// TokenPresent says a Scispot token is stored; TokenErr is set when the
	// keychain could not be asked (locked, no Secret Service…).
	TokenPresent bool
	TokenErr     error
}

// Decide returns the refusal that applies, or nil when access is allowed.
func Decide(f Facts) *gateway.Refusal {
	if err := f.Policy.Err; err != nil {
		return &gateway.Refusal{Rule: RulePolicyInvalid, Sentence: fmt.Sprintf("The admin policy for Scispot MCP is invalid, so access is blocked: %v. Ask your IT admin to fix it.", err)}
	}
	p := f.Policy.Policy
	if !p.Enabled {
		return &gateway.Refusal{Rule: RuleDisabled, Sentence: "Your organisation's admin policy has turned off AI access to Scispot on this workstation (Enabled is false); ask your IT admin if you need it."}
	}
	if f.Demo {
		if !p.AllowDemo {
			return &gateway.Refusal{Rule: RuleDemoDisabled, Sentence: "The admin policy does not allow the demo workspace on this workstation (AllowDemo is false)."}
		}
		return nil
	}
	if f.TokenErr != nil {
		return &gateway.Refusal{Rule: RuleKeychain, Sentence: fmt.Sprintf("The Scispot API token could not be read from the keychain: %v", f.TokenErr)}
	}
	if !f.TokenPresent {
		return gateway.NoToken()
	}
	return nil
}
