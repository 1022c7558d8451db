package policy_test

import (
	"testing"

	"github.com/scispot/mcp-desktop/device/policy"
)

func TestExecutableAllowed(t *testing.T) {
	tests := []struct {
		name  string
		globs []string
		exe   string
		want  bool
	}{
		{"exact path", []string{"/usr/bin/claude"}, "/usr/bin/claude", true},
		{"another program", []string{"/usr/bin/claude"}, "/usr/bin/bash", false},
		{"a copy elsewhere", []string{"/usr/bin/claude"}, "/home/ann/bin/claude", false},
		{"same name under a user folder", []string{"/opt/claude/claude"}, "/tmp/opt/claude/claude", false},
		{"star within one folder", []string{"/opt/cursor/*"}, "/opt/cursor/cursor", true},
		{"star does not cross folders", []string{"/opt/cursor/*"}, "/opt/cursor/resources/app/node", false},
		{"double star crosses folders", []string{"/Applications/Claude.app/**"}, "/Applications/Claude.app/Contents/MacOS/Claude", true},
		{"double star not a prefix trick", []string{"/Applications/Claude.app/**"}, "/Applications/Claude.app.evil/Contents/MacOS/Claude", false},
		{"braces", []string{"/usr/{bin,local/bin}/claude"}, "/usr/local/bin/claude", true},
		{"unix glob is case-sensitive", []string{"/usr/bin/claude"}, "/usr/bin/Claude", false},
		{"second glob matches", []string{"/usr/bin/code", "/usr/share/code/code"}, "/usr/share/code/code", true},
		{"unknown launcher", []string{"/**"}, "", false},
		{"windows exact", []string{`C:\Program Files\Claude\claude.exe`}, `C:\Program Files\Claude\claude.exe`, true},
		{"windows case and slashes", []string{`c:/program files/claude/*.EXE`}, `C:\Program Files\Claude\Claude.exe`, true},
		{"windows star within one folder", []string{`C:\Program Files\Claude\*.exe`}, `C:\Program Files\Claude\sub\claude.exe`, false},
		{"windows per-user install", []string{`C:\Users\*\AppData\Local\AnthropicClaude\app-*\claude.exe`}, `C:\Users\ann\AppData\Local\AnthropicClaude\app-1.2.3\claude.exe`, true},
		{"windows other drive", []string{`C:\Program Files\Claude\*.exe`}, `D:\Program Files\Claude\claude.exe`, false},
		{"unc share", []string{`\\fs\apps\claude.exe`}, `\\FS\Apps\claude.exe`, true},
		{"windows glob never matches a unix path", []string{`C:\**`}, "/usr/bin/claude", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := policy.FromValues(map[string]any{"AllowedClientExecutables": tt.globs}); err != nil {
				t.Fatalf("the globs are invalid: %v", err)
			}
			if got := policy.ExecutableAllowed(tt.globs, tt.exe); got != tt.want {
				t.Errorf("ExecutableAllowed(%q, %q) = %v, want %v", tt.globs, tt.exe, got, tt.want)
			}
		})
	}
}

func TestSignerAllowed(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		signer  string
		want    bool
	}{
		{"team id of a developer id signer", []string{"Q6L2SF6YDW"}, "Developer ID Application: Anthropic PBC (Q6L2SF6YDW)", true},
		{"another team", []string{"Q6L2SF6YDW"}, "Developer ID Application: Evil Ltd (ZZZZZZZZZZ)", false},
		{"team id named inside the name only", []string{"Q6L2SF6YDW"}, "Developer ID Application: Q6L2SF6YDW Fan Club (ZZZZZZZZZZ)", false},
		{"team id is not folded", []string{"q6l2sf6ydw"}, "Developer ID Application: Anthropic PBC (Q6L2SF6YDW)", false},
		{"signer that is only a team id", []string{"Q6L2SF6YDW"}, "Q6L2SF6YDW", true},
		{"whole authority", []string{"Developer ID Application: Anthropic PBC (Q6L2SF6YDW)"}, "Developer ID Application: Anthropic PBC (Q6L2SF6YDW)", true},
		{"windows publisher", []string{"Anthropic, PBC"}, "Anthropic, PBC", true},
		{"windows publisher any case", []string{"anthropic, pbc"}, "Anthropic, PBC", true},
		{"windows signature not valid", []string{"Anthropic, PBC"}, "Anthropic, PBC (signature not valid)", false},
		{"unsigned", []string{"Anthropic, PBC"}, "", false},
		{"ad-hoc", []string{"Q6L2SF6YDW"}, "ad-hoc", false},
		{"publisher prefix only", []string{"Anthropic"}, "Anthropic, PBC", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := policy.FromValues(map[string]any{"AllowedClientSigners": tt.entries}); err != nil {
				t.Fatalf("the entries are invalid: %v", err)
			}
			if got := policy.SignerAllowed(tt.entries, tt.signer); got != tt.want {
				t.Errorf("SignerAllowed(%q, %q) = %v, want %v", tt.entries, tt.signer, got, tt.want)
			}
		})
	}
}
