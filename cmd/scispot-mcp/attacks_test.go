package main_test

// Every attack an AI agent with a shell as the scientist's account could
// try, run as that account (the world's unprivileged user) against a root
// scispot-mcpd. Each one must get nowhere.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/relay"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// shell runs a shell command as the world's account.
func (w *world) shell(script string) (string, error) {
	w.t.Helper()
	out, err := w.command("sh", "-c", script).CombinedOutput()
	return string(out), err
}

// TestTheTokenCannotBeTakenFromTheKeychain: `secret-tool lookup` hands the
// account's processes what the keychain holds, which is only ciphertext
// sealed to this device's service and account.
func TestTheTokenCannotBeTakenFromTheKeychain(t *testing.T) {
	w, up, token := managedWorld(t)
	item, err := w.shell("secret-tool lookup service io.scispot.mcp username api-token")
	if err != nil {
		t.Fatalf("secret-tool: %v %s", err, item)
	}
	if strings.Contains(item, token) || !strings.HasPrefix(item, "scispot-sealed:v1:") {
		t.Fatalf("the keychain holds %q", item)
	}
	// Used as a Bearer token straight at Scispot, it is refused.
	req, _ := http.NewRequest("POST", up.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(item))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Scispot answered the sealed item with HTTP %d", resp.StatusCode)
	}
	// Copied into another account's keychain on this workstation, or onto
	// another installation, it does not open.
	for name, other := range map[string]*world{"another account": w.secondAccount(), "another installation": newWorld(t)} {
		if out, err := other.shell("printf %s '" + strings.TrimSpace(item) + "' | secret-tool store --label=x service io.scispot.mcp username api-token"); err != nil {
			t.Fatalf("secret-tool store: %v %s", err, out)
		}
		want := "does not open for this account"
		if name == "another installation" {
			want = "sealed for another installation"
		}
		out, errOut, code := other.run("", "token", "status")
		if code == 0 || !strings.Contains(errOut, want) {
			t.Fatalf("%s: token status = %d %s %s", name, code, out, errOut)
		}
	}
	w.assertNoSecret(token, item)
}

// TestTheAccountsStateFolderControlsNothing: deleting the account's own
// state, or pointing a client entry's XDG_STATE_HOME elsewhere, neither
// escapes the kill switch nor the trail.
func TestTheAccountsStateFolderControlsNothing(t *testing.T) {
	w, _, _ := managedWorld(t)
	plain := w.connect("", "plain-entry")
	shadow := mcp.NewClient(&mcp.Implementation{Name: "shadow-entry", Version: "1"}, nil)
	cmd := w.command(binary, "serve")
	cmd.Env = append(cmd.Env, "XDG_STATE_HOME=/tmp/shadow-"+w.account())
	cmd.Stderr = w.logWriter()
	cs, err := shadow.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if out, err := w.shell("rm -rf \"$HOME/.local/state/scispot-mcp\""); err != nil {
		t.Fatalf("rm: %v %s", err, out)
	}
	for _, s := range []*mcp.ClientSession{plain, cs} {
		if res, text := callText(t, s, "list_labsheets", nil); res.IsError {
			t.Fatalf("call: %q", text)
		}
	}
	var calls int
	for _, r := range records(t, w) {
		if r.Event == audit.EventToolCall && (r.Client.Name == "plain-entry" || r.Client.Name == "shadow-entry") {
			calls++
		}
	}
	if calls != 2 {
		t.Fatalf("%d of the 2 calls are in the service's trail", calls)
	}
	if _, _, code := w.run("", "kill", "--reason", "stop"); code != 0 {
		t.Fatal("kill failed")
	}
	for name, s := range map[string]*mcp.ClientSession{"plain": plain, "shadow": cs} {
		done := make(chan struct{})
		go func() { s.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the %s session outlived the kill switch", name)
		}
	}
}

// TestBudgetsHoldAcrossSessions: the rate limit and the hourly budget are
// the account's on this device, not a session's: ten sessions of twelve
// calls at a limit of ten get ten calls, and no file of the account resets
// the budget.
func TestBudgetsHoldAcrossSessions(t *testing.T) {
	w, up, _ := managedWorld(t, `"MaxCallsPerMinute": 10`)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		cs := w.connect("", fmt.Sprintf("s%02d", i))
		wg.Go(func() {
			for range 12 {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
				if err == nil && !res.IsError {
					passed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 10 {
		t.Fatalf("%d of 120 calls passed a limit of 10 a minute for the account", n)
	}
	if n := len(up.Calls()); n != 10 {
		t.Fatalf("Scispot saw %d calls", n)
	}
	// Nothing in the account's reach holds the budget.
	w.shell("rm -rf \"$HOME/.local/state/scispot-mcp\"")
	if res, text := callText(t, w.connect("", "after-rm"), "list_labsheets", nil); !res.IsError || !strings.Contains(text, "MaxCallsPerMinute") {
		t.Fatalf("after removing the account's state: %v %q", res.IsError, text)
	}
}

// TestTheTrailIsOutOfTheAccountsReach: the account can neither edit,
// append to nor delete its records; it reads them through the service.
func TestTheTrailIsOutOfTheAccountsReach(t *testing.T) {
	w, _, _ := managedWorld(t)
	callText(t, w.connect("", "c"), "list_labsheets", nil)
	files, _ := filepath.Glob(filepath.Join(w.auditDir(), "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("no trail")
	}
	for _, script := range []string{
		"echo '{}' >> " + files[0],
		"sed -i 's/list_labsheets/get_manifest/' " + files[0],
		"rm -f " + files[0],
		"ls " + w.auditDir(),
	} {
		if out, err := w.shell(script); err == nil {
			t.Fatalf("the account could run %q: %s", script, out)
		}
	}
	if out, _, code := w.run("", "audit", "verify"); code != 0 || !strings.Contains(out, "0 broken") {
		t.Fatalf("audit verify = %d %s", code, out)
	}
	if out, _, code := w.run("", "audit", "export", "--format", "jsonl"); code != 0 || !strings.Contains(out, `"list_labsheets"`) {
		t.Fatalf("the account cannot read its own records through the service: %d %s", code, out)
	}
}

// TestClientEnvironmentReachesNothing: HTTPS_PROXY, HTTP_PROXY and
// SSL_CERT_FILE in an AI client's entry end at the relay; the service
// connects to Scispot as the policy says. (Package upstream proves the
// service's own transport ignores them; here, that the relay's
// environment never reaches it.)
func TestClientEnvironmentReachesNothing(t *testing.T) {
	w, up, token := managedWorld(t)
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Error(rw, "a man in the middle", http.StatusBadGateway)
	}))
	defer proxy.Close()
	bundle := filepath.Join(w.home, "evil.pem")
	w.writeOwned(bundle, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644)
	client := mcp.NewClient(&mcp.Implementation{Name: "env-entry", Version: "1"}, nil)
	cmd := w.command(binary, "serve")
	cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy.URL, "HTTP_PROXY="+proxy.URL, "NO_PROXY=", "SSL_CERT_FILE="+bundle, "SSL_CERT_DIR="+w.home)
	cmd.Stderr = w.logWriter()
	cs, err := client.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if res, text := callText(t, cs, "get_manifest", map[string]any{"id": "PLT-00142"}); res.IsError {
		t.Fatalf("call: %q", text)
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("the client's proxy saw %d requests", n)
	}
	if calls := up.Calls(); len(calls) != 1 || calls[0].Authorization != "Bearer "+token {
		t.Fatalf("Scispot saw %+v", calls)
	}
}

// TestAUserWrittenEnrollmentDoesNotCount: the Intune registration file in
// the account's home is the account's to write, so it proves nothing.
func TestAUserWrittenEnrollmentDoesNotCount(t *testing.T) {
	requireRoot(t)
	w := newWorld(t)
	w.writeOwned(filepath.Join(w.home, ".config", "intune", "registration.toml"), []byte("account_hint = 'x'\ndevice_hint = '11111111-2222-3333-4444-555555555555'\n"), 0o600)
	out, _, code := w.run("", "status", "--json")
	if code != 3 || !strings.Contains(out, `"managed": false`) {
		t.Fatalf("status = %d %s", code, out)
	}
}

// TestServiceRestartMidSession: the service going away answers the call in
// flight with a sentence and ends the relay; the trail it leaves verifies
// (the cut session is incomplete, not broken), and a new session works.
func TestServiceRestartMidSession(t *testing.T) {
	w, up, _ := managedWorld(t)
	up.SetMode(upstreamtest.Slow(time.Minute))
	cs := w.connect("", "mid-session")
	result := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
		result <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := up.WaitCalls(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.stopService(syscall.SIGKILL)
	select {
	case err := <-result:
		if err == nil || !strings.Contains(err.Error(), "Scispot MCP service on this workstation stopped") {
			t.Fatalf("the call in flight ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight was not answered")
	}
	// serve's stderr reaches the log through a pipe copied by another
	// goroutine: the line may land just after the call's answer.
	if !w.waitLog(relay.GoneSentence, 5*time.Second) {
		t.Errorf("serve did not say why it ended:\n%s", w.logText())
	}
	w.runService()
	up.SetMode(upstreamtest.Normal())
	if res, text := callText(t, w.connect("", "after-restart"), "list_labsheets", nil); res.IsError {
		t.Fatalf("after the restart: %q", text)
	}
	out, _, code := w.run("", "audit", "verify")
	if code != 0 || !strings.Contains(out, "0 broken") || !strings.Contains(out, "no-session-end") {
		t.Fatalf("audit verify after a crash = %d %s", code, out)
	}
}

// TestKillFromTheTraysAPI: the tray's Stop all AI access is the local
// API's kill, sent by the account; it ends every live session.
func TestKillFromTheTraysAPI(t *testing.T) {
	w, up, _ := managedWorld(t)
	up.SetMode(upstreamtest.Slow(time.Minute))
	var ended sync.WaitGroup
	for i := range 20 {
		cs := w.connect("", fmt.Sprintf("api-%02d", i))
		ended.Add(1)
		go func() { cs.Wait(); ended.Done() }()
	}
	cmd := w.command(testHelper(), "-test.run=^TestHelperKill$")
	cmd.Env = append(cmd.Env, "SCISPOT_HELPER=kill")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the tray's kill: %v\n%s", err, out)
	}
	done := make(chan struct{})
	go func() { ended.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("sessions outlived the tray's kill")
	}
}

// TestHelperKill is TestKillFromTheTraysAPI's tray: a process of the
// account calling the local API.
func TestHelperKill(t *testing.T) {
	if os.Getenv("SCISPOT_HELPER") != "kill" {
		t.Skip("runs only as TestKillFromTheTraysAPI's helper process")
	}
	c := &localapi.Client{Socket: os.Getenv("SCISPOT_MCPD_SOCKET"), Dial: localsock.Dial, Identity: peercred.Get}
	if err := c.Kill(context.Background(), localapi.KillRequest{Source: "tray", Reason: "from the tray"}); err != nil {
		t.Fatal(err)
	}
}
