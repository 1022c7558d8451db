package policy_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/device/policy"
)

// TestAuditDestinationKeys covers the audit forwarding keys: records name
// people and what they did, so they leave the machine only encrypted, and
// a policy that says otherwise is invalid with the key named.
func TestAuditDestinationKeys(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // "" = valid; else the exact error message
	}{
		{"otlp unset", `{"AuditOTLPEndpoint": ""}`, ""},
		{"otlp https", `{"AuditOTLPEndpoint": "https://collector.lab.example:4318"}`, ""},
		{"otlp https path", `{"AuditOTLPEndpoint": "https://collector.lab.example/otlp/v1/logs"}`, ""},
		{"otlp http loopback", `{"AuditOTLPEndpoint": "http://127.0.0.1:4318"}`, ""},
		{"otlp http localhost", `{"AuditOTLPEndpoint": "http://localhost:4318"}`, ""},
		{"otlp http ::1", `{"AuditOTLPEndpoint": "http://[::1]:4318"}`, ""},
		{"otlp http remote", `{"AuditOTLPEndpoint": "http://collector.lab.example:4318"}`, `policy key "AuditOTLPEndpoint" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://collector.lab.example:4318"`},
		{"otlp http private address", `{"AuditOTLPEndpoint": "http://10.1.2.3:4318"}`, `policy key "AuditOTLPEndpoint" must use https (plain http is allowed only for 127.0.0.1, ::1 and localhost), got "http://10.1.2.3:4318"`},
		{"otlp grpc scheme", `{"AuditOTLPEndpoint": "grpc://collector:4317"}`, `policy key "AuditOTLPEndpoint" must be an https URL such as https://collector.lab.example:4318, got scheme "grpc"`},
		{"otlp no scheme", `{"AuditOTLPEndpoint": "collector:4318"}`, `policy key "AuditOTLPEndpoint" must be an absolute https URL with a host, such as https://collector.lab.example:4318, got "collector:4318"`},
		{"otlp no host", `{"AuditOTLPEndpoint": "https:///v1/logs"}`, `policy key "AuditOTLPEndpoint" must be an absolute https URL with a host, such as https://collector.lab.example:4318, got "https:///v1/logs"`},
		{"otlp credentials", `{"AuditOTLPEndpoint": "https://u:p@collector/"}`, `policy key "AuditOTLPEndpoint" must not contain a user name or password (put an ingest key in AuditOTLPHeaders)`},
		{"otlp key in the query", `{"AuditOTLPEndpoint": "https://collector/v1/logs?api-key=5ecret"}`, `policy key "AuditOTLPEndpoint" must not have a query or fragment (put an ingest key in AuditOTLPHeaders)`},
		{"otlp fragment", `{"AuditOTLPEndpoint": "https://collector/#5ecret"}`, `policy key "AuditOTLPEndpoint" must not have a query or fragment (put an ingest key in AuditOTLPHeaders)`},
		{"otlp bad port", `{"AuditOTLPEndpoint": "https://collector:99999"}`, `policy key "AuditOTLPEndpoint" has port "99999", which is out of range`},
		{"otlp as list", `{"AuditOTLPEndpoint": ["https://c/"]}`, `policy key "AuditOTLPEndpoint" must be a string, got list`},

		{"headers", `{"AuditOTLPHeaders": ["Authorization: Splunk abc", "X-Scope-OrgID:lab1"]}`, ""},
		{"headers empty", `{"AuditOTLPHeaders": []}`, ""},
		{"header no colon", `{"AuditOTLPHeaders": ["Authorization Splunk abc"]}`, `policy key "AuditOTLPHeaders" item 1 must be a header as "Name: value" with a valid header name`},
		{"header bad name", `{"AuditOTLPHeaders": ["A b: c"]}`, `policy key "AuditOTLPHeaders" item 1 must be a header as "Name: value" with a valid header name`},
		{"header newline", `{"AuditOTLPHeaders": ["X-Key: a\r\nHost: evil"]}`, `policy key "AuditOTLPHeaders" item 1 (header X-Key) must not contain control characters in its value`},
		{"header content type", `{"AuditOTLPHeaders": ["ok: 1", "Content-Type: text/plain"]}`, `policy key "AuditOTLPHeaders" item 2 sets header Content-Type, which the service sets itself`},

		{"syslog unset", `{"AuditSyslog": ""}`, ""},
		{"syslog tls", `{"AuditSyslog": "tls://syslog.lab.example:6514"}`, ""},
		{"syslog tcp loopback", `{"AuditSyslog": "tcp://127.0.0.1:514"}`, ""},
		{"syslog tcp remote", `{"AuditSyslog": "tcp://syslog.lab.example:514"}`, `policy key "AuditSyslog" must use tls:// (plain tcp:// is allowed only for 127.0.0.1, ::1 and localhost), got "tcp://syslog.lab.example:514"`},
		{"syslog udp", `{"AuditSyslog": "udp://127.0.0.1:514"}`, `policy key "AuditSyslog" must be a tls:// syslog address such as tls://syslog.lab.example:6514, got scheme "udp"`},
		{"syslog https", `{"AuditSyslog": "https://syslog.lab.example:6514"}`, `policy key "AuditSyslog" must be a tls:// syslog address such as tls://syslog.lab.example:6514, got scheme "https"`},
		{"syslog no port", `{"AuditSyslog": "tls://syslog.lab.example"}`, `policy key "AuditSyslog" must name a port (6514 for TLS), such as tls://syslog.lab.example:6514, got "tls://syslog.lab.example"`},
		{"syslog bare host", `{"AuditSyslog": "syslog.lab.example:6514"}`, `policy key "AuditSyslog" must be a syslog address such as tls://syslog.lab.example:6514, got "syslog.lab.example:6514"`},
		{"syslog path", `{"AuditSyslog": "tls://syslog:6514/x"}`, `policy key "AuditSyslog" must be only a scheme, host and port, such as tls://syslog.lab.example:6514, got "tls://syslog:6514/x"`},
		{"syslog port zero", `{"AuditSyslog": "tls://syslog:0"}`, `policy key "AuditSyslog" has port "0", which is out of range`},

		{"ca unset", `{"AuditCAFile": ""}`, ""},
		{"ca absolute", `{"AuditCAFile": "/etc/ssl/lab-ca.pem"}`, ""},
		{"ca windows", `{"AuditCAFile": "C:\\ProgramData\\Lab\\ca.pem"}`, ""},
		{"ca relative", `{"AuditCAFile": "ca.pem"}`, `policy key "AuditCAFile" must be an absolute path to a PEM file, got "ca.pem"`},

		{"hours off", `{"AuditMaxUndeliveredHours": 0}`, ""},
		{"hours week", `{"AuditMaxUndeliveredHours": 168}`, ""},
		{"hours negative", `{"AuditMaxUndeliveredHours": -1}`, `policy key "AuditMaxUndeliveredHours" must not be negative, got -1`},
		{"hours too many", `{"AuditMaxUndeliveredHours": 100000}`, `policy key "AuditMaxUndeliveredHours" must be at most 8784, got 100000`},
		{"hours as string", `{"AuditMaxUndeliveredHours": "24"}`, `policy key "AuditMaxUndeliveredHours" must be an integer, got string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := policy.ParseJSON([]byte(tt.json))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("ParseJSON(%s): %v", tt.json, err)
			case tt.want != "" && err == nil:
				t.Fatalf("ParseJSON(%s) accepted it, want %q", tt.json, tt.want)
			case tt.want != "":
				if err.Error() != tt.want {
					t.Errorf("error\n got %q\nwant %q", err, tt.want)
				}
				if !errors.Is(err, policy.ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
			}
		})
	}
}

// TestAuditHeadersHidden: every user may read the effective policy
// (status --json), so an ingest key set in AuditOTLPHeaders appears there,
// and in any error about it, by name only.
func TestAuditHeadersHidden(t *testing.T) {
	const secret = "Splunk 0b5e-secret-ingest-key"
	s, err := policy.ParseJSON([]byte(`{"AuditOTLPHeaders": ["Authorization: ` + secret + `"]}`))
	if err != nil {
		t.Fatal(err)
	}
	snap := policy.Snapshot{Policy: policy.Resolve(s)}
	got := snap.Effective()[policy.KeyAuditOTLPHeaders]
	if !slices.Equal(got.([]string), []string{"Authorization: (hidden)"}) {
		t.Errorf("effective headers = %v", got)
	}
	if snap.Policy.AuditOTLPHeaders[0] != "Authorization: "+secret {
		t.Errorf("the policy itself must keep the value for the forwarder")
	}
	_, err = policy.ParseJSON([]byte(`{"AuditOTLPHeaders": ["Authori zation: ` + secret + `"]}`))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v must not quote the header value", err)
	}
}
