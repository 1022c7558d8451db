// Package pin remembers the definition of every tool this workstation
// allows, as it was when the tool was first allowed here, so that a later
// change by the upstream (a "rug pull": a tool that was reviewed and
// allowed, then quietly redefined) is noticed. A changed definition is
// withheld from AI clients until the admin's policy or the person accepts
// it.
//
//	s := pin.Open(path, pin.Options{…})     // <service state>/tool-pins.json, root only
//	v := s.View(pin.Scope(demo, url), owner) // one upstream, one account
//	verdict := v.Check(tool, policy.AcceptedToolDefinitions)
//	… verdict.Approved, verdict.Event (tool.pinned, tool.changed, tool.accepted)
//	s.Accept(scope, owner, name, sha256, by) // the person, password checked by the caller
//
// What is pinned is Canonical(tool): name, title, description, annotations
// and the input and output schemas, as JSON with sorted keys. _meta and
// icons are left out: they are protocol and display metadata that a
// server may change between releases without changing what the tool does
// or claims, and the poison inspector (guard.InspectTool) reads _meta on
// every listing anyway.
//
// Pins are per upstream and per device: the first account to see a tool
// pins it for every account (an account that starts using Scispot after a
// rug pull must not take the changed definition as its first sight). The
// admin's acceptance (policy AcceptedToolDefinitions) moves that pin for
// everyone; the person's acceptance, a human-only action, counts for their
// own account only, because on a shared lab workstation one scientist must
// not decide for another.
package pin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
)

// Audit event kinds a check or an acceptance calls for (design.md, "Audit
// record"); the gateway and the service write them.
const (
	// EventPinned: a tool's definition was seen for the first time and
	// pinned (trust on first use).
	EventPinned = "tool.pinned"
	// EventChanged: the upstream's definition differs from the pinned one;
	// the tool is withheld.
	EventChanged = "tool.changed"
	// EventAccepted: a changed definition was accepted, by the admin's
	// policy or the person.
	EventAccepted = "tool.accepted"
)

// Rules of a withheld tool's refusal.
const (
	// RuleChanged: the definition differs from the approved one.
	RuleChanged = "tool-changed"
	// RuleUnverified: no approved definition is on record to compare with
	// (the record was damaged, or could not be written).
	RuleUnverified = "tool-unverified"
)

// Scope names the upstream whose tools a set of pins belongs to: the demo
// workspace, or the Scispot endpoint the policy names.
func Scope(demo bool, upstreamURL string) string {
	if demo {
		return "demo"
	}
	return upstreamURL
}

// Canonical is the pinned part of t as canonical JSON: an object with name,
// title, description, annotations, inputSchema and outputSchema (each left
// out when empty), object keys sorted at every depth, no insignificant
// whitespace, numbers as the upstream wrote them. Annotations are reduced
// to what they say (a false readOnlyHint and no readOnlyHint mean the
// same), so SDK versions that spell them differently agree.
func Canonical(t *mcp.Tool) (json.RawMessage, error) {
	if t == nil {
		return nil, fmt.Errorf("no tool definition")
	}
	m := map[string]any{"name": t.Name}
	if t.Title != "" {
		m["title"] = t.Title
	}
	if t.Description != "" {
		m["description"] = t.Description
	}
	if a := annotations(t.Annotations); len(a) > 0 {
		m["annotations"] = a
	}
	for key, v := range map[string]any{"inputSchema": t.InputSchema, "outputSchema": t.OutputSchema} {
		if v == nil {
			continue
		}
		plain, err := plainJSON(v)
		if err != nil {
			return nil, fmt.Errorf("reading the %s of %q: %w", key, t.Name, err)
		}
		if plain != nil {
			m[key] = plain
		}
	}
	return encode(m)
}

func annotations(a *mcp.ToolAnnotations) map[string]any {
	m := map[string]any{}
	if a == nil {
		return m
	}
	if a.Title != "" {
		m["title"] = a.Title
	}
	if a.ReadOnlyHint {
		m["readOnlyHint"] = true
	}
	if a.DestructiveHint != nil {
		m["destructiveHint"] = *a.DestructiveHint
	}
	if a.IdempotentHint {
		m["idempotentHint"] = true
	}
	if a.OpenWorldHint != nil {
		m["openWorldHint"] = *a.OpenWorldHint
	}
	return m
}

// plainJSON turns any JSON-marshalable value into maps, slices, strings,
// json.Numbers, booleans and nil.
func plainJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decode(b)
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return out, nil
}

// encode is the canonical encoding of a plain JSON value: encoding/json
// sorts map keys; HTML characters are left as they are.
func encode(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// Recanonical re-encodes a canonical definition read back from a file or
// the wire, so a hand-edited or re-indented copy hashes as it should.
func Recanonical(b []byte) (json.RawMessage, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("a tool definition must be a JSON object")
	}
	return encode(v)
}

// Hash is the lowercase hex SHA-256 of a canonical definition.
func Hash(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Short is the first 12 hex digits of a hash, as people read and type it
// (the same length as a token's fingerprint).
func Short(hash string) string {
	if len(hash) > ShortLen {
		return hash[:ShortLen]
	}
	return hash
}

// ShortLen is the length of Short, and the fewest hex digits a policy
// entry or an acceptance may name a definition by.
const ShortLen = 12

// Tool turns a canonical definition back into a tool definition (for the
// poison inspector at acceptance).
func Tool(canonical []byte) (*mcp.Tool, error) {
	var t mcp.Tool
	if err := json.Unmarshal(canonical, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Matches reports whether a policy entry "NAME@HEX" accepts the definition
// of name with hash: the names are equal and hash starts with HEX (at
// least ShortLen digits, any case; see policy.ParseAcceptedTool).
func Matches(entry, name, hash string) bool {
	n, h, err := policy.ParseAcceptedTool(entry)
	return err == nil && n == name && strings.HasPrefix(hash, h)
}

// Entry is the policy entry that accepts the definition of name with
// hash, as `tools --all` and the accept command print it.
func Entry(name, hash string) string { return name + "@" + Short(hash) }
