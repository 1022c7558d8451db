package policy

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The policy key names of design.md. They are case-sensitive and are the
// same in the Linux JSON file, the macOS plist and the Windows registry.
const (
	KeyEnabled           = "Enabled"
	KeyUpstreamURL       = "UpstreamURL"
	KeyUpstreamProxy     = "UpstreamProxy"
	KeyAllowedTools      = "AllowedTools"
	KeyDeniedTools       = "DeniedTools"
	KeyAllowWriteTools   = "AllowWriteTools"
	KeyAllowedClients    = "AllowedClients"
	KeyAuthorizedUsers   = "AuthorizedUsers"
	KeyRequireEnrollment = "RequireEnrollment"
	KeyManagedBy         = "ManagedBy"
	KeyAllowDemo         = "AllowDemo"
	KeyAllowLocalHTTP    = "AllowLocalHTTP"
	KeyMaxCallsPerMinute = "MaxCallsPerMinute"
	KeyMaxResultBytes    = "MaxResultBytes"
	KeyMaxBytesPerHour   = "MaxBytesPerHour"
	KeyInjectionAction   = "InjectionAction"
	KeyConfirmWrites     = "ConfirmWrites"
	// KeyRequireReasonForChange and KeySignatureMeanings make write
	// approvals electronic signatures (21 CFR 11.50, EU GMP Annex 11 §9).
	KeyRequireReasonForChange = "RequireReasonForChange"
	KeySignatureMeanings      = "SignatureMeanings"
	// KeyAcceptedToolDefinitions lists tool definitions the admin accepts
	// ("TOOL@SHA256", at least 12 hex digits of the definition's hash):
	// a pinned tool whose definition changed to one of them is not
	// withheld (package mcpserver/pin).
	KeyAcceptedToolDefinitions = "AcceptedToolDefinitions"
	// The audit destinations: every record is forwarded to the lab's own
	// log pipeline (OTLP/HTTP logs, or RFC 5424 syslog over TCP/TLS).
	KeyAuditOTLPEndpoint        = "AuditOTLPEndpoint"
	KeyAuditOTLPHeaders         = "AuditOTLPHeaders"
	KeyAuditSyslog              = "AuditSyslog"
	KeyAuditCAFile              = "AuditCAFile"
	KeyAuditMaxUndeliveredHours = "AuditMaxUndeliveredHours"
	// KeyBlockDirectConnections makes the service keep the AI clients'
	// own machine-level settings denying direct connections to Scispot
	// (package mcpserver/sidedoor).
	// KeyAllowedClientExecutables and KeyAllowedClientSigners pin the
	// approved AI clients to the program that launches serve, which the
	// service learns from the kernel (AllowedClients is only the name a
	// client reports about itself).
	KeyBlockDirectConnections   = "BlockDirectConnections"
	KeyAllowedClientExecutables = "AllowedClientExecutables"
	KeyAllowedClientSigners     = "AllowedClientSigners"
)

// kind is the type of a policy key's value. Each kind has one canonical Go
// type in Settings: bool, string, []string or int64.
type kind uint8

const (
	kindBool kind = iota + 1
	kindString
	kindStrings
	kindInt
)

// String names the kind as the error messages use it.
func (k kind) String() string {
	switch k {
	case kindBool:
		return "a boolean"
	case kindString:
		return "a string"
	case kindStrings:
		return "a list of strings"
	case kindInt:
		return "an integer"
	}
	return "unknown"
}

// keyDef defines one policy key: how its value is checked beyond its kind,
// and where it lives in Policy.
type keyDef struct {
	name string
	kind kind
	// max bounds kindInt values (the minimum is always 0) so that they fit
	// the Policy field.
	max int64
	// check validates a value of the right kind and returns the problem,
	// phrased to follow `policy key "X"`; nil accepts every value.
	check func(v any) string
	set   func(p *Policy, v any)
	get   func(p Policy) any
}

// keyTable lists every key in the order of design.md's table. It is
// read-only: nothing assigns to it after initialisation.
var keyTable = [...]keyDef{
	{name: KeyEnabled, kind: kindBool,
		set: func(p *Policy, v any) { p.Enabled = v.(bool) },
		get: func(p Policy) any { return p.Enabled }},
	{name: KeyUpstreamURL, kind: kindString, check: checkUpstreamURL,
		set: func(p *Policy, v any) { p.UpstreamURL = v.(string) },
		get: func(p Policy) any { return p.UpstreamURL }},
	{name: KeyUpstreamProxy, kind: kindString, check: checkUpstreamProxy,
		set: func(p *Policy, v any) { p.UpstreamProxy = v.(string) },
		get: func(p Policy) any { return p.UpstreamProxy }},
	{name: KeyAllowedTools, kind: kindStrings,
		set: func(p *Policy, v any) { p.AllowedTools = cloneList(v.([]string)) },
		get: func(p Policy) any { return cloneList(p.AllowedTools) }},
	{name: KeyDeniedTools, kind: kindStrings,
		set: func(p *Policy, v any) { p.DeniedTools = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.DeniedTools) }},
	{name: KeyAllowWriteTools, kind: kindBool,
		set: func(p *Policy, v any) { p.AllowWriteTools = v.(bool) },
		get: func(p Policy) any { return p.AllowWriteTools }},
	{name: KeyAllowedClients, kind: kindStrings,
		set: func(p *Policy, v any) { p.AllowedClients = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AllowedClients) }},
	{name: KeyAuthorizedUsers, kind: kindStrings,
		set: func(p *Policy, v any) { p.AuthorizedUsers = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AuthorizedUsers) }},
	{name: KeyRequireEnrollment, kind: kindBool,
		set: func(p *Policy, v any) { p.RequireEnrollment = v.(bool) },
		get: func(p Policy) any { return p.RequireEnrollment }},
	{name: KeyManagedBy, kind: kindString,
		set: func(p *Policy, v any) { p.ManagedBy = v.(string) },
		get: func(p Policy) any { return p.ManagedBy }},
	{name: KeyAllowDemo, kind: kindBool,
		set: func(p *Policy, v any) { p.AllowDemo = v.(bool) },
		get: func(p Policy) any { return p.AllowDemo }},
	{name: KeyAllowLocalHTTP, kind: kindBool,
		set: func(p *Policy, v any) { p.AllowLocalHTTP = v.(bool) },
		get: func(p Policy) any { return p.AllowLocalHTTP }},
	// MaxCallsPerMinute is an int in Policy; bounding it to 32 bits keeps
	// it meaningful on every platform.
	{name: KeyMaxCallsPerMinute, kind: kindInt, max: math.MaxInt32,
		set: func(p *Policy, v any) { p.MaxCallsPerMinute = int(v.(int64)) },
		get: func(p Policy) any { return int64(p.MaxCallsPerMinute) }},
	{name: KeyMaxResultBytes, kind: kindInt, max: math.MaxInt64,
		set: func(p *Policy, v any) { p.MaxResultBytes = v.(int64) },
		get: func(p Policy) any { return p.MaxResultBytes }},
	{name: KeyMaxBytesPerHour, kind: kindInt, max: math.MaxInt64,
		set: func(p *Policy, v any) { p.MaxBytesPerHour = v.(int64) },
		get: func(p Policy) any { return p.MaxBytesPerHour }},
	{name: KeyInjectionAction, kind: kindString, check: checkInjectionAction,
		set: func(p *Policy, v any) { p.InjectionAction = v.(string) },
		get: func(p Policy) any { return p.InjectionAction }},
	{name: KeyConfirmWrites, kind: kindBool,
		set: func(p *Policy, v any) { p.ConfirmWrites = v.(bool) },
		get: func(p Policy) any { return p.ConfirmWrites }},
	{name: KeyRequireReasonForChange, kind: kindBool,
		set: func(p *Policy, v any) { p.RequireReasonForChange = v.(bool) },
		get: func(p Policy) any { return p.RequireReasonForChange }},
	{name: KeySignatureMeanings, kind: kindStrings, check: checkSignatureMeanings,
		set: func(p *Policy, v any) { p.SignatureMeanings = cloneList(v.([]string)) },
		get: func(p Policy) any { return cloneList(p.SignatureMeanings) }},
	{name: KeyAcceptedToolDefinitions, kind: kindStrings, check: checkAcceptedTools,
		set: func(p *Policy, v any) { p.AcceptedToolDefinitions = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AcceptedToolDefinitions) }},
	{name: KeyAuditOTLPEndpoint, kind: kindString, check: checkAuditOTLPEndpoint,
		set: func(p *Policy, v any) { p.AuditOTLPEndpoint = v.(string) },
		get: func(p Policy) any { return p.AuditOTLPEndpoint }},
	{name: KeyAuditOTLPHeaders, kind: kindStrings, check: checkAuditOTLPHeaders,
		set: func(p *Policy, v any) { p.AuditOTLPHeaders = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AuditOTLPHeaders) }},
	{name: KeyAuditSyslog, kind: kindString, check: checkAuditSyslog,
		set: func(p *Policy, v any) { p.AuditSyslog = v.(string) },
		get: func(p Policy) any { return p.AuditSyslog }},
	{name: KeyAuditCAFile, kind: kindString, check: checkAuditCAFile,
		set: func(p *Policy, v any) { p.AuditCAFile = v.(string) },
		get: func(p Policy) any { return p.AuditCAFile }},
	// A year of hours is more than any lab would wait; the bound keeps
	// the hours-to-duration conversion far from overflow.
	{name: KeyAuditMaxUndeliveredHours, kind: kindInt, max: 24 * 366,
		set: func(p *Policy, v any) { p.AuditMaxUndeliveredHours = int(v.(int64)) },
		get: func(p Policy) any { return int64(p.AuditMaxUndeliveredHours) }},
	{name: KeyBlockDirectConnections, kind: kindBool,
		set: func(p *Policy, v any) { p.BlockDirectConnections = v.(bool) },
		get: func(p Policy) any { return p.BlockDirectConnections }},
	{name: KeyAllowedClientExecutables, kind: kindStrings, check: checkExecutableGlobs,
		set: func(p *Policy, v any) { p.AllowedClientExecutables = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AllowedClientExecutables) }},
	{name: KeyAllowedClientSigners, kind: kindStrings, check: checkSigners,
		set: func(p *Policy, v any) { p.AllowedClientSigners = cloneList(v.([]string)) },
		get: func(p Policy) any { return nonNilList(p.AllowedClientSigners) }},
}

// Keys returns every policy key name, in the order of design.md's table.
func Keys() []string {
	names := make([]string, len(keyTable))
	for i, d := range keyTable {
		names[i] = d.name
	}
	return names
}

// lookupKey returns the definition of the key with exactly that name.
func lookupKey(name string) (keyDef, bool) {
	for _, d := range keyTable {
		if d.name == name {
			return d, true
		}
	}
	return keyDef{}, false
}

// unknownKeyError names an unknown key and, when it differs from a known
// key only in case (keys are case-sensitive), the key that was meant.
func unknownKeyError(name string) error {
	for _, d := range keyTable {
		if strings.EqualFold(d.name, name) {
			return keyErrorf(name, "is not a known key (key names are case-sensitive: did you mean %q?)", d.name)
		}
	}
	return keyErrorf(name, "is not a known key")
}

func checkInjectionAction(v any) string {
	switch s := v.(string); s {
	case InjectionFlag, InjectionRedact, InjectionBlock:
		return ""
	default:
		return fmt.Sprintf("must be %q, %q or %q, got %q", InjectionFlag, InjectionRedact, InjectionBlock, s)
	}
}

// MinToolHashDigits is the fewest hex digits of a definition's SHA-256
// that an AcceptedToolDefinitions entry must give: 48 bits, as many as a
// token's fingerprint, so an upstream cannot aim a second definition at
// an admin's entry.
const MinToolHashDigits = 12

// ParseAcceptedTool splits an AcceptedToolDefinitions entry "TOOL@HEX"
// into the tool's name and the lowercase start of its definition's
// SHA-256 (MinToolHashDigits to 64 hex digits, as `scispot-mcp tools
// --all` prints it).
func ParseAcceptedTool(entry string) (name, hash string, err error) {
	i := strings.LastIndexByte(entry, '@')
	if i < 0 {
		return "", "", fmt.Errorf("%q is not TOOL@SHA256 (such as \"get_experiment@3f9a0c1d2e4b\")", entry)
	}
	name, hash = entry[:i], strings.ToLower(entry[i+1:])
	switch {
	case name == "" || strings.ContainsAny(name, " \t\r\n@"):
		return "", "", fmt.Errorf("%q does not start with a tool name", entry)
	case len(hash) < MinToolHashDigits || len(hash) > 64:
		return "", "", fmt.Errorf("%q must give %d to 64 hex digits of the definition's SHA-256 after the @", entry, MinToolHashDigits)
	case strings.TrimFunc(hash, func(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' }) != "":
		return "", "", fmt.Errorf("%q has something other than hex digits after the @", entry)
	}
	return name, hash, nil
}

func checkAcceptedTools(v any) string {
	for i, e := range v.([]string) {
		if _, _, err := ParseAcceptedTool(e); err != nil {
			return fmt.Sprintf("item %d: %v", i+1, err)
		}
	}
	return ""
}

// checkUpstreamURL accepts an absolute https URL, or plain http to a
// loopback host (a local test or proxy upstream), because the user's token
// travels to it as a Bearer header.
func checkUpstreamURL(v any) string {
	s := v.(string)
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("must be an absolute https URL, got %q", s)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Sprintf("must be an absolute https URL with a host, got %q", s)
	}
	if u.User != nil {
		// Credentials in the URL would be logged and shown; the token goes
		// in the Authorization header only.
		return "must not contain a user name or password"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got %q", s)
	default:
		return fmt.Sprintf("must be an https URL, got scheme %q", u.Scheme)
	}
}

// checkUpstreamProxy accepts "" (connect directly) or the address of an
// HTTP proxy: an http:// or https:// URL with a host and, optionally, a
// port, and nothing else. It is the only proxy the service uses: proxy
// settings in the environment are never read.
func checkUpstreamProxy(v any) string {
	s := v.(string)
	if s == "" {
		return ""
	}
	const example = "http://proxy.example.org:3128"
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("must be an http:// or https:// proxy URL such as %s, got %q", example, s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("must be an http:// or https:// proxy URL such as %s, got %q", example, s)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Sprintf("must be a proxy URL with a host, such as %s, got %q", example, s)
	}
	if u.User != nil {
		// Every user can read the effective policy (status --json).
		return "must not contain a user name or password"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("has port %q, which is out of range", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return fmt.Sprintf("has an empty port, got %q", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Sprintf("must be only the proxy's scheme, host and port (such as %s), got %q", example, s)
	}
	return ""
}

// checkAuditOTLPEndpoint accepts "" (no OTLP destination), an absolute
// https URL, or plain http to a loopback host (a collector on this
// machine): audit records name users, devices and what they did, so they
// cross the network only encrypted.
func checkAuditOTLPEndpoint(v any) string {
	s := v.(string)
	if s == "" {
		return ""
	}
	const example = "https://collector.lab.example:4318"
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("must be an https URL such as %s, got %q", example, s)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Sprintf("must be an absolute https URL with a host, such as %s, got %q", example, s)
	}
	if u.User != nil {
		// Every user can read the effective policy (status --json); an
		// ingest key belongs in AuditOTLPHeaders.
		return "must not contain a user name or password (put an ingest key in AuditOTLPHeaders)"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// The same: a key in the query would be shown to every user in
		// status and written in logs and errors with the URL. The value
		// is not quoted here for that reason.
		return "must not have a query or fragment (put an ingest key in AuditOTLPHeaders)"
	}
	if msg := checkPort(u.Port(), u.Host, s); msg != "" {
		return msg
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got %q", s)
	default:
		return fmt.Sprintf("must be an https URL such as %s, got scheme %q", example, u.Scheme)
	}
}

// checkAuditOTLPHeaders accepts "Name: value" lines with an HTTP token as
// the name and a value without control characters (a newline would split
// the header and smuggle another).
func checkAuditOTLPHeaders(v any) string {
	for i, h := range v.([]string) {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || !isHTTPToken(name) {
			// The value may be a secret: name the item, never quote it.
			return fmt.Sprintf("item %d must be a header as \"Name: value\" with a valid header name", i+1)
		}
		if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return fmt.Sprintf("item %d (header %s) must not contain control characters in its value", i+1, name)
		}
		switch strings.ToLower(name) {
		case "content-type", "content-length", "host", "transfer-encoding", "connection":
			return fmt.Sprintf("item %d sets header %s, which the service sets itself", i+1, name)
		}
	}
	return ""
}

// isHTTPToken reports whether s is an RFC 9110 token (a header name).
func isHTTPToken(s string) bool {
	for _, r := range s {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", r) {
			return false
		}
	}
	return s != ""
}

// checkAuditSyslog accepts "" (no syslog destination), tls://host:port
// (RFC 5425), or tcp://host:port to a loopback host only (a relay on this
// machine), for the same reason as checkAuditOTLPEndpoint.
func checkAuditSyslog(v any) string {
	s := v.(string)
	if s == "" {
		return ""
	}
	const example = "tls://syslog.lab.example:6514"
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return fmt.Sprintf("must be a syslog address such as %s, got %q", example, s)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Sprintf("must be only a scheme, host and port, such as %s, got %q", example, s)
	}
	if u.Port() == "" {
		return fmt.Sprintf("must name a port (6514 for TLS), such as %s, got %q", example, s)
	}
	if msg := checkPort(u.Port(), u.Host, s); msg != "" {
		return msg
	}
	switch u.Scheme {
	case "tls":
		return ""
	case "tcp":
		if isLoopbackHost(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("must use tls:// (plain tcp:// is allowed only for 127.0.0.1, ::1 and localhost), got %q", s)
	default:
		return fmt.Sprintf("must be a tls:// syslog address such as %s, got scheme %q", example, u.Scheme)
	}
}

// checkAuditCAFile accepts "" or an absolute path: the service runs with
// another working folder than the admin's shell.
func checkAuditCAFile(v any) string {
	s := v.(string)
	if s == "" || filepath.IsAbs(s) || isWindowsAbs(s) {
		return ""
	}
	return fmt.Sprintf("must be an absolute path to a PEM file, got %q", s)
}

// isWindowsAbs reports whether s is a drive-letter path such as
// C:\ProgramData\ca.pem, which filepath.IsAbs accepts only on Windows; the
// policy may be checked on another system than the one it is for.
func isWindowsAbs(s string) bool {
	return len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') &&
		('a' <= s[0]|0x20 && s[0]|0x20 <= 'z')
}

// checkPort checks an explicit port is a number in 1..65535.
func checkPort(port, host, s string) string {
	if port == "" {
		if strings.HasSuffix(host, ":") {
			return fmt.Sprintf("has an empty port, got %q", s)
		}
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("has port %q, which is out of range", port)
	}
	return ""
}

// isLoopbackHost reports whether host is localhost, an address in
// 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Zone() == "" && addr.IsLoopback()
}

// cloneList copies a list, keeping nil as nil and empty as empty: for
// AllowedTools they mean different things.
func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	return append(make([]string, 0, len(l)), l...)
}

// nonNilList copies a list, giving an empty list for nil, for keys where the
// two mean the same.
func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}
