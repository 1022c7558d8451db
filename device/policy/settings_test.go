package policy_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
)

// allKeysJSON sets every key to a value that differs from its default.
const allKeysJSON = `{
  "Enabled": false,
  "UpstreamURL": "https://mcp.example.org/lab/",
  "UpstreamProxy": "http://proxy.example.org:3128",
  "AllowedTools": ["list_labsheets", "get_labsheet_row"],
  "DeniedTools": ["get_image_thumbnail"],
  "AllowWriteTools": true,
  "AllowedClients": ["claude-ai", "cursor-vscode"],
  "AuthorizedUsers": ["alice", "bob"],
  "RequireEnrollment": false,
  "ManagedBy": "Ansible",
  "AllowDemo": false,
  "AllowLocalHTTP": true,
  "MaxCallsPerMinute": 10,
  "MaxResultBytes": 1024,
  "MaxBytesPerHour": 0,
  "InjectionAction": "block",
  "ConfirmWrites": false,
  "RequireReasonForChange": false,
  "SignatureMeanings": ["Reviewed and approved", "Rejected", "Not applicable"],
  "AcceptedToolDefinitions": ["get_experiment@3F9A0C1D2E4B", "list_labsheets@3f9a0c1d2e4b5a6978879605a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f"],
  "AuditOTLPEndpoint": "https://collector.lab.example:4318",
  "AuditOTLPHeaders": ["Authorization: Splunk 1234"],
  "AuditSyslog": "tls://syslog.lab.example:6514",
  "AuditCAFile": "/etc/ssl/lab-ca.pem",
  "AuditMaxUndeliveredHours": 72,
  "BlockDirectConnections": false,
  "AllowedClientExecutables": ["/usr/bin/claude", "C:\\Program Files\\Claude\\*.exe"],
  "AllowedClientSigners": ["Q6L2SF6YDW", "Anthropic, PBC"]
}`

func TestParseJSONEveryKey(t *testing.T) {
	s, err := policy.ParseJSON([]byte(allKeysJSON))
	if err != nil {
		t.Fatalf("ParseJSON: %v", err)
	}
	want := policy.Settings{
		"Enabled":                false,
		"UpstreamURL":            "https://mcp.example.org/lab/",
		"UpstreamProxy":          "http://proxy.example.org:3128",
		"AllowedTools":           []string{"list_labsheets", "get_labsheet_row"},
		"DeniedTools":            []string{"get_image_thumbnail"},
		"AllowWriteTools":        true,
		"AllowedClients":         []string{"claude-ai", "cursor-vscode"},
		"AuthorizedUsers":        []string{"alice", "bob"},
		"RequireEnrollment":      false,
		"ManagedBy":              "Ansible",
		"AllowDemo":              false,
		"AllowLocalHTTP":         true,
		"MaxCallsPerMinute":      int64(10),
		"MaxResultBytes":         int64(1024),
		"MaxBytesPerHour":        int64(0),
		"InjectionAction":        "block",
		"ConfirmWrites":          false,
		"RequireReasonForChange": false,
		"SignatureMeanings":      []string{"Reviewed and approved", "Rejected", "Not applicable"},
		"AcceptedToolDefinitions": []string{"get_experiment@3F9A0C1D2E4B",
			"list_labsheets@3f9a0c1d2e4b5a6978879605a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f"},
		"AuditOTLPEndpoint":        "https://collector.lab.example:4318",
		"AuditOTLPHeaders":         []string{"Authorization: Splunk 1234"},
		"AuditSyslog":              "tls://syslog.lab.example:6514",
		"AuditCAFile":              "/etc/ssl/lab-ca.pem",
		"AuditMaxUndeliveredHours": int64(72),
		"BlockDirectConnections":   false,
		"AllowedClientExecutables": []string{"/usr/bin/claude", `C:\Program Files\Claude\*.exe`},
		"AllowedClientSigners":     []string{"Q6L2SF6YDW", "Anthropic, PBC"},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if len(s) != len(policy.Keys()) {
		t.Errorf("the test sets %d keys, the policy has %d: cover the new key", len(s), len(policy.Keys()))
	}

	got := policy.Resolve(s)
	wantPolicy := policy.Policy{
		Enabled:                false,
		UpstreamURL:            "https://mcp.example.org/lab/",
		UpstreamProxy:          "http://proxy.example.org:3128",
		AllowedTools:           []string{"list_labsheets", "get_labsheet_row"},
		DeniedTools:            []string{"get_image_thumbnail"},
		AllowWriteTools:        true,
		AllowedClients:         []string{"claude-ai", "cursor-vscode"},
		AuthorizedUsers:        []string{"alice", "bob"},
		RequireEnrollment:      false,
		ManagedBy:              "Ansible",
		AllowDemo:              false,
		AllowLocalHTTP:         true,
		MaxCallsPerMinute:      10,
		MaxResultBytes:         1024,
		MaxBytesPerHour:        0,
		InjectionAction:        policy.InjectionBlock,
		ConfirmWrites:          false,
		RequireReasonForChange: false,
		SignatureMeanings:      []string{"Reviewed and approved", "Rejected", "Not applicable"},
		AcceptedToolDefinitions: []string{"get_experiment@3F9A0C1D2E4B",
			"list_labsheets@3f9a0c1d2e4b5a6978879605a4b3c2d1e0f1a2b3c4d5e6f708192a3b4c5d6e7f"},
		AuditOTLPEndpoint:        "https://collector.lab.example:4318",
		AuditOTLPHeaders:         []string{"Authorization: Splunk 1234"},
		AuditSyslog:              "tls://syslog.lab.example:6514",
		AuditCAFile:              "/etc/ssl/lab-ca.pem",
		AuditMaxUndeliveredHours: 72,
		AllowedClientExecutables: []string{"/usr/bin/claude", `C:\Program Files\Claude\*.exe`},
		AllowedClientSigners:     []string{"Q6L2SF6YDW", "Anthropic, PBC"},
	}
	if diff := cmp.Diff(wantPolicy, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
}

func TestParseJSONAccepts(t *testing.T) {
	tests := []struct {
		name string
		json string
		want policy.Settings
	}{
		{"empty object", `{}`, policy.Settings{}},
		{"whitespace around", " \n{ }\n\t", policy.Settings{}},
		{"empty list kept", `{"AllowedTools": []}`, policy.Settings{"AllowedTools": []string{}}},
		{"escaped key name", `{"Enabl\u0065d": true}`, policy.Settings{"Enabled": true}},
		{"zero int", `{"MaxCallsPerMinute": 0}`, policy.Settings{"MaxCallsPerMinute": int64(0)}},
		{"minus zero", `{"MaxCallsPerMinute": -0}`, policy.Settings{"MaxCallsPerMinute": int64(0)}},
		{"largest int64", `{"MaxBytesPerHour": 9223372036854775807}`, policy.Settings{"MaxBytesPerHour": int64(math.MaxInt64)}},
		{"largest calls", `{"MaxCallsPerMinute": 2147483647}`, policy.Settings{"MaxCallsPerMinute": int64(math.MaxInt32)}},
		{"injection flag", `{"InjectionAction": "flag"}`, policy.Settings{"InjectionAction": "flag"}},
		{"injection redact", `{"InjectionAction": "redact"}`, policy.Settings{"InjectionAction": "redact"}},
		{"empty ManagedBy", `{"ManagedBy": ""}`, policy.Settings{"ManagedBy": ""}},
		{"https with port and path", `{"UpstreamURL": "https://mcp.example.org:8443/v1/mcp"}`, policy.Settings{"UpstreamURL": "https://mcp.example.org:8443/v1/mcp"}},
		{"upper-case scheme", `{"UpstreamURL": "HTTPS://mcp.scispot.io/"}`, policy.Settings{"UpstreamURL": "HTTPS://mcp.scispot.io/"}},
		{"http 127.0.0.1", `{"UpstreamURL": "http://127.0.0.1:8080/"}`, policy.Settings{"UpstreamURL": "http://127.0.0.1:8080/"}},
		{"http 127.9.9.9", `{"UpstreamURL": "http://127.9.9.9/"}`, policy.Settings{"UpstreamURL": "http://127.9.9.9/"}},
		{"http ::1", `{"UpstreamURL": "http://[::1]:9000/mcp"}`, policy.Settings{"UpstreamURL": "http://[::1]:9000/mcp"}},
		{"http localhost", `{"UpstreamURL": "http://localhost:3000"}`, policy.Settings{"UpstreamURL": "http://localhost:3000"}},
		{"http LOCALHOST", `{"UpstreamURL": "http://LocalHost/"}`, policy.Settings{"UpstreamURL": "http://LocalHost/"}},
		{"no proxy", `{"UpstreamProxy": ""}`, policy.Settings{"UpstreamProxy": ""}},
		{"http proxy", `{"UpstreamProxy": "http://proxy.lab.example:3128"}`, policy.Settings{"UpstreamProxy": "http://proxy.lab.example:3128"}},
		{"https proxy", `{"UpstreamProxy": "https://proxy.lab.example:8443"}`, policy.Settings{"UpstreamProxy": "https://proxy.lab.example:8443"}},
		{"proxy without port", `{"UpstreamProxy": "http://proxy.lab.example"}`, policy.Settings{"UpstreamProxy": "http://proxy.lab.example"}},
		{"proxy with slash", `{"UpstreamProxy": "http://10.1.2.3:8080/"}`, policy.Settings{"UpstreamProxy": "http://10.1.2.3:8080/"}},
		{"proxy IPv6", `{"UpstreamProxy": "http://[fd00::1]:3128"}`, policy.Settings{"UpstreamProxy": "http://[fd00::1]:3128"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.ParseJSON([]byte(tt.json))
			if err != nil {
				t.Fatalf("ParseJSON(%s): %v", tt.json, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJSONRejects(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // the exact error message
	}{
		// Keys.
		{"unknown key", `{"Foo": 1}`, `policy key "Foo" is not a known key`},
		{"wrong case", `{"enabled": true}`, `policy key "enabled" is not a known key (key names are case-sensitive: did you mean "Enabled"?)`},
		{"duplicate key", `{"Enabled": true, "Enabled": true}`, `policy key "Enabled" is set more than once`},
		{"duplicate through escape", `{"Enabled": true, "Enabl\u0065d": false}`, `policy key "Enabled" is set more than once`},

		{"relative executable glob", `{"AllowedClientExecutables": ["claude"]}`, `policy key "AllowedClientExecutables" item 1 ("claude") must be an absolute path glob, such as "/usr/bin/claude", "/Applications/Claude.app/**" or "C:\\Program Files\\Claude\\*.exe"`},
		{"unbalanced executable glob", `{"AllowedClientExecutables": ["/usr/bin/claude", "/opt/[ab/claude"]}`, `policy key "AllowedClientExecutables" item 2 ("/opt/[ab/claude") is not a valid path glob (unbalanced [ ] or { }, or a trailing \)`},
		{"unbalanced windows glob", `{"AllowedClientExecutables": ["C:\\Program Files\\{Claude\\*.exe"]}`, `policy key "AllowedClientExecutables" item 1 ("C:\\Program Files\\{Claude\\*.exe") is not a valid path glob (unbalanced [ ] or { })`},
		{"empty executable glob", `{"AllowedClientExecutables": [" "]}`, `policy key "AllowedClientExecutables" item 1 is empty (give an absolute path glob such as "/usr/bin/claude")`},
		{"ad-hoc signer", `{"AllowedClientSigners": ["ad-hoc"]}`, `policy key "AllowedClientSigners" item 1 is "ad-hoc", which names no one: an ad-hoc signature can be made by anybody`},
		{"empty signer", `{"AllowedClientSigners": [""]}`, `policy key "AllowedClientSigners" must not contain an empty string (item 1)`},

		// Wrong types, one per kind and JSON type.
		{"bool as string", `{"Enabled": "true"}`, `policy key "Enabled" must be a boolean, got string`},
		{"bool as number", `{"AllowDemo": 1}`, `policy key "AllowDemo" must be a boolean, got number`},
		{"bool as null", `{"ConfirmWrites": null}`, `policy key "ConfirmWrites" must be a boolean, got null`},
		{"accepted tool without hash", `{"AcceptedToolDefinitions": ["get_experiment"]}`, `policy key "AcceptedToolDefinitions" item 1: "get_experiment" is not TOOL@SHA256 (such as "get_experiment@3f9a0c1d2e4b")`},
		{"accepted tool hash too short", `{"AcceptedToolDefinitions": ["get_experiment@3f9a0c"]}`, `policy key "AcceptedToolDefinitions" item 1: "get_experiment@3f9a0c" must give 12 to 64 hex digits of the definition's SHA-256 after the @`},
		{"accepted tool hash not hex", `{"AcceptedToolDefinitions": ["a@3f9a0c1d2e4bzz"]}`, `policy key "AcceptedToolDefinitions" item 1: "a@3f9a0c1d2e4bzz" has something other than hex digits after the @`},
		{"accepted tool without name", `{"AcceptedToolDefinitions": ["@3f9a0c1d2e4b"]}`, `policy key "AcceptedToolDefinitions" item 1: "@3f9a0c1d2e4b" does not start with a tool name`},
		{"string as number", `{"ManagedBy": 5}`, `policy key "ManagedBy" must be a string, got number`},
		{"string as list", `{"UpstreamURL": ["https://a/"]}`, `policy key "UpstreamURL" must be a string, got list`},
		{"list as string", `{"AllowedTools": "list_labsheets"}`, `policy key "AllowedTools" must be a list of strings, got string`},
		{"list as object", `{"DeniedTools": {}}`, `policy key "DeniedTools" must be a list of strings, got object`},
		{"list as null", `{"AllowedClients": null}`, `policy key "AllowedClients" must be a list of strings, got null`},
		{"list item number", `{"AuthorizedUsers": ["alice", 7]}`, `policy key "AuthorizedUsers" must be a list of strings, got number at item 2`},
		{"list item empty", `{"AllowedTools": ["a", ""]}`, `policy key "AllowedTools" must not contain an empty string (item 2)`},
		{"int as string", `{"MaxResultBytes": "1024"}`, `policy key "MaxResultBytes" must be an integer, got string`},
		{"int as bool", `{"MaxCallsPerMinute": true}`, `policy key "MaxCallsPerMinute" must be an integer, got boolean`},
		{"int fraction", `{"MaxResultBytes": 1.5}`, `policy key "MaxResultBytes" must be an integer, got 1.5`},
		{"int written as real", `{"MaxResultBytes": 1.0}`, `policy key "MaxResultBytes" must be an integer, got 1.0`},
		{"int exponent", `{"MaxBytesPerHour": 1e6}`, `policy key "MaxBytesPerHour" must be an integer, got 1e6`},
		{"int negative", `{"MaxCallsPerMinute": -1}`, `policy key "MaxCallsPerMinute" must not be negative, got -1`},
		{"int huge negative", `{"MaxResultBytes": -99999999999999999999}`, `policy key "MaxResultBytes" must not be negative, got -99999999999999999999`},
		{"int too large", `{"MaxBytesPerHour": 9223372036854775808}`, `policy key "MaxBytesPerHour" must be at most 9223372036854775807, got 9223372036854775808`},
		{"calls too large", `{"MaxCallsPerMinute": 2147483648}`, `policy key "MaxCallsPerMinute" must be at most 2147483647, got 2147483648`},

		// InjectionAction.
		{"injection unknown", `{"InjectionAction": "warn"}`, `policy key "InjectionAction" must be "flag", "redact" or "block", got "warn"`},
		{"injection case", `{"InjectionAction": "Block"}`, `policy key "InjectionAction" must be "flag", "redact" or "block", got "Block"`},
		{"injection empty", `{"InjectionAction": ""}`, `policy key "InjectionAction" must be "flag", "redact" or "block", got ""`},

		// UpstreamURL.
		{"url plain http", `{"UpstreamURL": "http://mcp.scispot.io/"}`, `policy key "UpstreamURL" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://mcp.scispot.io/"`},
		{"url http private address", `{"UpstreamURL": "http://10.0.0.1/"}`, `policy key "UpstreamURL" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://10.0.0.1/"`},
		{"url http localhost lookalike", `{"UpstreamURL": "http://localhost.example.com/"}`, `policy key "UpstreamURL" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://localhost.example.com/"`},
		{"url http 0.0.0.0", `{"UpstreamURL": "http://0.0.0.0/"}`, `policy key "UpstreamURL" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://0.0.0.0/"`},
		{"url ftp", `{"UpstreamURL": "ftp://mcp.scispot.io/"}`, `policy key "UpstreamURL" must be an https URL, got scheme "ftp"`},
		{"url relative", `{"UpstreamURL": "/mcp"}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got "/mcp"`},
		{"url no scheme", `{"UpstreamURL": "mcp.scispot.io"}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got "mcp.scispot.io"`},
		{"url opaque", `{"UpstreamURL": "https:mcp.scispot.io"}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got "https:mcp.scispot.io"`},
		{"url no host", `{"UpstreamURL": "https:///mcp"}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got "https:///mcp"`},
		{"url port only", `{"UpstreamURL": "https://:443/"}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got "https://:443/"`},
		{"url empty", `{"UpstreamURL": ""}`, `policy key "UpstreamURL" must be an absolute https URL with a host, got ""`},
		{"url unparsable", `{"UpstreamURL": "https://[::1"}`, `policy key "UpstreamURL" must be an absolute https URL, got "https://[::1"`},
		{"url credentials", `{"UpstreamURL": "https://user:secret@mcp.scispot.io/"}`, `policy key "UpstreamURL" must not contain a user name or password`},

		// SignatureMeanings.
		{"meanings empty", `{"SignatureMeanings": []}`, `policy key "SignatureMeanings" must name at least one meaning, such as ["Approved", "Rejected"]`},
		{"meanings empty item", `{"SignatureMeanings": ["Approved", ""]}`, `policy key "SignatureMeanings" must not contain an empty string (item 2)`},
		{"meanings duplicate", `{"SignatureMeanings": ["Approved", "Rejected", "approved"]}`, `policy key "SignatureMeanings" names "approved" twice (items 1 and 3)`},
		{"meanings spaces", `{"SignatureMeanings": ["Approved "]}`, `policy key "SignatureMeanings" item 1 "Approved " has leading or trailing spaces`},
		{"meanings control", `{"SignatureMeanings": ["Appro\u0000ved"]}`, `policy key "SignatureMeanings" item 1 "Appro\x00ved" has characters that do not print`},
		{"meanings bidi", `{"SignatureMeanings": ["Approved\u202e"]}`, `policy key "SignatureMeanings" item 1 "Approved\u202e" has characters that do not print`},
		{"meanings too long", `{"SignatureMeanings": ["` + strings.Repeat("a", 65) + `"]}`, `policy key "SignatureMeanings" item 1 is longer than 64 bytes`},
		{"meanings none approves", `{"SignatureMeanings": ["Rejected", "Not approved"]}`, `policy key "SignatureMeanings" has no meaning that approves a write (["Rejected" "Not approved"] all refuse it: a meaning refuses when a word starts with reject, declin, deny, disapprov or refus, or is not or no)`},
		{"meanings too many", `{"SignatureMeanings": ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`, `policy key "SignatureMeanings" names 17 meanings; at most 16 are allowed`},
		{"reason as string", `{"RequireReasonForChange": "yes"}`, `policy key "RequireReasonForChange" must be a boolean, got string`},

		// UpstreamProxy.
		{"proxy as list", `{"UpstreamProxy": ["http://p:3128"]}`, `policy key "UpstreamProxy" must be a string, got list`},
		{"proxy no scheme", `{"UpstreamProxy": "proxy.lab.example:3128"}`, `policy key "UpstreamProxy" must be an http:// or https:// proxy URL such as http://proxy.example.org:3128, got "proxy.lab.example:3128"`},
		{"proxy socks", `{"UpstreamProxy": "socks5://127.0.0.1:1080"}`, `policy key "UpstreamProxy" must be an http:// or https:// proxy URL such as http://proxy.example.org:3128, got "socks5://127.0.0.1:1080"`},
		{"proxy unparsable", `{"UpstreamProxy": "http://[::1"}`, `policy key "UpstreamProxy" must be an http:// or https:// proxy URL such as http://proxy.example.org:3128, got "http://[::1"`},
		{"proxy no host", `{"UpstreamProxy": "http://:3128"}`, `policy key "UpstreamProxy" must be a proxy URL with a host, such as http://proxy.example.org:3128, got "http://:3128"`},
		{"proxy opaque", `{"UpstreamProxy": "http:proxy"}`, `policy key "UpstreamProxy" must be a proxy URL with a host, such as http://proxy.example.org:3128, got "http:proxy"`},
		{"proxy credentials", `{"UpstreamProxy": "http://lab:secret@proxy:3128"}`, `policy key "UpstreamProxy" must not contain a user name or password`},
		{"proxy port zero", `{"UpstreamProxy": "http://proxy:0"}`, `policy key "UpstreamProxy" has port "0", which is out of range`},
		{"proxy port too large", `{"UpstreamProxy": "http://proxy:65536"}`, `policy key "UpstreamProxy" has port "65536", which is out of range`},
		{"proxy empty port", `{"UpstreamProxy": "http://proxy:"}`, `policy key "UpstreamProxy" has an empty port, got "http://proxy:"`},
		{"proxy path", `{"UpstreamProxy": "http://proxy:3128/pac"}`, `policy key "UpstreamProxy" must be only the proxy's scheme, host and port (such as http://proxy.example.org:3128), got "http://proxy:3128/pac"`},
		{"proxy query", `{"UpstreamProxy": "http://proxy:3128?x=1"}`, `policy key "UpstreamProxy" must be only the proxy's scheme, host and port (such as http://proxy.example.org:3128), got "http://proxy:3128?x=1"`},
		{"proxy space", `{"UpstreamProxy": " http://proxy:3128"}`, `policy key "UpstreamProxy" must be an http:// or https:// proxy URL such as http://proxy.example.org:3128, got " http://proxy:3128"`},

		// Document shape.
		{"empty input", ``, `policy is not valid JSON: unexpected end of input`},
		{"not an object", `["Enabled"]`, `policy must be a JSON object, got a list`},
		{"top-level string", `"Enabled"`, `policy must be a JSON object, got string`},
		{"top-level null", `null`, `policy must be a JSON object, got null`},
		{"truncated", `{"Enabled": true`, `policy is not valid JSON: unexpected end of input`},
		{"trailing object", `{}{}`, `policy is not valid JSON at line 1, column 3: invalid character '{' after top-level value`},
		{"trailing garbage", "{}\n x", `policy is not valid JSON at line 2, column 2: invalid character 'x' after top-level value`},
		{"trailing comma", "{\n  \"Enabled\": true,\n}", `policy is not valid JSON at line 3, column 1: invalid character '}' looking for beginning of object key string`},
		{"comment", "{// no comments\n}", `policy is not valid JSON at line 1, column 2: invalid character '/' looking for beginning of object key string`},
		{"bad literal", "{\"Enabled\": tru}", `policy is not valid JSON at line 1, column 16: invalid character '}' in literal true (expecting 'e')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.ParseJSON([]byte(tt.json))
			if err == nil {
				t.Fatalf("ParseJSON(%s) = %v, want error %q", tt.json, s, tt.want)
			}
			if !errors.Is(err, policy.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			if s != nil {
				t.Errorf("settings = %v, want nil on error", s)
			}
		})
	}
}

// TestParseJSONSyntaxErrorCause checks that a syntax error keeps its cause
// for callers that want the position.
func TestParseJSONSyntaxErrorCause(t *testing.T) {
	_, err := policy.ParseJSON([]byte(`{"Enabled": tru}`))
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v does not wrap *json.SyntaxError", err)
	}
	if !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("error %v does not wrap ErrInvalid", err)
	}
}

func TestFromValues(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]any
		want    policy.Settings
		wantErr string
	}{
		{
			name: "plist types",
			values: map[string]any{
				"Enabled":           true,
				"AllowedTools":      []any{"list_labsheets"},
				"DeniedTools":       []string{"get_manifest"},
				"MaxCallsPerMinute": uint64(30),
				"MaxResultBytes":    int64(4096),
				"MaxBytesPerHour":   int(7),
				"InjectionAction":   "redact",
			},
			want: policy.Settings{
				"Enabled":           true,
				"AllowedTools":      []string{"list_labsheets"},
				"DeniedTools":       []string{"get_manifest"},
				"MaxCallsPerMinute": int64(30),
				"MaxResultBytes":    int64(4096),
				"MaxBytesPerHour":   int64(7),
				"InjectionAction":   "redact",
			},
		},
		{name: "nil map", values: nil, want: policy.Settings{}},
		{name: "small int types", values: map[string]any{"MaxCallsPerMinute": uint8(5), "MaxResultBytes": int32(6), "MaxBytesPerHour": uint32(8)},
			want: policy.Settings{"MaxCallsPerMinute": int64(5), "MaxResultBytes": int64(6), "MaxBytesPerHour": int64(8)}},
		{name: "real for int", values: map[string]any{"MaxResultBytes": 2.0}, wantErr: `policy key "MaxResultBytes" must be an integer, got real number`},
		{name: "uint64 too large", values: map[string]any{"MaxResultBytes": uint64(math.MaxUint64)}, wantErr: `policy key "MaxResultBytes" must be at most 9223372036854775807, got 18446744073709551615`},
		{name: "negative int64", values: map[string]any{"MaxResultBytes": int64(-5)}, wantErr: `policy key "MaxResultBytes" must not be negative, got -5`},
		{name: "int for bool", values: map[string]any{"Enabled": uint64(1)}, wantErr: `policy key "Enabled" must be a boolean, got integer`},
		{name: "data for string", values: map[string]any{"ManagedBy": []byte("x")}, wantErr: `policy key "ManagedBy" must be a string, got data`},
		{name: "dictionary for list", values: map[string]any{"AllowedTools": map[string]any{}}, wantErr: `policy key "AllowedTools" must be a list of strings, got object`},
		{name: "list of ints", values: map[string]any{"AllowedTools": []any{uint64(1)}}, wantErr: `policy key "AllowedTools" must be a list of strings, got integer at item 1`},
		{name: "unknown key", values: map[string]any{"Bar": true}, wantErr: `policy key "Bar" is not a known key`},
		{name: "first bad key in sorted order", values: map[string]any{"Zed": 1, "Alpha": 1, "Enabled": "no"}, wantErr: `policy key "Alpha" is not a known key`},
		{name: "url rules apply", values: map[string]any{"UpstreamURL": "http://example.com/"}, wantErr: `policy key "UpstreamURL" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://example.com/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.FromValues(tt.values)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, policy.ErrInvalid) {
					t.Fatalf("FromValues error = %v, want %q wrapping ErrInvalid", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromValues: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFromValuesDoesNotAlias checks that settings do not share a list with
// the caller's input, so later changes to the input change nothing.
func TestFromValuesDoesNotAlias(t *testing.T) {
	in := []string{"a"}
	s, err := policy.FromValues(map[string]any{"AllowedTools": in})
	if err != nil {
		t.Fatal(err)
	}
	in[0] = "changed"
	if got := s["AllowedTools"].([]string)[0]; got != "a" {
		t.Errorf("settings changed with the input: %q", got)
	}
}

func TestKeys(t *testing.T) {
	keys := policy.Keys()
	if len(keys) != 28 {
		t.Errorf("Keys() has %d keys, want 28", len(keys))
	}
	want := []string{"Enabled", "UpstreamURL", "UpstreamProxy", "AllowedTools", "DeniedTools", "AllowWriteTools",
		"AllowedClients", "AuthorizedUsers", "RequireEnrollment", "ManagedBy", "AllowDemo",
		"AllowLocalHTTP", "MaxCallsPerMinute", "MaxResultBytes", "MaxBytesPerHour",
		"InjectionAction", "ConfirmWrites", "RequireReasonForChange", "SignatureMeanings",
		"AcceptedToolDefinitions",
		"AuditOTLPEndpoint", "AuditOTLPHeaders", "AuditSyslog", "AuditCAFile", "AuditMaxUndeliveredHours",
		"BlockDirectConnections", "AllowedClientExecutables", "AllowedClientSigners"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	keys[0] = "changed"
	if policy.Keys()[0] != "Enabled" {
		t.Error("Keys returned the package's own slice")
	}
	for _, k := range want {
		if strings.TrimSpace(k) != k {
			t.Errorf("key %q has spaces", k)
		}
	}
}

func TestMeaningAuthorises(t *testing.T) {
	for _, tc := range []struct {
		meaning string
		want    bool
	}{
		{"Approved", true},
		{"Reviewed and approved", true},
		{"Verified", true},
		{"Authored", true},
		{"Notes checked", true}, // "notes" is not "not"
		{"Normal", true},
		{"Rejected", false},
		{"REJECT", false},
		{"Rejection", false},
		{"Declined", false},
		{"Denied", false},
		{"Deny", false},
		{"Disapproved", false},
		{"Refused", false},
		{"Not approved", false},
		{"not-approved", false},
		{"No", false},
		{"", false},
		{"  ", false},
	} {
		if got := policy.MeaningAuthorises(tc.meaning); got != tc.want {
			t.Errorf("MeaningAuthorises(%q) = %v, want %v", tc.meaning, got, tc.want)
		}
	}
}
