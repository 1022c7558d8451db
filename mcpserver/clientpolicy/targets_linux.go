package clientpolicy

func targets() []Target {
	return []Target{
		{Client: ClaudeCode, Name: "Claude Code", Path: "/etc/claude-code/managed-settings.json"},
		{Client: GitHubCopilot, Name: "GitHub Copilot", Path: "/etc/github-copilot/managed-settings.json"},
	}
}
