package connect

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
)

// TestSystemReplacesDirect: the card of a client with a direct Scispot
// entry says so and offers the one-click replacement, which writes the
// gateway entry and leaves the token in the keychain only.
func TestSystemReplacesDirect(t *testing.T) {
	ctx := context.Background()
	const token = "sst_live_4b9d2e7f1a6c3058"
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "opt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "opt", "scispot-mcp"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(root, "home", "ann", ".codeium", "windsurf", "mcp_config.json")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`{
  // the lab's own server
  "mcpServers": {"lab": {"serverUrl": "https://scispot.lab.example/mcp", "headers": {"X-Key": "`+token+`"}}}
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := keychain.NewMemory()
	s := System{Env: clients.Env{GOOS: "linux", Home: "/home/ann", Root: root}, Executable: "/opt/scispot-mcp", Keychain: kc,
		Hosts: func(context.Context) []string { return []string{"scispot.lab.example"} }}

	var card Card
	for _, st := range s.Status(ctx) {
		if st.Client == clients.Windsurf {
			card = CardFor(st)
		}
	}
	if card.Label != "Direct connection found" || !card.CanMigrate || card.Good || !strings.Contains(card.Status.Detail, `"lab"`) || strings.Contains(card.Status.Detail, token) {
		t.Fatalf("card = %+v", card)
	}
	ch, err := s.MoveToken(ctx, clients.Windsurf)
	if err != nil || !ch.Changed || strings.Contains(ch.Note, token) {
		t.Fatalf("MoveToken = %+v, %v", ch, err)
	}
	if stored, _ := kc.Get(ctx, keychain.AccountToken); stored != token {
		t.Error("the token is not in the keychain")
	}
	b, _ := os.ReadFile(cfg)
	if strings.Contains(string(b), token) || !strings.Contains(string(b), `"scispot"`) || !strings.Contains(string(b), "the lab's own server") {
		t.Errorf("config after replacing:\n%s", b)
	}
	for _, st := range s.Status(ctx) {
		if len(st.Direct) > 0 {
			t.Errorf("still direct: %+v", st.Direct)
		}
	}
}
