package gateway

import (
	"fmt"
	"slices"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// Visibility is the policy's verdict on one tool name.
type Visibility struct {
	Visible bool
	// Reason names the policy key (or default) that hides the tool, in words
	// an admin can act on. Empty when Visible.
	Reason string
}

// Decide applies the tool rules of design.md to one tool name. It is the
// only place those rules live: listing, calling and `scispot-mcp tools
// --all` all ask it.
//
// The order matters: DeniedTools wins over everything, write tools need
// AllowWriteTools before any allow list is consulted, and a tool this
// release does not know stays hidden until AllowedTools names it.
func Decide(p policy.Policy, name string) Visibility {
	if slices.Contains(p.DeniedTools, name) {
		return Visibility{Reason: "listed in the policy's DeniedTools"}
	}
	known := catalog.Lookup(name)
	if known.Kind == catalog.Write && !p.AllowWriteTools {
		return Visibility{Reason: "a write tool, and the policy's AllowWriteTools is false"}
	}
	if p.AllowedTools == nil {
		switch known.Kind {
		case catalog.Read:
			return Visibility{Visible: true}
		case catalog.Write:
			return Visibility{Reason: "a write tool that the policy's AllowedTools does not name (the default allows only the 16 read-only tools)"}
		default:
			return Visibility{Reason: "not a known Scispot tool; new tools stay hidden until the policy's AllowedTools names them"}
		}
	}
	if slices.Contains(p.AllowedTools, name) {
		return Visibility{Visible: true}
	}
	return Visibility{Reason: "not named in the policy's AllowedTools"}
}

// hiddenSentence is what a client sees when it calls a tool it may not use.
func hiddenSentence(name string, v Visibility) string {
	return fmt.Sprintf("The tool %q is not available on this workstation: it is %s; ask your Scispot admin if you need it.", name, v.Reason)
}
