// Package audit is the gateway's tamper-evident audit trail.
//
// Every session (one `scispot-mcp serve` process, or one CLI command such as
// `scispot-mcp kill`) writes its own file under <state>/audit/, one JSON
// record per line. Each record carries the SHA-256 of the record before it in
// the same file (prev) and its own SHA-256 (hash), so editing, deleting or
// reordering a line breaks the chain at that line:
//
//	20261124T101500.123Z-3f9a….jsonl
//	  {"v":1,"seq":1,…,"event":"session.start",…,"hash":"a1…"}
//	  {"v":1,"seq":2,…,"event":"tool.call",…,"prev":"a1…","hash":"9c…"}
//	  {"v":1,"seq":3,…,"event":"session.end",…,"prev":"9c…","hash":"47…"}
//
// The pieces, one job each:
//
//   - [Writer] appends records to one session file and fsyncs each before
//     returning (design rule 4); [AppendOnce] is the one-record file a CLI
//     command writes.
//   - [RedactArgs] removes secrets from tool arguments and caps their size.
//   - [Verify] and [VerifyFile] check every chain and name the first break.
//   - [Read], [Export] and [FormatLine] serve `audit tail` and `audit export`.
//   - [Feed] follows the folder with fsnotify for `audit tail -f` and the
//     tray's live activity, and knows which sessions are running.
//
// Files are never shared between processes, so concurrent sessions cannot
// corrupt each other's records. The chain makes tampering evident, not
// impossible: someone who can rewrite a whole file can also recompute its
// hashes, and deleting a whole file or its last records leaves no break
// inside any remaining chain (a session without session.end is reported as
// incomplete).
package audit

import (
	"encoding/json"
	"time"
)

// Version is the record format version written in every record's "v".
const Version = 1

// Event names what a record is about.
type Event string

// The events of the audit record (design.md, "Audit record").
const (
	EventSessionStart Event = "session.start"
	EventToolsList    Event = "tools.list"
	EventToolCall     Event = "tool.call"
	EventToolDenied   Event = "tool.denied"
	EventSessionEnd   Event = "session.end"
	EventKill         Event = "kill"
	EventResume       Event = "resume"
	EventPolicyChange Event = "policy.change"
	EventRefused      Event = "refused"
	EventTokenSet     Event = "token.set"
	EventTokenRemove  Event = "token.remove"
	EventSetupWrite   Event = "setup.write"
	// EventSignature is an electronic signature on a write, written before
	// the write reaches Scispot (signature.go).
	EventSignature Event = "signature"
	// Tool definitions (package pin): one seen for the first time and
	// pinned; one that differs from the approved one, withheld; a changed
	// one accepted by the admin's policy or the person. Tool names it;
	// Args holds the definitions' hashes and what changed
	// (see gateway.PinArgs).
	EventToolPinned   Event = "tool.pinned"
	EventToolChanged  Event = "tool.changed"
	EventToolAccepted Event = "tool.accepted"
	// EventCheckpoint is the service's signed statement of a trail's
	// length and last hash (checkpoint.go).
	EventCheckpoint Event = "checkpoint"
	// EventBypassFound is a client config entry that reaches Scispot
	// without the gateway, found by the service's periodic check: Client
	// names the AI client, Reason the file and entry, Args the finding.
	EventBypassFound Event = "bypass.found"
	// EventValidationRun is one `scispot-mcp validate` run: Reason names
	// the report's document ID, Args holds each report file's SHA-256 and
	// the summary, so `validate --verify` can check a filed report.
	EventValidationRun Event = "validation.run"
)

// Known reports whether e is one of the events this version writes.
func (e Event) Known() bool {
	switch e {
	case EventSessionStart, EventToolsList, EventToolCall, EventToolDenied,
		EventSessionEnd, EventKill, EventResume, EventPolicyChange,
		EventRefused, EventTokenSet, EventTokenRemove, EventSetupWrite,
		EventSignature, EventCheckpoint,
		EventToolPinned, EventToolChanged, EventToolAccepted, EventBypassFound,
		EventValidationRun:
		return true
	}
	return false
}

// Outcome is how the audited action ended.
type Outcome string

// Outcomes. Records that are not about an action leave Outcome empty.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeError  Outcome = "error"
	OutcomeDenied Outcome = "denied"
)

// Transport is how the client reached the gateway.
type Transport string

// Transports.
const (
	TransportStdio Transport = "stdio"
	TransportHTTP  Transport = "http"
	TransportCLI   Transport = "cli"
)

// Well-known flags.
const (
	// FlagInjectionSuspect marks a result that contained instruction-like text.
	FlagInjectionSuspect = "injection-suspect"
	// FlagSecretRedacted marks a result from which a secret (the token,
	// the local HTTP secret, a token-shaped word) was removed.
	FlagSecretRedacted = "secret-redacted"
)

// Client is the MCP client's implementation info.
type Client struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Exe is the program that launched the session's relay (the AI
	// client), as the kernel names it; Signer its code signer (macOS Team
	// ID, Windows publisher) where the OS says.
	Exe    string `json:"exe,omitempty"`
	Signer string `json:"signer,omitempty"`
}

// IsZero reports whether c carries nothing.
func (c Client) IsZero() bool { return c == Client{} }

// Record is one line of an audit file. Field order here is the order of the
// canonical encoding (see hash.go); empty fields are omitted.
//
// The JSON tags are used for decoding only; encoding always goes through the
// canonical encoder ([Record.MarshalJSON]).
type Record struct {
	V           int             `json:"v"`
	Seq         int64           `json:"seq"`
	Time        time.Time       `json:"time"`
	Session     string          `json:"session"`
	Event       Event           `json:"event"`
	PID         int             `json:"pid,omitempty"`
	User        string          `json:"user,omitempty"`
	Device      string          `json:"device,omitempty"`
	Token       string          `json:"token,omitempty"` // fingerprint, never the token
	Client      Client          `json:"client,omitzero"`
	Transport   Transport       `json:"transport,omitempty"`
	Tool        string          `json:"tool,omitempty"`
	Args        json.RawMessage `json:"args,omitempty"`
	Outcome     Outcome         `json:"outcome,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	Rule        string          `json:"rule,omitempty"` // the refusal's rule name
	DurationMS  int64           `json:"duration_ms,omitempty"`
	ResultBytes int64           `json:"result_bytes,omitempty"`
	Flags       []string        `json:"flags,omitempty"`
	// Signature is the signature itself on a signature record, and the
	// link to it on the record of the call it signs.
	Signature *Signature `json:"signature,omitempty"`
	// Change is the previous and the new value of what a write changed.
	Change *Change `json:"change,omitempty"`
	// Checkpoint is set on checkpoint records only.
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	Prev       string      `json:"prev,omitempty"`
	Hash       string      `json:"hash,omitempty"`
}

// MarshalJSON returns the canonical encoding of r, hash included (the exact
// bytes of its line in an audit file, without the newline).
func (r Record) MarshalJSON() ([]byte, error) {
	return appendLine(nil, &r), nil
}

// SessionInfo is what a Writer stamps on every record of its session.
type SessionInfo struct {
	// Session is the session id; empty means a new random id. It becomes
	// part of the file name, so only [A-Za-z0-9._-] are accepted.
	Session string
	// PID is the process that owns the session; 0 means this process.
	PID int
	// User is the OS account name.
	User string
	// Device is the protected machine id.
	Device string
	// Token is the token fingerprint, the default for records that leave
	// Token empty. Never the token itself.
	Token string
	// Client and Transport are defaults for records that leave them empty.
	Client    Client
	Transport Transport
}
