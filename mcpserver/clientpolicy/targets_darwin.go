package clientpolicy

func targets() []Target {
	return []Target{
		{Client: ClaudeCode, Name: "Claude Code", Path: "/Library/Application Support/ClaudeCode/managed-settings.json"},
		{Client: GitHubCopilot, Name: "GitHub Copilot", Path: "/Library/Application Support/GitHubCopilot/managed-settings.json"},
	}
}
