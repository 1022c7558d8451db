package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// TestHostileScispot is issue 14's attack end to end: the stand-in for
// Scispot is the attacker, aiming huge error results, poisoned tool
// definitions, echoed secrets and a tool no release knows at the AI
// client, which runs `serve` as the scientist's account against a root
// scispot-mcpd.
func TestHostileScispot(t *testing.T) {
	w, up, token := managedWorld(t,
		`"MaxResultBytes": 102400, "MaxBytesPerHour": 204800`,
		`"AllowedTools": ["list_labsheets", "get_experiment", "get_protocol", "get_labsheet_row", "get_manifest", "purge_workspace"]`)
	// The account has run serve --http once: its local secret is in the
	// keychain, and must reach no AI either.
	const localSecret = "5f0e1d2c3b4a59687786958473625140f0e1d2c3b4a5968778695847362514"
	if out, err := w.shell("printf %s " + localSecret + " | secret-tool store --label=x service io.scispot.mcp username local-http-secret"); err != nil {
		t.Fatalf("secret-tool store: %v %s", err, out)
	}
	other := "sst_live_00112233445566778899" // someone else's token in lab data
	up.SetResult("get_experiment", upstreamtest.HugeError(5400<<10))
	up.SetResultFunc("get_protocol", upstreamtest.EchoToken)
	up.SetResult("get_labsheet_row", &mcp.CallToolResult{Content: []mcp.Content{
		&mcp.TextContent{Text: `{"ID": "CL-0137", "Notes": "shared key ` + localSecret + `, backup ` + other + `"}`},
		&mcp.ResourceLink{URI: "scispot://rows/CL-0137", Name: "CL-0137", Description: upstreamtest.Injection},
	}})
	up.SetTool(upstreamtest.Poisoned("get_manifest", upstreamtest.InPropertyDescription))
	up.SetTool(upstreamtest.PurgeWorkspace(upstreamtest.Hints{ReadOnly: true}))

	cs := w.connect("", "claude-ai")
	var seen []string
	t.Run("only judged tools are listed", func(t *testing.T) {
		listed := toolNames(t, cs)
		if slices.Contains(listed, upstreamtest.UnknownTool) || slices.Contains(listed, "get_manifest") || !slices.Contains(listed, "get_experiment") {
			t.Fatalf("tools = %v", listed)
		}
	})
	t.Run("error results are size-capped", func(t *testing.T) {
		// Ten 5.4 MB error results: each refused, none passes.
		for range 10 {
			res, text := callText(t, cs, "get_experiment", map[string]any{"hrid": "EXP-0001"})
			seen = append(seen, text)
			if !res.IsError || !strings.Contains(text, "MaxResultBytes") || len(text) > 1000 {
				t.Fatalf("5.4 MB error result: %v %.300q", res.IsError, text)
			}
		}
		if r := lastRecord(t, w, "get_experiment"); r.Event != audit.EventToolDenied || r.Rule != guard.RuleResultSize {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("secrets are redacted from every place", func(t *testing.T) {
		// The token echoed back in text, a resource link, _meta and
		// structuredContent; a local secret and another token in lab data.
		for _, tool := range []string{"get_protocol", "get_labsheet_row"} {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"hrid": "PRT-0001"}})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(res)
			seen = append(seen, string(raw))
			if res.IsError || !strings.Contains(string(raw), "[redacted]") {
				t.Fatalf("%s: %s", tool, raw)
			}
			if r := lastRecord(t, w, tool); !slices.Contains(r.Flags, audit.FlagSecretRedacted) {
				t.Fatalf("%s: record %+v", tool, r)
			}
		}
	})
	t.Run("a resource link is scanned", func(t *testing.T) {
		callText(t, cs, "get_labsheet_row", map[string]any{"labsheet": "Cell Lines", "uuid": "CL-0137"})
		if r := lastRecord(t, w, "get_labsheet_row"); !slices.Contains(r.Flags, audit.FlagInjectionSuspect) {
			t.Fatalf("the resource link's instructions were not seen: %+v", r)
		}
	})
	t.Run("poisoned and unknown tools are refused", func(t *testing.T) {
		for tool, rule := range map[string]string{"get_manifest": gateway.RuleToolPoisoned, upstreamtest.UnknownTool: gateway.RuleToolHidden} {
			res, text := callText(t, cs, tool, map[string]any{"confirm": true})
			if r := lastRecord(t, w, tool); !res.IsError || r.Event != audit.EventToolDenied || r.Rule != rule {
				t.Errorf("%s: %v %q, record %+v", tool, res.IsError, text, r)
			}
		}
		for _, c := range up.Calls() {
			if c.Tool == "get_manifest" || c.Tool == upstreamtest.UnknownTool {
				t.Fatalf("%s reached Scispot", c.Tool)
			}
		}
	})
	t.Run("tools --all says how each tool was judged", func(t *testing.T) {
		out, errOut, code := w.run("", "tools", "--all")
		seen = append(seen, out, errOut)
		for _, want := range []string{
			"purge_workspace", "write: not in this release's catalogue", "AllowWriteTools",
			"get_manifest", "instructions to an AI in its inputSchema at properties.note.description",
			"read: catalogue",
		} {
			if code != 0 || !strings.Contains(out, want) {
				t.Fatalf("tools --all (%d) lacks %q:\n%s%s", code, want, out, errOut)
			}
		}
	})
	t.Run("an unknown tool while Scispot is down is denied", func(t *testing.T) {
		// Scispot cannot list its tools: a new session's call of the tool
		// no release knows is denied as hidden, not recorded as an outage.
		up.SetMode(upstreamtest.Status(503, ""))
		defer up.SetMode(upstreamtest.Normal())
		down := w.connect("", "claude-ai")
		res, text := callText(t, down, upstreamtest.UnknownTool, map[string]any{"confirm": true})
		if r := lastRecord(t, w, upstreamtest.UnknownTool); !res.IsError || r.Event != audit.EventToolDenied || r.Rule != gateway.RuleToolHidden {
			t.Fatalf("while Scispot is down: %v %q, record %+v", res.IsError, text, r)
		}
	})

	// Nothing secret anywhere: results, output, the audit trail.
	trail := ""
	files, _ := filepath.Glob(filepath.Join(w.auditDir(), "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		trail += string(b)
	}
	for _, secret := range []string{token, localSecret, other} {
		w.assertNoSecret(secret, append(seen, trail)...)
	}
}
