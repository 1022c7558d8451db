package gateway

import (
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// Visibility is the policy's verdict on one tool: whether it is listed
// and may be called, and how the gateway classifies it.
type Visibility struct {
	Visible bool
	// Reason names the policy key (or default, or what is wrong with the
	// tool's definition) that hides the tool, in words an admin can act
	// on. Empty when Visible.
	Reason string
	// Rule is the audit rule of a call refused for this verdict:
	// RuleToolHidden, or RuleToolPoisoned for a definition that carries
	// text aimed at the model. Empty when Visible.
	Rule string
	// Sentence, when set, is the refusal a call of the hidden tool gets
	// in place of the usual "not available" one: a tool withheld because
	// its definition changed says what to do about that.
	Sentence string
	// Class is what the tool may do to the workspace, visible or not.
	Class Class
}

// Class is what a tool may do to the workspace, as the gateway judges it.
// The write rules (AllowWriteTools, ConfirmWrites) follow it, never the
// tool's name alone.
type Class struct {
	// Write: it may add to or change the workspace.
	Write bool
	// Destructive: it may overwrite or delete; the person is told so when
	// asked to confirm it.
	Destructive bool
	// Why says how it was classified, for `scispot-mcp tools --all`, such
	// as "write, destructive: not in this release's catalogue".
	Why string
}

// Classify says what a tool may do: the catalogue's word for the tools
// this release knows, the upstream's hints only where they make a tool
// more dangerous. A tool the catalogue does not know is a write tool, and
// destructive unless the upstream marks it readOnlyHint and the policy's
// AllowedTools names it; destructiveHint makes any tool a destructive
// write. def is the upstream's definition, nil when it is not at hand
// (then only the name counts, the strict side).
func Classify(p policy.Policy, name string, def *mcp.Tool) Class {
	known := catalog.Lookup(name)
	var readOnlyHint, destructiveHint bool
	if def != nil && def.Annotations != nil {
		readOnlyHint = def.Annotations.ReadOnlyHint
		destructiveHint = def.Annotations.DestructiveHint != nil && *def.Annotations.DestructiveHint
	}
	switch {
	case known.Kind == catalog.Write && known.Destructive:
		return Class{Write: true, Destructive: true, Why: "write, destructive: catalogue"}
	case destructiveHint:
		return Class{Write: true, Destructive: true, Why: "write, destructive: the upstream marks it destructiveHint"}
	case known.Kind == catalog.Write:
		return Class{Write: true, Why: "write: catalogue"}
	case known.Kind == catalog.Read:
		return Class{Why: "read: catalogue"}
	case readOnlyHint && slices.Contains(p.AllowedTools, name):
		return Class{Write: true, Why: "write: not in this release's catalogue (not destructive: the upstream marks it readOnlyHint and the policy's AllowedTools names it)"}
	}
	return Class{Write: true, Destructive: true, Why: "write, destructive: not in this release's catalogue"}
}

// Decide applies the tool rules of design.md to one tool name, without
// the upstream's definition: what the gateway can say while Scispot
// cannot be listed. Judge adds what the definition says; together they
// are the only place those rules live: listing, calling and `scispot-mcp
// tools --all` all ask them.
func Decide(p policy.Policy, name string) Visibility {
	return verdict(p, name, nil, defect{})
}

// defect is what is wrong with a tool's definition, found once per
// listing: what (empty when nothing) and the rule its calls are refused
// with.
type defect struct {
	what, rule string
}

// verdict is Decide for a tool with its definition def (nil when not at
// hand) and what is wrong with that definition.
//
// The order matters: a definition aimed at the model hides the tool
// whatever the policy says (the admin must hear of it), DeniedTools wins
// over every allow, write tools need AllowWriteTools before any allow
// list is consulted, and a tool this release does not know stays hidden
// until AllowedTools names it.
func verdict(p policy.Policy, name string, def *mcp.Tool, d defect) Visibility {
	class := Classify(p, name, def)
	hidden := func(reason string) Visibility {
		return Visibility{Reason: reason, Rule: RuleToolHidden, Class: class}
	}
	known := catalog.Lookup(name).Kind != catalog.Unknown
	switch {
	case d.what != "":
		v := hidden("published by the upstream with " + d.what)
		v.Rule = d.rule
		return v
	case slices.Contains(p.DeniedTools, name):
		return hidden("listed in the policy's DeniedTools")
	case class.Write && !p.AllowWriteTools:
		switch {
		case !known:
			return hidden("not in this release's catalogue, so it counts as a destructive write tool; new tools stay hidden until the policy sets AllowWriteTools and its AllowedTools names them")
		case catalog.Lookup(name).Kind == catalog.Read:
			return hidden("marked destructiveHint by the upstream, so it counts as a destructive write tool, and the policy's AllowWriteTools is false")
		}
		return hidden("a write tool, and the policy's AllowWriteTools is false")
	case p.AllowedTools == nil:
		switch {
		case !known:
			return hidden("not a known Scispot tool; new tools stay hidden until the policy's AllowedTools names them")
		case class.Write:
			return hidden("a write tool that the policy's AllowedTools does not name (the default allows only the 16 read-only tools)")
		}
		return Visibility{Visible: true, Class: class}
	case slices.Contains(p.AllowedTools, name):
		return Visibility{Visible: true, Class: class}
	}
	return hidden("not named in the policy's AllowedTools")
}

// hiddenSentence is what a client sees when it calls a tool it may not use.
func hiddenSentence(name string, v Visibility) string {
	return fmt.Sprintf("The tool %q is not available on this workstation: it is %s; ask your Scispot admin if you need it.", name, v.Reason)
}

// hiddenRefusal refuses a call to a tool the verdict hides.
func hiddenRefusal(name string, v Visibility) *Refusal {
	if v.Sentence != "" {
		return &Refusal{Rule: v.Rule, Sentence: v.Sentence}
	}
	return &Refusal{Rule: v.Rule, Sentence: hiddenSentence(name, v)}
}
