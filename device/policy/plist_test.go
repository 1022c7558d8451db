package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
	"howett.net/plist"
)

// fixtureSettings is what both policy fixtures in testdata hold.
var fixtureSettings = policy.Settings{
	"Enabled":           true,
	"UpstreamURL":       "https://mcp.example.org/",
	"AllowedTools":      []string{"list_labsheets", "get_labsheet_schema", "search_labsheet_rows"},
	"DeniedTools":       []string{},
	"AllowWriteTools":   false,
	"AllowedClients":    []string{"claude-ai"},
	"AuthorizedUsers":   []string{"alice"},
	"RequireEnrollment": true,
	"ManagedBy":         "Jamf Pro",
	"AllowDemo":         false,
	"AllowLocalHTTP":    false,
	"MaxCallsPerMinute": int64(30),
	"MaxResultBytes":    int64(1048576),
	"MaxBytesPerHour":   int64(10000000000),
	"InjectionAction":   "redact",
	"ConfirmWrites":     true,
}

func TestDecodePlistFixtures(t *testing.T) {
	for _, name := range []string{"policy.xml.plist", "policy.binary.plist"} {
		t.Run(name, func(t *testing.T) {
			s, err := policy.DecodePlist([]byte(readTestdata(t, name)))
			if err != nil {
				t.Fatalf("DecodePlist: %v", err)
			}
			if diff := cmp.Diff(fixtureSettings, s); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodePlistRejects(t *testing.T) {
	xml := func(body string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + body + `</plist>`
	}
	tests := []struct {
		name string
		data string
		want string // substring of the error
	}{
		{"binary wrong type", readTestdata(t, "wrongtype.binary.plist"), `policy key "Enabled" must be a boolean, got integer`},
		{"unknown key", xml(`<dict><key>Foo</key><true/></dict>`), `policy key "Foo" is not a known key`},
		{"wrong case", xml(`<dict><key>enabled</key><true/></dict>`), `did you mean "Enabled"?`},
		{"string for bool", xml(`<dict><key>Enabled</key><string>YES</string></dict>`), `policy key "Enabled" must be a boolean, got string`},
		{"real for int", xml(`<dict><key>MaxResultBytes</key><real>10</real></dict>`), `policy key "MaxResultBytes" must be an integer, got real number`},
		{"negative int", xml(`<dict><key>MaxCallsPerMinute</key><integer>-1</integer></dict>`), `policy key "MaxCallsPerMinute" must not be negative, got -1`},
		{"huge int", xml(`<dict><key>MaxResultBytes</key><integer>18446744073709551615</integer></dict>`), `policy key "MaxResultBytes" must be at most 9223372036854775807`},
		{"date for string", xml(`<dict><key>ManagedBy</key><date>2024-01-01T00:00:00Z</date></dict>`), `policy key "ManagedBy" must be a string, got date`},
		{"data for list", xml(`<dict><key>AllowedTools</key><data>AAEC</data></dict>`), `policy key "AllowedTools" must be a list of strings, got data`},
		{"list with a bool", xml(`<dict><key>DeniedTools</key><array><string>a</string><true/></array></dict>`), `policy key "DeniedTools" must be a list of strings, got boolean at item 2`},
		{"injection action", xml(`<dict><key>InjectionAction</key><string>log</string></dict>`), `policy key "InjectionAction" must be "flag", "redact" or "block", got "log"`},
		{"plain http", xml(`<dict><key>UpstreamURL</key><string>http://mcp.scispot.io/</string></dict>`), `policy key "UpstreamURL" must use https`},
		{"not a dictionary", xml(`<array><string>Enabled</string></array>`), `policy property list must be a dictionary, got list`},
		{"openstep", `{ Enabled = YES; }`, `policy must be an XML or binary property list, got OpenStep format`},
		{"garbage", "\x00\x01not a plist", `policy is not a valid property list`},
		{"empty", ``, `policy is not a valid property list`},
		{"truncated binary", readTestdata(t, "policy.binary.plist")[:40], `policy is not a valid property list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := policy.DecodePlist([]byte(tt.data))
			if err == nil {
				t.Fatalf("DecodePlist = %v, want error %q", s, tt.want)
			}
			if !errors.Is(err, policy.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant it to contain %s", err, tt.want)
			}
		})
	}
}

// TestDecodePlistSkipsPayloadKeys checks that the reserved profile keys that
// can sit beside ours in managed preferences do not invalidate the policy.
func TestDecodePlistSkipsPayloadKeys(t *testing.T) {
	data, err := plist.Marshal(map[string]any{
		"PayloadUUID":       "x",
		"PayloadIdentifier": "io.scispot.mcp",
		"PayloadType":       "io.scispot.mcp",
		"PayloadVersion":    1,
		"AllowDemo":         false,
	}, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := policy.DecodePlist(data)
	if err != nil {
		t.Fatalf("DecodePlist: %v", err)
	}
	if diff := cmp.Diff(policy.Settings{"AllowDemo": false}, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
