package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestLocalServerFromTray: Start serves on loopback, copies a snippet with
// the local secret (never the Scispot token) and Stop ends it; without
// AllowLocalHTTP, Start refuses with the policy's sentence.
func TestLocalServerFromTray(t *testing.T) {
	for _, allow := range []bool{true, false} {
		svc := apptest.NewService(t, apptest.ServiceOptions{Policy: []policy.Store{apptest.Policy{"AllowLocalHTTP": allow}}})
		dir := t.TempDir()
		kc := keychain.NewMemory()
		kc.Set(context.Background(), keychain.AccountToken, "sst_scispot_token")
		env := cli.Env{
			Stdout: io.Discard, Stderr: io.Discard,
			Keychain: kc,
			Service:  func(context.Context, bool) (*localapi.Client, error) { return svc.Client, nil },
			StateDir: func() (string, error) { return filepath.Join(dir, "state"), nil },
			Logger:   slog.New(slog.DiscardHandler),
		}
		host, err := cli.NewTrayHost(env)
		if err != nil {
			t.Fatal(err)
		}
		a := test.NewTempApp(t)
		l := &localServer{serve: host.ServeHTTP, d: &app.Deps{App: a, Demo: true}}
		err = l.Start(context.Background())
		if !allow {
			if err == nil || !strings.Contains(err.Error(), "AllowLocalHTTP is false") || l.Running() {
				t.Fatalf("start without AllowLocalHTTP: %v (running %v)", err, l.Running())
			}
			continue
		}
		if err != nil || !l.Running() {
			t.Fatalf("start: %v", err)
		}
		secret, _ := kc.Get(context.Background(), keychain.AccountLocalSecret)
		snippet := a.Clipboard().Content() // Fyne's test driver runs fyne.Do at once
		if !strings.Contains(snippet, "http://127.0.0.1:") || !strings.Contains(snippet, "Bearer "+secret) || strings.Contains(snippet, "sst_scispot_token") {
			t.Fatalf("snippet = %q", snippet)
		}
		if err := l.Stop(context.Background()); err != nil || l.Running() {
			t.Fatalf("stop: %v (running %v)", err, l.Running())
		}
	}
}
