package validation

import (
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestSignedWriteCase: OQ-11 against the in-process service signs its own
// demo write with the password (the service checks it) and finds the
// signature linked from the call; it fails when the password is refused
// or writes go unsigned, and skips only without writes or a password.
func TestSignedWriteCase(t *testing.T) {
	const writes = `"AllowWriteTools": true, "AllowedTools": ["update_labsheet_rows", "list_labsheets"], "RequireReasonForChange": true`
	right := func() (string, error) { return "right", nil }
	wrong := func() (string, error) { return "wrong", nil }
	tests := []struct {
		name     string
		policy   string
		password func() (string, error)
		want     Result
		actual   string
	}{
		{"signed", `{` + writes + `}`, right, Pass, "password checked by the service"},
		{"meanings from the policy", `{` + writes + `, "SignatureMeanings": ["Reviewed", "Approved"]}`, right, Pass, `signed "Reviewed"`},
		{"wrong password", `{` + writes + `}`, wrong, Fail, "That is not the password"},
		{"writes unsigned", `{` + writes + `, "ConfirmWrites": false}`, right, Fail, "ConfirmWrites off"},
		{"no password", `{` + writes + `}`, nil, Skip, "no account password was available"},
		{"no writes", `{}`, right, Skip, "allows no write tools"},
		{"no write this run can make", `{"AllowWriteTools": true, "AllowedTools": ["add_labsheet_rows"]}`, right, Skip, "none of which this run can make"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := startService(t, policyText(tt.policy))
			c := runCases(t, Options{Service: svc, Password: tt.password}, "OQ-11")[0]
			if c.Result != tt.want || !strings.Contains(c.Actual, tt.actual) {
				t.Fatalf("OQ-11 = %s %q, want %s with %q\nevidence %+v", c.Result, c.Actual, tt.want, tt.actual, c.Evidence)
			}
			t.Logf("OQ-11 %s: %s", c.Result, c.Actual)
			if tt.want == Pass {
				got := map[string]string{}
				for _, e := range c.Evidence {
					got[e.Name] = e.Value
				}
				for _, k := range []string{"signature record", "call record", "signer", "meaning", "signed at", "reason"} {
					if got[k] == "" {
						t.Errorf("no evidence %q in %+v", k, c.Evidence)
					}
				}
			}
		})
	}
}

// TestSignedWriteOnlyAnswersItsOwn: the approval stream leaves a write
// that is not the case's (another client, another tool, no mark) to the
// person.
func TestSignedWriteOnlyAnswersItsOwn(t *testing.T) {
	const mark = "Written by validation OQ-11 (0123456789abcdef)"
	change := `Change — updates: 1 item(s) ({"row_uuid":"CL-0001","values":{"Notes":"` + mark + `"}}).`
	tests := []struct {
		name, client, tool, change string
		want                       bool
	}{
		{"its own", ClientName, demoWriteTool, change, true},
		{"another client", "claude-code", demoWriteTool, change, false},
		{"another tool", ClientName, "add_labsheet_rows", change, false},
		{"without the mark", ClientName, demoWriteTool, strings.Replace(change, "0123", "9999", 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &localapi.Confirmation{ClientName: tt.client, Tool: tt.tool, Change: tt.change}
			if got := ownQuestion(q, demoWriteTool, mark); got != tt.want {
				t.Fatalf("ownQuestion = %v, want %v", got, tt.want)
			}
		})
	}
	if ownQuestion(nil, demoWriteTool, mark) {
		t.Fatal("a confirm event without its question was taken for the case's")
	}
}
