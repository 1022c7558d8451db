package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// part11Policy is a lab under 21 CFR Part 11 and EU GMP Annex 11: writes
// allowed, each one signed with a meaning from the lab's list and a
// reason for the change.
const part11Policy = `{"AllowWriteTools": true,
  "AllowedTools": ["update_labsheet_rows", "get_labsheet_row", "write_to_experiment", "get_experiment"],
  "ConfirmWrites": true, "RequireReasonForChange": true,
  "SignatureMeanings": ["Approved", "Reviewed and approved", "Rejected"]}`

// signingClient answers the gateway's signature form (elicitation, or
// the go-sdk's own fulfilment of an input_required result) with meaning
// and reason, and keeps the question.
func signingClient(name, meaning, reason string, asked *string) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: name, Version: "1.0.0"}, &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			*asked = req.Params.Message
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"meaning": meaning, "reason": reason}}, nil
		},
	})
}

// TestSignedWrites is a write in a Part 11 configuration, signed each way
// a person can sign it: in a 2025-06-18 client (elicitation), in a
// 2026-07-28 client (input_required), and in the tray with the account
// password, which the service checks (a wrong one is refused). A missing
// reason refuses the write. Each signature is recorded before its write
// with the printed name (the account's full name), the account, the time,
// the meaning, the reason and how it was given, linked from the call's
// record, which holds the previous and the new value; `audit verify`
// checks the links, and `audit export --signatures` shows them.
func TestSignedWrites(t *testing.T) {
	requireRoot(t)
	writePolicy(t, part11Policy)
	w := newWorld(t)
	update := func(status string) map[string]any {
		return map[string]any{"labsheet": "Cell Lines", "updates": []any{map[string]any{"row_uuid": "CL-0001", "values": map[string]any{"Status": status}}}}
	}

	// One session per path: the demo workspace lives as long as its
	// session, so each starts from the sample data (CL-0001 Active).
	var asked string
	cs := w.connectClient("2025-06-18", signingClient("Claude Desktop", "Approved", "Vials moved to the -80 °C freezer", &asked), "--demo")
	if res, text := callText(t, cs, "update_labsheet_rows", update("Frozen")); res.IsError {
		t.Fatalf("elicitation-signed write refused: %q", text)
	}
	for _, want := range []string{"DESTRUCTIVE", "update_labsheet_rows", "Current value:", `"Status":"Active"`, "Reviewed and approved", "reason for the change", "not checked by your password"} {
		if !strings.Contains(asked, want) {
			t.Errorf("the elicitation lacks %q:\n%s", want, asked)
		}
	}
	// The same client, no reason: refused, nothing written.
	noReason := w.connectClient("2025-06-18", signingClient("Claude Desktop", "Approved", "  ", &asked), "--demo")
	if res, text := callText(t, noReason, "update_labsheet_rows", update("Retired")); !res.IsError || !strings.Contains(text, "no reason for the change") {
		t.Fatalf("a write signed without a reason = %v %q", res.IsError, text)
	}
	if r := lastRecord(t, w, "update_labsheet_rows"); r.Event != audit.EventToolDenied || r.Rule != "reason-required" || r.Signature != nil {
		t.Fatalf("the refusal's record = %+v", r)
	}

	asked = ""
	modern := w.connectClient("", signingClient("claude-code", "Reviewed and approved", "Result recorded after QC", &asked), "--demo")
	if res, text := callText(t, modern, "write_to_experiment", map[string]any{"hrid": "EXP-0002", "html": "<p>QC passed.</p>"}); res.IsError {
		t.Fatalf("input_required-signed write refused: %q", text)
	}
	if !strings.Contains(asked, "write_to_experiment") || !strings.Contains(asked, "EXP-0002") {
		t.Errorf("the input_required question = %q", asked)
	}

	tray := w.connect("2025-06-18", "no-elicitation", "--demo")
	signer := startSigner(t, w, "update_labsheet_rows", "Approved", "Frozen stock recount")
	if res, text := callText(t, tray, "update_labsheet_rows", update("Retired")); res.IsError {
		t.Fatalf("tray-signed write refused: %q\n%s", text, signer.String())
	}
	if out := signer.String(); !strings.Contains(out, "refused without the password: That is not the password") || !strings.Contains(out, `Current:{"CL-0001"`) {
		t.Fatalf("the tray signer saw:\n%s", out)
	}
	cs.Close()
	noReason.Close()
	modern.Close()
	tray.Close()

	// The records.
	recs := records(t, w)
	type pair struct{ sig, call *audit.Record }
	var signed []pair
	for i := range recs {
		if recs[i].Event != audit.EventSignature {
			continue
		}
		p := pair{sig: &recs[i]}
		for j := i + 1; j < len(recs); j++ {
			if s := recs[j].Signature; recs[j].Session == recs[i].Session && s != nil && s.Record == recs[i].Hash {
				p.call = &recs[j]
			}
		}
		signed = append(signed, p)
	}
	if len(signed) != 3 {
		t.Fatalf("%d signatures, want 3 (no signature for the write without a reason)", len(signed))
	}
	methods := map[string]string{}
	for _, p := range signed {
		s := p.sig.Signature
		methods[p.sig.Tool+" "+s.Method] = s.Meaning
		if s.Name != "Jane Q. Tester" || s.Account != w.account() || s.Reason == "" || s.Time.IsZero() || !s.Approves || p.sig.User != w.account() {
			t.Errorf("signature = %+v", s)
		}
		if s.Verified != (s.Method == audit.MethodTrayPassword) {
			t.Errorf("a %s signature says verified=%v", s.Method, s.Verified)
		}
		if p.call == nil || p.call.Event != audit.EventToolCall || p.call.Outcome != audit.OutcomeOK || p.call.Seq <= p.sig.Seq {
			t.Fatalf("the call signed by %+v: %+v", s, p.call)
		}
		ch := p.call.Change
		if ch == nil || ch.Before == nil || ch.After == nil || ch.Before.Same(ch.After) || ch.Error != "" {
			t.Errorf("%s: change = %+v", p.sig.Tool, ch)
		}
	}
	want := map[string]string{
		"update_labsheet_rows elicitation":   "Approved",
		"write_to_experiment input_required": "Reviewed and approved",
		"update_labsheet_rows tray-password": "Approved",
	}
	for k, v := range want {
		if methods[k] != v {
			t.Errorf("signatures by path = %v, want %v", methods, want)
			break
		}
	}
	for _, p := range signed {
		if p.sig.Tool == "update_labsheet_rows" && p.sig.Signature.Method == audit.MethodElicitation {
			if b, a := string(p.call.Change.Before.Value), string(p.call.Change.After.Value); !strings.Contains(b, `"Status":"Active"`) || !strings.Contains(a, `"Status":"Frozen"`) {
				t.Errorf("before %s\nafter %s", b, a)
			}
		}
	}

	// verify covers the signatures; export shows them to QA.
	if out, errOut, code := w.run("", "audit", "verify"); code != 0 {
		t.Fatalf("audit verify = %d\n%s%s", code, out, errOut)
	}
	table, errOut, code := w.run("", "audit", "export", "--signatures")
	if code != 0 {
		t.Fatalf("audit export --signatures = %d: %s", code, errOut)
	}
	for _, want := range []string{"SIGNED (UTC)", "Jane Q. Tester (" + w.account() + ")", "Reviewed and approved", "Vials moved to the -80 °C freezer",
		"Result recorded after QC", "Frozen stock recount", "account password, checked by the service",
		"answered in the AI client (elicitation)", "answered in the AI client (input_required)", "write_to_experiment", `labsheet "Cell Lines"`} {
		if !strings.Contains(table, want) {
			t.Errorf("the signature manifest lacks %q:\n%s", want, table)
		}
	}
	js, _, code := w.run("", "audit", "export", "--signatures", "--format", "json")
	var manifest []audit.ManifestEntry
	if err := json.Unmarshal([]byte(js), &manifest); code != 0 || err != nil || len(manifest) != 3 {
		t.Fatalf("manifest json (%d, %v): %s", code, err, js)
	}
	for _, e := range manifest {
		if e.Outcome != "ok" || e.CallRecord == "" || e.Change == nil || e.Change.Before == nil || e.Change.After == nil {
			t.Errorf("manifest entry = %+v", e)
		}
	}
	if out, _, code := w.run("", "audit", "export", "--signatures", "--format", "jsonl"); code != 2 {
		t.Errorf("a record format for the manifest = %d %s", code, out)
	}
}

// TestSignedWritesFromTypeScriptClients: the official TypeScript SDK
// signs through its elicitation handler: v1 answers the gateway's
// elicitation (2025), the v2 client in auto mode its input_required result
// (2026-07-28).
func TestSignedWritesFromTypeScriptClients(t *testing.T) {
	requireRoot(t)
	dir, _ := filepath.Abs("testdata/interop")
	for _, c := range []struct {
		sdk, pkg, protocol, method string
	}{
		{"v1", "sdk", "2025-11-25", audit.MethodElicitation},
		{"v2-auto", "client", "2026-07-28", audit.MethodInputRequired},
	} {
		t.Run(c.sdk, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", c.pkg)); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("the interop test's npm packages are missing: `make interop-deps` installs them")
				}
				t.Skip("npm packages not installed: run `make interop-deps`")
			}
			writePolicy(t, part11Policy)
			w := newWorld(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := w.commandContext(ctx, "node", "sign.mjs", c.sdk, "Approved", "Signed in the "+c.sdk+" client", binary, "serve", "--demo")
			cmd.Dir = dir
			var stdout bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
			if err := cmd.Run(); err != nil {
				t.Fatalf("node sign.mjs %s: %v\n%s", c.sdk, err, w.logs.String())
			}
			var got struct {
				ProtocolVersion string
				Asked           *struct{ Message string }
				Call            interopCall
			}
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("client output %q: %v", stdout.String(), err)
			}
			if got.ProtocolVersion != c.protocol || got.Asked == nil || !strings.Contains(got.Asked.Message, "write_to_experiment") {
				t.Fatalf("protocol %s, asked %+v", got.ProtocolVersion, got.Asked)
			}
			if got.Call.Error != "" || got.Call.IsError {
				t.Fatalf("the signed write = %+v", got.Call)
			}
			sig := lastEvent(t, w, audit.EventSignature)
			if sig.Signature == nil || sig.Signature.Method != c.method || sig.Signature.Reason != "Signed in the "+c.sdk+" client" {
				t.Fatalf("signature = %+v", sig.Signature)
			}
			if r := lastRecord(t, w, "write_to_experiment"); r.Event != audit.EventToolCall || r.Signature == nil || r.Signature.Record != sig.Hash {
				t.Fatalf("call = %+v", r)
			}
		})
	}
}

// TestSignedWritesOverHTTP: over `serve --http` too; a 2026-07-28
// client there is served statelessly, each request by a fresh SDK
// session, and its input_required retry must still find its question.
func TestSignedWritesOverHTTP(t *testing.T) {
	requireRoot(t)
	requireKeyring(t)
	writePolicy(t, strings.TrimSuffix(part11Policy, "}")+`, "AllowLocalHTTP": true}`)
	w := newWorld(t)
	u, secret := startHTTP(t, w)
	for _, tc := range []struct{ protocol, method string }{
		{"2025-06-18", audit.MethodElicitation},
		{"", audit.MethodInputRequired},
	} {
		t.Run(tc.method, func(t *testing.T) {
			var asked string
			client := signingClient("http-signer-"+tc.method, "Approved", "Signed over HTTP", &asked)
			cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: u, HTTPClient: &http.Client{Transport: bearer{secret, http.DefaultTransport}}},
				&mcp.ClientSessionOptions{ProtocolVersion: tc.protocol})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if res, text := callText(t, cs, "write_to_experiment", map[string]any{"hrid": "EXP-0002", "html": "<p>Over HTTP.</p>"}); res.IsError {
				t.Fatalf("signed write over HTTP refused: %q", text)
			}
			sig := lastEvent(t, w, audit.EventSignature)
			if sig.Signature == nil || sig.Signature.Method != tc.method || sig.Client.Name != "http-signer-"+tc.method {
				t.Fatalf("signature = %+v", sig)
			}
			if r := lastRecord(t, w, "write_to_experiment"); r.Signature == nil || r.Signature.Record != sig.Hash || r.Session != sig.Session {
				t.Fatalf("call = %+v", r)
			}
		})
	}
	if out, errOut, code := w.run("", "audit", "verify"); code != 0 {
		t.Fatalf("audit verify = %d\n%s%s", code, out, errOut)
	}
}
