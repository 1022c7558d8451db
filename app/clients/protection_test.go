package clients_test

import (
	"testing"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func TestProtections(t *testing.T) {
	const copilot = "github-copilot"
	tests := []struct {
		name string
		kept []localapi.ClientSettings
		want map[string]string // client: state
	}{
		{"no service view", nil, map[string]string{
			clients.ClaudeDesktop: clients.ProtectionDetected, clients.ClaudeCode: clients.ProtectionDetected,
			clients.Cursor: clients.ProtectionDetected, clients.VSCode: clients.ProtectionDetected, clients.Windsurf: clients.ProtectionDetected,
		}},
		{"kept and blocked", []localapi.ClientSettings{
			{Client: clients.ClaudeCode, Name: "Claude Code", Blocked: true},
			{Client: copilot, Name: "GitHub Copilot", Blocked: true},
		}, map[string]string{clients.ClaudeCode: clients.ProtectionBlocked, copilot: clients.ProtectionBlocked, clients.Cursor: clients.ProtectionDetected}},
		{"key false", []localapi.ClientSettings{
			{Client: clients.ClaudeCode, Name: "Claude Code"},
			{Client: copilot, Name: "GitHub Copilot"},
		}, map[string]string{clients.ClaudeCode: clients.ProtectionDetected, copilot: clients.ProtectionNone}},
		{"file not kept", []localapi.ClientSettings{
			{Client: clients.ClaudeCode, Name: "Claude Code", Error: "does not parse"},
		}, map[string]string{clients.ClaudeCode: clients.ProtectionDetected}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]clients.Protection{}
			for _, p := range clients.Protections(tt.kept) {
				if _, dup := got[p.Client]; dup {
					t.Errorf("%s twice", p.Client)
				}
				if p.Name == "" || p.Reason == "" {
					t.Errorf("%s: no name or reason: %+v", p.Client, p)
				}
				got[p.Client] = p
			}
			if len(got) != len(clients.All())+len(tt.kept)-countKnown(tt.kept) {
				t.Errorf("%d clients judged: %v", len(got), got)
			}
			for c, state := range tt.want {
				if got[c].State != state {
					t.Errorf("%s: %+v, want %s", c, got[c], state)
				}
			}
		})
	}
}

func countKnown(kept []localapi.ClientSettings) int {
	n := 0
	for _, k := range kept {
		for _, c := range clients.All() {
			if c.ID == k.Client {
				n++
			}
		}
	}
	return n
}
