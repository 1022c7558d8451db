package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// lastRecord returns the newest record for tool.
func lastRecord(t *testing.T, w *world, tool string) audit.Record {
	t.Helper()
	var last audit.Record
	for _, r := range records(t, w) {
		if r.Tool == tool {
			last = r
		}
	}
	return last
}

// TestGuards: each guard through a real subprocess and client against a
// loopback upstream: the refusal text, the audit record, and nothing
// refused reaching the upstream.
func TestGuards(t *testing.T) {
	t.Run("calls per minute", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxCallsPerMinute": 3`)
		cs := w.connect("", "claude-ai")
		for range 3 {
			if res, text := callText(t, cs, "list_labsheets", nil); res.IsError {
				t.Fatalf("call within the limit: %q", text)
			}
		}
		res, text := callText(t, cs, "list_labsheets", nil)
		if !res.IsError || !strings.Contains(text, "MaxCallsPerMinute") || !strings.Contains(text, "retry in") {
			t.Fatalf("4th call = %v %q", res.IsError, text)
		}
		if n := len(up.Calls()); n != 3 {
			t.Fatalf("upstream saw %d calls", n)
		}
		if r := lastRecord(t, w, "list_labsheets"); r.Event != audit.EventToolDenied || r.Reason != text {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("result size", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxResultBytes": 200`)
		up.SetResult("get_experiment", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("x", 5000)}}})
		cs := w.connect("", "claude-ai")
		res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"})
		if !res.IsError || !strings.Contains(text, "MaxResultBytes") || !strings.Contains(text, "narrow") || strings.Contains(text, "xxxx") {
			t.Fatalf("big result = %v %q", res.IsError, text)
		}
		if r := lastRecord(t, w, "get_experiment"); r.Event != audit.EventToolDenied || r.Outcome != audit.OutcomeDenied {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("bytes per hour across sessions", func(t *testing.T) {
		w, up, _ := managedWorld(t, `"MaxBytesPerHour": 3000`)
		up.SetResult("get_protocol", &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: strings.Repeat("p", 1000)}}})
		var refused string
		for i := range 4 { // a new session each time: the budget is shared
			cs := w.connect("", "claude-ai")
			res, text := callText(t, cs, "get_protocol", map[string]any{"hrid": "PRT-0003"})
			cs.Close()
			if res.IsError {
				refused = text
				if i < 2 {
					t.Fatalf("refused too early (call %d): %q", i, text)
				}
				break
			}
		}
		if !strings.Contains(refused, "MaxBytesPerHour") {
			t.Fatalf("the hourly budget never refused: %q", refused)
		}
	})
	t.Run("prompt injection", func(t *testing.T) {
		for _, tc := range []struct{ action, want string }{
			{"flag", "Note from Scispot MCP Desktop"},
			{"redact", "removed by Scispot MCP Desktop"},
			{"block", "CL-0137"},
		} {
			t.Run(tc.action, func(t *testing.T) {
				writePolicy(t, `{"InjectionAction": "`+tc.action+`"}`)
				w := newWorld(t)
				cs := w.connect("", "claude-ai", "--demo")
				res, text := callText(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "row_uuid": "CL-0137"})
				if !strings.Contains(text, tc.want) {
					t.Fatalf("%s: %v %q", tc.action, res.IsError, text)
				}
				switch tc.action {
				case "block":
					if !res.IsError || strings.Contains(text, "Ignore previous instructions") {
						t.Fatalf("block passed the record: %q", text)
					}
				case "redact":
					if strings.Contains(text, "Ignore previous instructions") {
						t.Fatalf("redact kept the instruction: %q", text)
					}
				}
				r := lastRecord(t, w, "get_labsheet_row")
				if tc.action != "block" && !strings.Contains(strings.Join(r.Flags, ","), audit.FlagInjectionSuspect) {
					t.Fatalf("record flags %v", r.Flags)
				}
				// An ordinary row passes untouched.
				if _, text := callText(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "row_uuid": "CL-0042"}); strings.Contains(text, "Scispot MCP Desktop") {
					t.Fatalf("ordinary row flagged: %q", text)
				}
			})
		}
	})
}

// TestConfirmedWrites: with writes allowed, every write asks the person —
// through elicitation when the client can, through the tray when not —
// and the answer is a signature: a rejecting meaning refuses the write.
func TestConfirmedWrites(t *testing.T) {
	w, up, _ := managedWorld(t, `"AllowWriteTools": true, "AllowedTools": ["add_labsheet_rows", "update_labsheet_rows", "list_labsheets"]`)
	args := map[string]any{"labsheet": "Cell Lines", "rows": []any{map[string]any{"Name": "HeLa-2"}}}
	for _, meaning := range []string{"Approved", "Rejected"} {
		var asked string
		client := mcp.NewClient(&mcp.Implementation{Name: "eliciting-client", Version: "1"}, &mcp.ClientOptions{
			ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				asked = req.Params.Message
				return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"meaning": meaning, "reason": "Cell line received from the core facility"}}, nil
			},
		})
		cs := w.connectClient("2025-06-18", client)
		before := writesSeen(up)
		res, text := callText(t, cs, "update_labsheet_rows", args)
		if !strings.Contains(asked, "DESTRUCTIVE") || !strings.Contains(asked, "Cell Lines") {
			t.Fatalf("the question did not say what and that it is destructive: %q", asked)
		}
		approve := meaning == "Approved"
		reached := writesSeen(up) > before
		if approve != reached || approve == res.IsError {
			t.Fatalf("%s: reached=%v result=%v %q", meaning, reached, res.IsError, text)
		}
		cs.Close()
	}

	// A client that cannot elicit: the person answers in the tray, which
	// takes the account password to the service. Here a process of the
	// account plays the tray: first without the password (what an AI agent
	// with a shell could do), which the service refuses, then as the person.
	cs := w.connect("2025-06-18", "no-elicitation")
	approver := startApprover(t, w, "add_labsheet_rows")
	before := writesSeen(up)
	if res, text := callText(t, cs, "add_labsheet_rows", args); res.IsError {
		t.Fatalf("tray-approved write refused: %q\n%s", text, approver.String())
	}
	if !strings.Contains(approver.String(), "refused without the password: That is not the password") {
		t.Fatalf("the signature with a wrong password was not refused:\n%s", approver.String())
	}
	sig := lastEvent(t, w, audit.EventSignature)
	if s := sig.Signature; s == nil || s.Method != audit.MethodTrayPassword || !s.Verified || s.Account != w.account() || s.Name != "Jane Q. Tester" {
		t.Fatalf("the tray signature does not say who and how: %+v", sig)
	}
	if r := lastRecord(t, w, "add_labsheet_rows"); r.Signature == nil || r.Signature.Record != sig.Hash {
		t.Fatalf("the call does not link its signature: %+v", r)
	}
	res, text := callText(t, cs, "update_labsheet_rows", args)
	if !res.IsError || !strings.Contains(text, "denied it in the Scispot MCP tray") {
		t.Fatalf("tray-denied write = %v %q", res.IsError, text)
	}
	if n := writesSeen(up) - before; n != 1 {
		t.Fatalf("upstream saw %d writes, want only the approved one", n)
	}
	_ = upstreamtest.Normal
}

// writesSeen counts the write calls that reached the upstream (the
// gateway's own reads of the values a write changes are not writes).
func writesSeen(up *upstreamtest.Server) int {
	n := 0
	for _, c := range up.Calls() {
		if catalog.Lookup(c.Tool).Kind == catalog.Write {
			n++
		}
	}
	return n
}

// lastEvent returns the newest record of an event.
func lastEvent(t *testing.T, w *world, ev audit.Event) audit.Record {
	t.Helper()
	var last audit.Record
	for _, r := range records(t, w) {
		if r.Event == ev {
			last = r
		}
	}
	return last
}

// startApprover runs, as the world's account, a process that follows the
// account's events like the tray and answers each write: sign only the
// tool named (Approved, with a reason), trying first with a wrong
// password, then with the right one; deny the rest.
func startApprover(t *testing.T, w *world, approve string) *lockedBuffer {
	t.Helper()
	return startSigner(t, w, approve, "Approved", "Received from the core facility")
}

// startSigner is startApprover signing with meaning and reason.
func startSigner(t *testing.T, w *world, tool, meaning, reason string) *lockedBuffer {
	t.Helper()
	cmd := w.command(testHelper(), "-test.run=^TestHelperApprover$", "-test.v")
	cmd.Env = append(cmd.Env, "SCISPOT_HELPER=approver", "SCISPOT_APPROVE="+tool, "SCISPOT_PASSWORD="+w.password(),
		"SCISPOT_MEANING="+meaning, "SCISPOT_REASON="+reason)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "following events") {
		if time.Now().After(deadline) {
			t.Fatalf("the approver did not start:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestHelperApprover is the approver process of startApprover.
func TestHelperApprover(t *testing.T) {
	if os.Getenv("SCISPOT_HELPER") != "approver" {
		t.Skip("runs only as startApprover's helper process")
	}
	c := &localapi.Client{Socket: os.Getenv("SCISPOT_MCPD_SOCKET"), Dial: localsock.Dial, Identity: peercred.Get, Approves: true}
	ctx := context.Background()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("following events")
	for e := range events.C {
		if e.Kind != localapi.EventConfirm || e.Confirm == nil {
			continue
		}
		if e.Confirm.Tool != os.Getenv("SCISPOT_APPROVE") {
			err := c.Answer(ctx, localapi.Answer{ID: e.Confirm.ID, Approved: false})
			fmt.Printf("denied %s: %v\n", e.Confirm.Tool, err)
			continue
		}
		fmt.Printf("asked: %+v\n", *e.Confirm)
		sign := localapi.Answer{ID: e.Confirm.ID, Approved: true, Meaning: os.Getenv("SCISPOT_MEANING"), Reason: os.Getenv("SCISPOT_REASON")}
		sign.Password = "not-the-password"
		err := c.Answer(ctx, sign)
		fmt.Printf("refused without the password: %v\n", err)
		sign.Password = os.Getenv("SCISPOT_PASSWORD")
		err = c.Answer(ctx, sign)
		fmt.Printf("signed %s: %v\n", e.Confirm.Tool, err)
	}
}
