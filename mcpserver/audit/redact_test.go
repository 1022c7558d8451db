package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"empty", ``, nil, ``},
		{"null", ` null `, nil, ``},
		{"plain", `{"b": 1, "a": [true, null, "x"]}`, nil, `{"a":[true,null,"x"],"b":1}`},
		{"numbers kept as text", `{"n":1.50e3,"big":123456789012345678901234567890}`, nil,
			`{"big":123456789012345678901234567890,"n":1.50e3}`},
		{"sensitive keys", `{"password":"hunter2","API_KEY":"k","x-api-key":"k","apiKey":"k","Authorization":"Bearer abc","set_cookie":"c","client_secret":"s","refresh_token":"t","passwd":"p","my credentials":{"u":"v"},"bearer":1,"private_key":[1,2],"AccessKeyId":"a","name":"ok"}`, nil,
			`{"API_KEY":"[redacted]","AccessKeyId":"[redacted]","Authorization":"[redacted]","apiKey":"[redacted]","bearer":"[redacted]","client_secret":"[redacted]","my credentials":"[redacted]","name":"ok","passwd":"[redacted]","password":"[redacted]","private_key":"[redacted]","refresh_token":"[redacted]","set_cookie":"[redacted]","x-api-key":"[redacted]"}`},
		{"nested sensitive key", `{"a":{"b":[{"Token":"t","keep":"k"}]}}`, nil, `{"a":{"b":[{"Token":"[redacted]","keep":"k"}]}}`},
		{"secret equal", `{"q":"tok_123456"}`, []string{"tok_123456"}, `{"q":"[redacted]"}`},
		{"secret inside longer string", `{"q":"use tok_123456 now"}`, []string{"tok_123456"}, `{"q":"[redacted]"}`},
		{"secret in array", `["a",["tok_123456x"],{"z":"tok_123456"}]`, []string{"tok_123456"}, `["a",["[redacted]"],{"z":"[redacted]"}]`},
		{"secret escaped in input", `{"q":"tok_\u0031\u0032\u0033456"}`, []string{"tok_123456"}, `{"q":"[redacted]"}`},
		{"secret in key", `{"tok_123456":"v","[redacted]":"w"}`, []string{"tok_123456"}, `{"[redacted]":"w","[redacted]-2":"v"}`},
		{"secret as number", `{"pin":12345678}`, []string{"12345678"}, `{"pin":"[redacted]"}`},
		{"empty secret ignored", `{"q":"x"}`, []string{""}, `{"q":"x"}`},
		{"top-level string", `"tok_123456"`, []string{"tok_123456"}, `"[redacted]"`},
		{"invalid json", `{"q": tok_123456`, []string{"tok_123456"}, `{"_bytes":16,"_invalid_json":true,"_preview":"{\"q\": [redacted]"}`},
		{"invalid json naming a secret key", `password=hunter2`, nil, `{"_bytes":16,"_invalid_json":true,"_preview":"[redacted]"}`},
		{"two values", `{} {}`, nil, `{"_bytes":5,"_invalid_json":true,"_preview":"{} {}"}`},
		{"html kept", `{"q":"<a&b>"}`, nil, `{"q":"<a&b>"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := json.RawMessage(tt.in)
			orig := bytes.Clone(in)
			got := RedactArgs(in, tt.secrets...)
			if string(got) != tt.want {
				t.Errorf("RedactArgs(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if !bytes.Equal(in, orig) {
				t.Errorf("input modified: %s", in)
			}
			if len(got) > 0 && !json.Valid(got) {
				t.Errorf("result is not JSON: %s", got)
			}
			if again := RedactArgs(got, tt.secrets...); !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %s -> %s", got, again)
			}
		})
	}
}

func TestRedactArgsCapsLargeArgs(t *testing.T) {
	const secret = "tok_abcdefgh"
	big := `{"rows":[` + strings.Repeat(`{"id":"S-1","note":"line\nwith \"quotes\" and é"},`, 2100) + `{"k":"` + secret + `"}],"password":"p"}`
	if len(big) < 100<<10 {
		t.Fatalf("test input only %d bytes", len(big))
	}
	got := RedactArgs(json.RawMessage(big), secret)
	if len(got) > MaxArgsBytes {
		t.Errorf("capped args are %d bytes, over %d", len(got), MaxArgsBytes)
	}
	if len(got) < MaxArgsBytes-16 {
		t.Errorf("capped args are only %d bytes: the preview should use the room", len(got))
	}
	var m struct {
		Bytes     int    `json:"_bytes"`
		Preview   string `json:"_preview"`
		Truncated bool   `json:"_truncated"`
	}
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("capped args not JSON: %v\n%s", err, got)
	}
	if !m.Truncated || m.Bytes <= MaxArgsBytes || !strings.HasPrefix(m.Preview, `{"password":"[redacted]","rows":[{"id":"S-1"`) {
		t.Errorf("marker = %+v", m)
	}
	if bytes.Contains(got, []byte(secret)) {
		t.Errorf("secret in capped args")
	}
	if again := RedactArgs(got, secret); !bytes.Equal(again, got) {
		t.Errorf("capped args not stable under a second redaction")
	}
	// Invalid and huge: capped too.
	junk := RedactArgs(json.RawMessage("x"+strings.Repeat("é", 100<<10)), secret)
	if len(junk) > MaxArgsBytes || !json.Valid(junk) || !bytes.Contains(junk, []byte(`"_invalid_json":true`)) {
		t.Errorf("invalid huge args: %d bytes, valid=%v", len(junk), json.Valid(junk))
	}
}

func FuzzRedactArgs(f *testing.F) {
	f.Add([]byte(`{"a":"tok_12345678","password":"x"}`), "tok_12345678")
	f.Add([]byte(`[1,"2",{"3":[4]}]`), "abcdefgh")
	f.Add([]byte(`{"q": tok_12345678`), "tok_12345678")
	f.Add([]byte(`"\ud800"`), "zzzzzzzz")
	f.Add([]byte(strings.Repeat(`["abcdefgh",`, 600)), "abcdefgh")
	f.Fuzz(func(t *testing.T, raw []byte, secret string) {
		orig := bytes.Clone(raw)
		got := RedactArgs(raw, secret)
		if !bytes.Equal(raw, orig) {
			t.Fatal("input modified")
		}
		if len(got) == 0 {
			return
		}
		if !json.Valid(got) {
			t.Fatalf("result is not JSON: %q", got)
		}
		if len(got) > MaxArgsBytes {
			t.Fatalf("result is %d bytes", len(got))
		}
		// A token-like secret (letters and digits, not a word of our own
		// markers) never survives.
		if isTokenLike(secret) && bytes.Contains(got, []byte(secret)) {
			t.Fatalf("secret %q survives in %s", secret, got)
		}
	})
}

func isTokenLike(s string) bool {
	if len(s) < 8 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	for _, w := range []string{"redacted", "truncated", "invalid", "preview", "bytes", "json", "true"} {
		if strings.Contains(strings.ToLower(w), strings.ToLower(s)) {
			return false
		}
	}
	return true
}
