// Package localapi is how everything in the person's session talks to the
// workstation service, scispot-mcpd: the `serve` relay, the CLI and the
// tray. It holds the wire types and the typed Client; the handlers live in
// package service, which learns who is calling from the kernel (peer
// credentials of the socket or pipe), never from a request.
//
//	serve (relay) ─┐                                   ┌─ MCP sessions (gateway, guards, audit)
//	CLI ───────────┼─ HTTP over the local socket ──▶ scispot-mcpd ─┼─ kill switch, budgets per account
//	tray ──────────┘   /localapi/v0/…                  └─ sealed tokens, password checks
//
// An MCP session over stdio is an HTTP Upgrade on POST /localapi/v0/mcp:
// after "101 Switching Protocols" the connection carries newline-delimited
// JSON-RPC both ways, so the relay only copies bytes.
//
// Every verb that sends something the person must keep (a password, a
// plaintext token) first checks that the server on the other end is the
// system service (peer credentials say root or SYSTEM), so a socket planted
// by a process of the user's own account cannot collect them.
package localapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// Prefix starts every local API path.
const Prefix = "/localapi/v0/"

// Headers and protocol names of an MCP session.
const (
	// UpgradeProtocol is the Upgrade token of a stdio MCP session.
	UpgradeProtocol = "scispot-mcp-stdio/1"
	// HeaderDemo asks for the built-in demo workspace ("1").
	HeaderDemo = "Scispot-Demo"
	// HeaderToken carries what the person's keychain holds: a sealed token,
	// or a plain one stored before sealing existed (the service seals it
	// and answers with HeaderSealed, and the relay replaces the item).
	HeaderToken = "Scispot-Token"
	// HeaderTokenError says why the relay could not read the keychain; the
	// service puts it in the refusal the AI client shows.
	HeaderTokenError = "Scispot-Token-Error"
	// HeaderSealed answers a plain token with its sealed form.
	HeaderSealed = "Scispot-Sealed"
	// HeaderTransport names the relay's transport for the audit trail
	// ("stdio", "http" or "cli").
	HeaderTransport = "Scispot-Transport"
	// HeaderLocalSecret carries the account's local HTTP secret (serve
	// --http's), so the service keeps it out of every result and record.
	// Sent only to the system service.
	HeaderLocalSecret = "Scispot-Local-Secret"
)

// Error is a refusal or failure the service answered with. Its text is one
// sentence for the person.
type Error struct {
	// Status is the HTTP status: 403 refused by policy or device state, 401
	// the person's password was wrong, 400 a bad request, 409 a conflict,
	// 5xx the service failed.
	Status int `json:"-"`
	// Rule names the refusal (as in audit records), when there is one.
	Rule     string `json:"rule,omitempty"`
	Sentence string `json:"error"`
}

func (e *Error) Error() string { return e.Sentence }

// Refused reports whether the service refused by policy or device state
// (exit code 3 in the CLI).
func (e *Error) Refused() bool { return e.Status == 403 || e.Status == 401 }

// Service describes the service that answered.
type Service struct {
	// Mode is "system" (scispot-mcpd installed as a system service) or
	// "user-demo" (an unprivileged instance for one account that serves the
	// demo workspace only).
	Mode    string `json:"mode"`
	Socket  string `json:"socket"`
	Version string `json:"version"`
	PID     int    `json:"pid"`
	// KeyID names the service key that seals tokens (empty in user-demo).
	KeyID string `json:"key_id,omitempty"`
}

// Service modes.
const (
	ModeSystem   = "system"
	ModeUserDemo = "user-demo"
)

// Status is what `scispot-mcp status` shows; fields may be added, never
// renamed (MDM scripts read `status --json`).
type Status struct {
	Service Service `json:"service"`
	Access  struct {
		Allowed bool   `json:"allowed"`
		Rule    string `json:"rule,omitempty"`
		Reason  string `json:"reason,omitempty"`
	} `json:"access"`
	Enrollment struct {
		Checked bool   `json:"checked"`
		Managed bool   `json:"managed"`
		Method  string `json:"method"`
		Detail  string `json:"detail"`
		Error   string `json:"error,omitempty"`
	} `json:"enrollment"`
	Policy struct {
		Valid     bool           `json:"valid"`
		Sources   []string       `json:"sources"`
		Ignored   []string       `json:"ignored,omitempty"`
		Error     string         `json:"error"`
		Effective map[string]any `json:"effective"`
	} `json:"policy"`
	User struct {
		Name       string `json:"name"`
		UID        int    `json:"uid"`
		Authorized bool   `json:"authorized"`
	} `json:"user"`
	Device string `json:"device"`
	// DeviceKey is the verifier key of the device's checkpoint signing
	// key, for an admin to register (fleet-verify --keys); DeviceKeyError
	// says why there is none (checkpoints are then not written).
	DeviceKey      string `json:"device_key,omitempty"`
	DeviceKeyError string `json:"device_key_error,omitempty"`
	Token          struct {
		Present     bool   `json:"present"`
		Sealed      bool   `json:"sealed"`
		Fingerprint string `json:"fingerprint"`
		Error       string `json:"error,omitempty"`
	} `json:"token"`
	Killed bool `json:"killed"`
	Kill   struct {
		Reason string    `json:"reason,omitempty"`
		By     string    `json:"by,omitempty"`
		At     time.Time `json:"at,omitzero"`
		Error  string    `json:"error,omitempty"`
	} `json:"kill"`
	// DemoAccess is whether a session on the demo workspace would be
	// refused, and why (it needs neither token nor enrollment).
	DemoAccess struct {
		Allowed bool   `json:"allowed"`
		Rule    string `json:"rule,omitempty"`
		Reason  string `json:"reason,omitempty"`
	} `json:"demo_access"`
	Sessions    []Session `json:"sessions"`
	ClientsSeen []string  `json:"clients_seen"`
	// ExecutablesSeen are the programs that launched serve, from the
	// kernel (the relay's parent process).
	ExecutablesSeen []string `json:"executables_seen"`
	// SignersSeen are the code signers of those programs (macOS Team
	// IDs and authorities, Windows publishers; none on Linux), for the
	// policy's AllowedClientSigners.
	SignersSeen []string `json:"signers_seen"`
	// ClientSettings are the AI clients' machine-level managed settings the
	// service keeps (policy BlockDirectConnections): whether each denies
	// direct Scispot connections now.
	ClientSettings []ClientSettings `json:"client_settings"`
	// Pending are the writes waiting for the person's approval.
	Pending []Confirmation `json:"pending_confirmations"`
	// ToolChanges are the allowed tools whose definition Scispot changed
	// since it was approved on this workstation, withheld from this
	// account's AI clients until the change is accepted (without the
	// definitions themselves: ToolChanges has them).
	ToolChanges []ToolChange `json:"tool_changes"`
	// AuditDestinations are the policy's audit destinations (OTLP,
	// syslog) and how delivery to each goes.
	AuditDestinations []AuditDestination `json:"audit_destinations"`
}

// AuditDestination is one place every audit record of the workstation is
// forwarded to.
type AuditDestination struct {
	// Kind is "otlp" or "syslog"; Endpoint the policy's URL or address.
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint"`
	// Connected: the last attempt to deliver succeeded.
	Connected    bool      `json:"connected"`
	LastDelivery time.Time `json:"last_delivery,omitzero"`
	// Backlog is how many records wait; OldestUndelivered the time of the
	// oldest of them.
	Backlog           int64     `json:"backlog"`
	OldestUndelivered time.Time `json:"oldest_undelivered,omitzero"`
	LastError         string    `json:"last_error,omitempty"`
	LastErrorTime     time.Time `json:"last_error_time,omitzero"`
	// Delivered and Rejected count since the service started; rejected
	// records were acknowledged but refused by the receiver.
	Delivered int64 `json:"delivered"`
	Rejected  int64 `json:"rejected,omitempty"`
}

// Describe says in one line how delivery to d goes, for `status` and the
// tray's Diagnostics window.
func (d AuditDestination) Describe(now time.Time) string {
	var b strings.Builder
	if d.Connected {
		b.WriteString("connected")
	} else {
		b.WriteString("not connected")
	}
	if !d.LastDelivery.IsZero() {
		fmt.Fprintf(&b, ", last delivery %s ago", ago(now, d.LastDelivery))
	} else {
		b.WriteString(", nothing delivered yet")
	}
	if d.Backlog > 0 {
		fmt.Fprintf(&b, ", %d records waiting", d.Backlog)
		if !d.OldestUndelivered.IsZero() {
			fmt.Fprintf(&b, " (oldest %s old)", ago(now, d.OldestUndelivered))
		}
	} else {
		b.WriteString(", nothing waiting")
	}
	if d.Rejected > 0 {
		fmt.Fprintf(&b, ", %d rejected by the receiver", d.Rejected)
	}
	if d.LastError != "" {
		fmt.Fprintf(&b, "; last error: %s", d.LastError)
	}
	return b.String()
}

// ago is a short age: 3s, 5m, 2h, 4d.
func ago(now, t time.Time) string {
	d := max(now.Sub(t), 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// StatusRequest carries what the person's keychain holds, so status can
// say whether the stored token opens.
type StatusRequest struct {
	Token      string `json:"token,omitempty"`
	TokenError string `json:"token_error,omitempty"`
}

// ClientSettings is one AI client's machine-level managed-settings file.
type ClientSettings struct {
	Client string `json:"client"`
	Name   string `json:"name"`
	File   string `json:"file"`
	// Blocked: the file denies direct connections to Scispot.
	Blocked bool   `json:"blocked"`
	Error   string `json:"error,omitempty"`
}

// Session is a live MCP session of the calling account.
type Session struct {
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Client    string    `json:"client"`
	Version   string    `json:"client_version,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Started   time.Time `json:"started"`
}

// KillRequest stops (Kill) or allows (Resume) AI access for the account.
type KillRequest struct {
	Reason string `json:"reason,omitempty"`
	// Source is "cli" or "tray", for the record.
	Source string `json:"source,omitempty"`
	// Password is the account password; resume needs it (the person, not
	// a process running as them), stopping never does.
	Password string `json:"password,omitempty"`
}

// SealRequest asks the service to seal a token for the keychain.
type SealRequest struct {
	Token string `json:"token"`
	// Verify asks Scispot whether the token works before sealing it.
	Verify bool `json:"verify"`
	// Client labels the front end in the record ("scispot-mcp-cli" or
	// "scispot-mcp-tray"); the account comes from the kernel.
	Client string `json:"client,omitempty"`
}

// Rules of a failed SealRequest.Verify.
const (
	RuleTokenRejected       = "token-rejected"
	RuleUpstreamUnreachable = "upstream-unreachable"
)

// TokenInfo describes a stored token without revealing it.
type TokenInfo struct {
	// Sealed is what the keychain must hold (SealToken only).
	Sealed      string `json:"sealed,omitempty"`
	Fingerprint string `json:"fingerprint"`
	// Verified: Scispot accepted it (SealRequest.Verify), with how long it
	// took to answer.
	Verified  bool          `json:"verified"`
	Latency   time.Duration `json:"latency_ns,omitempty"`
	VerifyErr string        `json:"verify_error,omitempty"`
}

// TokenQuery carries the keychain's item for TokenStatus and TokenRemoved.
type TokenQuery struct {
	Token  string `json:"token"`
	Client string `json:"client,omitempty"`
}

// ToolInfo is one upstream tool with the gateway's verdict on it.
type ToolInfo struct {
	Tool    *mcp.Tool `json:"tool"`
	Visible bool      `json:"visible"`
	// Reason says why a hidden tool is hidden; Rule is the audit rule a
	// call of it is refused with (tool-hidden, tool-poisoned).
	Reason string `json:"reason,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// Write and Destructive are how the gateway classified the tool, and
	// Class says why, such as "write, destructive: not in this release's
	// catalogue" or "read: catalogue".
	Write       bool   `json:"write"`
	Destructive bool   `json:"destructive"`
	Class       string `json:"class"`
	// SHA256 is the hash of the tool's definition as published now, which
	// the policy's AcceptedToolDefinitions names ("TOOL@" and at least
	// its first 12 digits).
	SHA256 string `json:"sha256,omitempty"`
}

// ToolDefinition is one definition of a tool as the service recorded it.
type ToolDefinition struct {
	SHA256 string `json:"sha256"`
	// Definition is the canonical JSON of what is pinned: name, title,
	// description, annotations, input and output schema.
	Definition json.RawMessage `json:"definition,omitempty"`
	// Since is when it was approved (the old one) or first seen (the
	// new one); By says how the old one was approved.
	Since time.Time `json:"since"`
	By    string    `json:"by,omitempty"`
}

// ToolChange is an allowed tool whose definition changed since it was
// approved on this workstation: it is withheld from the account's AI
// clients until the admin's policy or the person accepts the change.
type ToolChange struct {
	Tool string `json:"tool"`
	// Rule is "tool-changed", or "tool-unverified" when no approved
	// definition is on record to compare with (Old is then nil).
	Rule string `json:"rule"`
	// What names the changed places ("description",
	// "inputSchema.properties.hrid.description").
	What []string        `json:"what,omitempty"`
	Old  *ToolDefinition `json:"old,omitempty"`
	New  ToolDefinition  `json:"new"`
	// PolicyEntry is what the admin's AcceptedToolDefinitions would list
	// to accept it for every account.
	PolicyEntry string `json:"policy_entry"`
}

// AcceptToolRequest accepts a changed tool definition for the calling
// account. The service checks the account password itself.
type AcceptToolRequest struct {
	Demo bool   `json:"demo,omitempty"`
	Tool string `json:"tool"`
	// SHA256 is the definition the person reviewed: at least the first
	// 12 hex digits of ToolChange.New.SHA256. If Scispot changed the tool
	// again since, nothing is accepted.
	SHA256   string `json:"sha256"`
	Password string `json:"password,omitempty"`
	// Source is "cli" or "tray", for the record.
	Source string `json:"source,omitempty"`
}

// Rules of a refused AcceptToolRequest (besides the password's).
const (
	RuleNothingToAccept = "nothing-to-accept"
	RuleChangedAgain    = "tool-changed-again"
)

// ToolsRequest asks for the tools a session would see.
type ToolsRequest struct {
	Demo  bool   `json:"demo"`
	Token string `json:"token,omitempty"`
	// LocalSecret is the local HTTP secret, which no tool definition may
	// carry (as in a session).
	LocalSecret string `json:"local_secret,omitempty"`
	// TokenError is why the keychain could not be read.
	TokenError string `json:"token_error,omitempty"`
}

// RecordRequest asks the service to record an action taken in the
// person's session (a client config written), attributed by the kernel.
type RecordRequest struct {
	Event  audit.Event `json:"event"`
	Tool   string      `json:"tool,omitempty"`
	Reason string      `json:"reason,omitempty"`
	Token  string      `json:"token,omitempty"`
	Client string      `json:"client,omitempty"`
}

// FileValidationRequest asks the service to file a validation report
// (the JSON `scispot-mcp validate` made): the service holds its claims
// against what it observed, renders the report's files itself and records
// their SHA-256 as validation.run.
type FileValidationRequest struct {
	Report json.RawMessage `json:"report"`
	// Source is "cli" or "tray", for the record.
	Source string `json:"source,omitempty"`
}

// MaxValidationReport is the largest report JSON the service files.
const MaxValidationReport = 4 << 20

// ReportFile is one rendering of a filed report, to be written as Name.
type ReportFile struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
}

// FiledValidation is a report the service accepted and recorded.
type FiledValidation struct {
	DocID string       `json:"doc_id"`
	Files []ReportFile `json:"files"`
	// Record is the hash of the validation.run record.
	Record string `json:"record"`
}

// Confirmation is a write waiting for the person's approval, shown by the
// tray when the AI client cannot ask.
type Confirmation struct {
	ID            string    `json:"id"`
	Session       string    `json:"session,omitempty"`
	ClientName    string    `json:"client_name,omitempty"`
	ClientVersion string    `json:"client_version,omitempty"`
	Tool          string    `json:"tool"`
	Target        string    `json:"target,omitempty"`
	Change        string    `json:"change,omitempty"`
	Destructive   bool      `json:"destructive,omitempty"`
	Time          time.Time `json:"time"`
	Deadline      time.Time `json:"deadline"`
	// Current is the value the write would change, as Scispot has it now
	// (shortened), or why it could not be read.
	Current string `json:"current,omitempty"`
	// Meanings the approver may choose (policy SignatureMeanings); the
	// ones policy.MeaningAuthorises refuses sign a rejection.
	Meanings []string `json:"meanings,omitempty"`
	// ReasonRequired: the approval must carry a reason for change.
	ReasonRequired bool `json:"reason_required,omitempty"`
}

// Answer is the person's decision on a Confirmation. The service checks
// the password itself before it counts.
type Answer struct {
	ID string `json:"id"`
	// Approved: the person signs the write with Meaning (one of the
	// Confirmation's Meanings; a refusing one signs a rejection), giving
	// Reason and the account Password. False denies it without a
	// signature, which needs nothing.
	Approved bool   `json:"approved"`
	Meaning  string `json:"meaning,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Password string `json:"password,omitempty"`
}

// Event is one line of the event stream (GET /localapi/v0/events).
type Event struct {
	// Kind is "record" (an audit record of this account was written),
	// "confirm" (a write waits for approval), "confirm.done" (it was
	// answered or timed out) or "status" (access changed: kill switch,
	// policy, sessions, a tool withheld because its definition changed
	// or accepted again).
	Kind    string        `json:"kind"`
	Record  *audit.Record `json:"record,omitempty"`
	Confirm *Confirmation `json:"confirm,omitempty"`
	ID      string        `json:"id,omitempty"`
	Status  *Status       `json:"status,omitempty"`
}

// Event kinds.
const (
	EventRecord      = "record"
	EventConfirm     = "confirm"
	EventConfirmDone = "confirm.done"
	EventStatus      = "status"
)

// RecordsQuery selects audit records for Records.
type RecordsQuery struct {
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// All asks for every account's records; only an administrator (root)
	// gets them.
	All bool `json:"all,omitempty"`
}

// VerifyResult is `audit verify` as the service ran it.
type VerifyResult struct {
	Report audit.Report `json:"report"`
	Dir    string       `json:"dir"`
}

func decodeError(status int, body []byte) *Error {
	e := &Error{Status: status}
	if json.Unmarshal(body, e) != nil || e.Sentence == "" {
		e.Sentence = fmt.Sprintf("the Scispot MCP service answered HTTP %d", status)
	}
	return e
}
