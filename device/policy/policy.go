// Package policy reads the organisation's managed policy for Scispot MCP
// Desktop and resolves it into one effective Policy.
//
// Policy comes only from places an administrator controls (see Store and
// DefaultStores); it is never taken from a flag or the environment:
//
//	Linux    /etc/scispot-mcp/policy.json (it and every folder above it
//	         root-owned, not group/other-writable, no symbolic link)
//	macOS    /Library/Managed Preferences/io.scispot.mcp.plist, then
//	         /Library/Managed Preferences/<user>/io.scispot.mcp.plist
//	Windows  HKLM\SOFTWARE\Policies\Scispot\MCP, then HKCU\… (same path)
//
// Parsing is strict and the same for every source: an unknown key or a value
// of the wrong type makes the whole policy invalid (ErrInvalid), and callers
// fail closed on an invalid policy. A source that is not admin-controlled
// (ErrUntrusted) makes the policy invalid too: ignoring it would let the
// user drop the admin's settings by breaking the file.
//
// The pieces, in the order data flows:
//
//	Store.Read ──> Settings (one source, validated)
//	Load(ctx, stores...) ──> Resolve(layers...) ──> Snapshot{Policy, Sources, Err}
//	Watcher.Run(ctx) ──> OnChange(Snapshot) when a source changes
//
// A gateway loads the policy at start and follows its changes:
//
//	stores := policy.DefaultStores()
//	snap := policy.Load(ctx, stores...)
//	if snap.Err != nil {
//		return refuse(snap.Err) // fail closed, and show why
//	}
//	w := &policy.Watcher{Stores: stores, Current: snap, OnChange: apply}
//	go w.Run(ctx)
package policy

// Injection actions for results that contain instruction-like text.
const (
	InjectionFlag   = "flag"
	InjectionRedact = "redact"
	InjectionBlock  = "block"
)

// DefaultUpstreamURL is Scispot's own MCP endpoint.
const DefaultUpstreamURL = "https://mcp.scispot.io/"

// Policy is the effective managed policy. The field names are the policy
// key names of design.md; Keys lists them.
type Policy struct {
	// Enabled false is the admin's kill switch: no AI access at all.
	Enabled bool
	// UpstreamURL is the Scispot MCP endpoint: https, or plain http to a
	// loopback host.
	UpstreamURL string
	// UpstreamProxy is the HTTP proxy the service reaches UpstreamURL
	// through: an http:// or https:// URL with host and port, or "" to
	// connect directly. Proxy settings in the environment (HTTPS_PROXY,
	// HTTP_PROXY, NO_PROXY) are never used.
	UpstreamProxy string
	// AllowedTools are the tools that may be listed and called. Nil means
	// the default, the read-only tools; empty means none.
	AllowedTools []string
	// DeniedTools are always hidden, whatever AllowedTools says.
	DeniedTools []string
	// AllowWriteTools must be true for any write tool to be allowed.
	AllowWriteTools bool
	// AllowedClients are the MCP client names (from the client's
	// implementation info) that may connect; empty means any.
	AllowedClients []string
	// AuthorizedUsers are the OS account names that may use MCP on this
	// device; empty means any.
	AuthorizedUsers []string
	// RequireEnrollment refuses service unless the device is MDM-enrolled.
	RequireEnrollment bool
	// ManagedBy names the configuration-management system that owns a
	// Linux device; in the root-owned policy file it is Linux's enrollment
	// signal when no MDM agent is found. Other systems ignore it.
	ManagedBy string
	// AllowDemo allows the demo workspace.
	AllowDemo bool
	// AllowLocalHTTP allows `serve --http` on loopback.
	AllowLocalHTTP bool
	// MaxCallsPerMinute limits tool calls per session; excess calls are
	// refused, not queued (so 0 refuses every call).
	MaxCallsPerMinute int
	// MaxResultBytes refuses larger results with a "narrow your query"
	// message.
	MaxResultBytes int64
	// MaxBytesPerHour limits result bytes per user per device across
	// sessions: the bulk-export guard.
	MaxBytesPerHour int64
	// InjectionAction is InjectionFlag, InjectionRedact or InjectionBlock,
	// for results that contain instruction-like text.
	InjectionAction string
	// ConfirmWrites makes every write ask the person first (MCP
	// elicitation or input_required, or the tray when the client cannot
	// ask); the answer is an electronic signature in the audit trail.
	ConfirmWrites bool
	// RequireReasonForChange refuses a write approval that carries no
	// reason for the change (EU GMP Annex 11 §9).
	RequireReasonForChange bool
	// SignatureMeanings are the meanings an approver chooses from (21 CFR
	// 11.50(a)(3)); MeaningAuthorises says which let the write through.
	SignatureMeanings []string
	// AcceptedToolDefinitions are the tool definitions the admin accepts,
	// "TOOL@SHA256" (ParseAcceptedTool): when the upstream changes a
	// pinned tool's definition to one of these, the tool is not withheld
	// and the pin moves to it for every account.
	AcceptedToolDefinitions []string
	// AuditOTLPEndpoint is the lab's OTLP/HTTP logs endpoint every audit
	// record is forwarded to: https, or http to a loopback host; "" for
	// none.
	AuditOTLPEndpoint string
	// AuditOTLPHeaders are "Name: value" headers sent to
	// AuditOTLPEndpoint, such as an ingest key. Their values are never
	// logged or shown.
	AuditOTLPHeaders []string
	// AuditSyslog is tls://host:port (RFC 5425) or tcp://host:port to a
	// loopback host; every record goes there as an RFC 5424 message.
	AuditSyslog string
	// AuditCAFile is a PEM bundle of the CAs the audit destinations'
	// certificates chain to, instead of the system's.
	AuditCAFile string
	// AuditMaxUndeliveredHours refuses new sessions while the oldest
	// record not yet delivered to a destination is older; 0 is off.
	AuditMaxUndeliveredHours int
	// BlockDirectConnections makes the service keep a deniedMcpServers
	// entry for Scispot in the machine-level managed settings of the AI
	// clients that have them (Claude Code, GitHub Copilot), so that a
	// Scispot entry that bypasses the gateway is refused by the client.
	BlockDirectConnections bool
	// AllowedClientExecutables are path globs (ExecutableAllowed) of the
	// programs allowed to launch serve; empty means any.
	AllowedClientExecutables []string
	// AllowedClientSigners are the code signers (SignerAllowed: macOS Team
	// IDs, Windows publisher names) of the programs allowed to launch
	// serve; empty means any. Linux executables carry no signature, so
	// there the key has no effect (status says so).
	AllowedClientSigners []string
}

// DefaultSignatureMeanings are the meanings when the policy names none.
func DefaultSignatureMeanings() []string { return []string{"Approved", "Rejected"} }

// Default returns the policy that applies when no administrator has set
// anything.
func Default() Policy {
	return Policy{
		Enabled:           true,
		UpstreamURL:       DefaultUpstreamURL,
		RequireEnrollment: true,
		AllowDemo:         true,
		MaxCallsPerMinute: 60,
		MaxResultBytes:    2097152,
		MaxBytesPerHour:   52428800,
		InjectionAction:   InjectionFlag,
		ConfirmWrites:     true,
		// A reason for every change: labs under Part 11 and Annex 11 need
		// it, and for others it costs a sentence per approved write.
		RequireReasonForChange: true,
		SignatureMeanings:      DefaultSignatureMeanings(),
		BlockDirectConnections: true,
	}
}
