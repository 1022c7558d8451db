package redact_test

import (
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

func TestString(t *testing.T) {
	const token = "sst_live_4b9d2e7f1a6c3058"
	const local = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	r := redact.New(token, local, "", "abc")
	tests := []struct {
		name, in, want string
	}{
		{"clean", "Cell Lines: 42 rows", "Cell Lines: 42 rows"},
		{"the token", "your header was Bearer " + token + ".", "your header was Bearer [redacted]."},
		{"the local secret", "secret=" + local, "secret=[redacted]"},
		{"twice", token + token, "[redacted][redacted]"},
		{"another token's shape", `{"key":"sst_0123456789abcdef0123"}`, `{"key":"[redacted]"}`},
		{"token shape with dashes", "x sst_ab-cd_ef-gh y", "x [redacted] y"},
		{"too short to be a token", "column sst_id", "column sst_id"},
		{"inside a word", "assist_with_cell_counts", "assist_with_cell_counts"},
		{"after punctuation", "(sst_abcdefgh)", "([redacted])"},
		{"short secrets are ignored", "abc abc", "abc abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if r.Contains(tt.in) != (tt.in != tt.want) {
				t.Errorf("Contains(%q) = %v", tt.in, r.Contains(tt.in))
			}
			if again := r.String(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestZeroValueRemovesTokenShapes(t *testing.T) {
	var r redact.Redactor
	if got := r.String("use sst_abcdefgh123 now"); got != "use [redacted] now" {
		t.Fatalf("zero Redactor: %q", got)
	}
	if r.With("s3cret-value").String("s3cret-value") != redact.Marker {
		t.Fatal("With did not add the secret")
	}
	if r.String("s3cret-value") != "s3cret-value" {
		t.Fatal("With changed the original")
	}
}

func FuzzString(f *testing.F) {
	f.Add("Bearer sst_live_0123456789", "sst_live_0123456789")
	f.Add("xsst_abcdefgh sst_", "zzzz")
	f.Add(strings.Repeat("sst_", 100), "sst_sst_")
	f.Add("é\xffsst_\x00abcdefgh", "abcd")
	f.Add("xxxxsst_abcdefghi", "xxxx")
	f.Fuzz(func(t *testing.T, text, secret string) {
		r := redact.New(secret)
		got := r.String(text)
		if !r.Contains(text) && got != text {
			t.Fatalf("String changed clean text %q to %q", text, got)
		}
		// No token shape survives, whatever the secret did to the text.
		if (redact.Redactor{}).Contains(got) {
			t.Fatalf("String(%q) = %q still holds a token", text, got)
		}
		// A secret of letters and digits cannot overlap the marker's
		// brackets, so none of it survives.
		if len(secret) >= redact.MinSecretLen && alnum(secret) && !strings.Contains(redact.Marker, secret) && strings.Contains(got, secret) {
			t.Fatalf("String(%q) = %q still holds %q", text, got, secret)
		}
	})
}

func alnum(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
