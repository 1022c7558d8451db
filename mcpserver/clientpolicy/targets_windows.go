package clientpolicy

import (
	"os"
	"path/filepath"
)

func targets() []Target {
	// The service runs as LocalSystem, whose environment names the
	// 64-bit Program Files folder.
	pf := os.Getenv("ProgramFiles")
	if pf == "" {
		pf = `C:\Program Files`
	}
	return []Target{
		{Client: ClaudeCode, Name: "Claude Code", Path: filepath.Join(pf, "ClaudeCode", "managed-settings.json")},
		{Client: GitHubCopilot, Name: "GitHub Copilot", Path: filepath.Join(pf, "GitHubCopilot", "managed-settings.json")},
	}
}
