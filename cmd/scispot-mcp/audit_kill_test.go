package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// managedWorld is a managed workstation with a stored token and a
// loopback upstream.
func managedWorld(t *testing.T, extraPolicy ...string) (*world, *upstreamtest.Server, string) {
	requireRoot(t)
	requireKeyring(t)
	token := newToken(t)
	up := upstreamtest.New(t, token)
	extra := ""
	for _, e := range extraPolicy {
		extra += ", " + e
	}
	writePolicy(t, fmt.Sprintf(`{"UpstreamURL": %q, "ManagedBy": "Ansible"%s}`, up.URL, extra))
	w := newWorld(t)
	w.storeToken(token)
	return w, up, token
}

// TestAuditAttribution: a reviewer can answer who called what, from which
// device and AI client, when, with what parameters, and what happened.
func TestAuditAttribution(t *testing.T) {
	w, _, token := managedWorld(t)
	cs := w.connect("2025-06-18", "Claude Desktop")
	callText(t, cs, "search_labsheet_rows", map[string]any{"labsheet": "Cell Lines", "query": "HeLa", "api_key": token, "note": "uses " + token})
	callText(t, cs, "update_labsheet_rows", map[string]any{"labsheet": "Cell Lines"})
	cs.Close()

	var call, denied, start, end *audit.Record
	recs := records(t, w)
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Event == audit.EventToolCall && r.Tool == "search_labsheet_rows":
			call = r
		case r.Event == audit.EventToolDenied && r.Tool == "update_labsheet_rows":
			denied = r
		case r.Event == audit.EventSessionStart && r.Client.Name == "Claude Desktop":
			start = r
		case r.Event == audit.EventSessionEnd && start != nil && r.Session == start.Session:
			end = r
		}
	}
	if call == nil || denied == nil || start == nil || end == nil {
		t.Fatalf("missing records in %+v", recs)
	}
	args := string(call.Args)
	if call.User != w.account() || len(call.Device) != 64 || call.Token != keychain.Fingerprint(token) ||
		call.Client.Name != "Claude Desktop" || call.Client.Version != "1.0.0" || call.Transport != audit.TransportStdio ||
		call.Outcome != audit.OutcomeOK || call.ResultBytes == 0 || !strings.Contains(args, `"query":"HeLa"`) ||
		call.PID == 0 || call.Time.IsZero() {
		t.Fatalf("tool.call record lacks attribution: %+v", call)
	}
	if strings.Contains(args, token) || !strings.Contains(args, "[redacted]") {
		t.Fatalf("args not redacted: %s", args)
	}
	if denied.Outcome != audit.OutcomeDenied || !strings.Contains(denied.Reason, "AllowWriteTools") {
		t.Fatalf("denial record: %+v", denied)
	}
	out, _, code := w.run("", "audit", "export", "--format", "csv")
	if code != 0 || !strings.Contains(out, "search_labsheet_rows") || !strings.Contains(out, "Claude Desktop") {
		t.Fatalf("export = %d %q", code, out)
	}
	if out, _, code := w.run("", "audit", "verify"); code != 0 || !strings.Contains(out, "0 broken") {
		t.Fatalf("verify = %d %q", code, out)
	}
	w.assertNoSecret(token)
}

// TestConcurrentSessionsAudit: 20 serve processes x 200 calls, every call
// exactly one record, every chain verifies.
func TestConcurrentSessionsAudit(t *testing.T) {
	w, up, token := managedWorld(t, `"MaxCallsPerMinute": 100000`)
	const sessions, calls = 20, 200
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := w.connect("", fmt.Sprintf("client-%02d", i))
			defer cs.Close()
			for j := range calls {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_labsheet_row", Arguments: map[string]any{"row": fmt.Sprintf("%d-%d", i, j)}})
				if err != nil || res.IsError {
					text := ""
					if res != nil && len(res.Content) > 0 {
						text = res.Content[0].(*mcp.TextContent).Text
					}
					errs <- fmt.Errorf("session %d call %d: %v %q", i, j, err, text)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(up.Calls()); got != sessions*calls {
		t.Fatalf("upstream saw %d calls, want %d", got, sessions*calls)
	}
	seen := map[string]int{}
	for _, r := range records(t, w) {
		if r.Event == audit.EventToolCall {
			seen[r.Client.Name+"/"+strings.Trim(string(r.Args), "{}")]++
		}
	}
	if len(seen) != sessions*calls {
		t.Fatalf("%d distinct call records, want %d", len(seen), sessions*calls)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s recorded %d times", k, n)
		}
	}
	rep, err := audit.Verify(context.Background(), w.auditDir())
	if err != nil || !rep.OK() || rep.Totals.Incomplete != 0 {
		for _, f := range rep.Files {
			if f.Status != audit.StatusOK {
				t.Log(f)
			}
		}
		t.Fatalf("verify: %v %+v", err, rep.Totals)
	}
	w.assertNoSecret(token)
}

// TestCrashLeavesIncompleteTail: SIGKILL mid-call is reported as an
// incomplete session, not tampering, and later sessions are unaffected.
func TestCrashLeavesIncompleteTail(t *testing.T) {
	w, up, _ := managedWorld(t)
	up.SetMode(upstreamtest.Slow(time.Minute))
	cs := w.connect("", "crashy")
	go cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := up.WaitCalls(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, s := range records(t, w) {
		if s.Client.Name == "crashy" {
			pid = s.PID
		}
	}
	if pid == 0 {
		t.Fatal("no record of the crashy session")
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Kill(); err != nil {
		t.Fatalf("killing the crashy serve: %v", err)
	}
	up.SetMode(upstreamtest.Normal())
	cs2 := w.connect("", "after-crash")
	callText(t, cs2, "list_labsheets", nil)
	cs2.Close()
	out, _, code := w.run("", "audit", "verify")
	if code != 0 || !strings.Contains(out, "1 incomplete") || !strings.Contains(out, "0 broken") {
		t.Fatalf("verify after a crash = %d %q", code, out)
	}
}

// TestKillSwitch: 20 live sessions, some with a slow call in flight, all end
// after `kill`; new sessions are refused while killed; resume restores
// access; a per-session stop ends only that session.
func TestKillSwitch(t *testing.T) {
	w, up, _ := managedWorld(t)
	up.SetMode(upstreamtest.Slow(time.Minute))
	const n = 20
	type live struct {
		cs     *mcp.ClientSession
		ended  chan struct{}
		result chan string
	}
	sessions := make([]live, n)
	for i := range sessions {
		cs := w.connect("", fmt.Sprintf("k-%02d", i))
		l := live{cs: cs, ended: make(chan struct{}), result: make(chan string, 1)}
		go func() { cs.Wait(); close(l.ended) }()
		if i%4 == 0 {
			go func() {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
				switch {
				case err != nil:
					l.result <- "error: " + err.Error()
				default:
					l.result <- res.Content[0].(*mcp.TextContent).Text
				}
			}()
		}
		sessions[i] = l
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := up.WaitCalls(ctx, n/4); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := w.run("", "kill", "--reason", "QA hold"); code != 0 {
		t.Fatalf("kill = %d %s %s", code, out, errOut)
	}
	for i, l := range sessions {
		select {
		case <-l.ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("session %d still running after kill", i)
		}
		if i%4 == 0 {
			if got := <-l.result; !strings.Contains(got, "Stopped by the Scispot MCP kill switch") {
				t.Fatalf("in-flight call %d answered %q", i, got)
			}
		}
	}
	up.SetMode(upstreamtest.Normal())
	cs := w.connect("", "while-killed")
	if res, text := callText(t, cs, "list_labsheets", nil); !res.IsError || !strings.Contains(text, "QA hold") {
		t.Fatalf("call while killed = %v %q", res.IsError, text)
	}
	// Lifting it needs the person: the account password, checked by the
	// service. A process of the account without it gets nowhere.
	for _, pw := range []string{"", "not-the-password"} {
		if out, errOut, code := w.run(pw+"\n", "resume"); code != 3 || !strings.Contains(errOut, "password") {
			t.Fatalf("resume with %q = %d %s %s", pw, code, out, errOut)
		}
	}
	if res, _ := callText(t, w.connect("", "still-killed"), "list_labsheets", nil); !res.IsError {
		t.Fatal("a resume without the password lifted the kill switch")
	}
	if out, errOut, code := w.run(w.password()+"\n", "resume"); code != 0 {
		t.Fatalf("resume with the password = %d %s %s", code, out, errOut)
	}
	a, b := w.connect("", "keep"), w.connect("", "stop-me")
	for _, c := range []*mcp.ClientSession{a, b} {
		if res, text := callText(t, c, "list_labsheets", nil); res.IsError {
			t.Fatalf("call after resume: %q", text)
		}
	}
	var stopID string
	for _, r := range records(t, w) {
		if r.Client.Name == "stop-me" && r.Event == audit.EventSessionStart {
			stopID = r.Session
		}
	}
	// What the service does for the tray's Stop of one session.
	err := control.Update(filepath.Join(w.serviceUserDir(), "control.json"), func(s *control.State) error { s.StopSession(stopID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stopped session is still running")
	}
	if res, text := callText(t, a, "list_labsheets", nil); res.IsError {
		t.Fatalf("the other session was stopped too: %q", text)
	}
	kinds := map[audit.Event]bool{}
	for _, r := range records(t, w) {
		kinds[r.Event] = true
	}
	if !kinds[audit.EventKill] || !kinds[audit.EventResume] {
		t.Fatalf("kill/resume not audited: %v", kinds)
	}
	_ = os.Getpid
}
