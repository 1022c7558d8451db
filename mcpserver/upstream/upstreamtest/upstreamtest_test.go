package upstreamtest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

func TestEveryCatalogToolHasASchema(t *testing.T) {
	sp := specs()
	for _, tool := range catalog.All() {
		if _, ok := sp[tool.Name]; !ok {
			t.Errorf("no arguments described for %s", tool.Name)
		}
		def := toolDef(tool.Name, sp)
		a := def.Annotations
		if a == nil || a.ReadOnlyHint != (tool.Kind == catalog.Read) || a.DestructiveHint == nil || *a.DestructiveHint != tool.Destructive {
			t.Errorf("%s: annotations %+v do not match the catalog", tool.Name, a)
		}
	}
	if len(sp) != len(catalog.All()) {
		t.Errorf("%d specs for %d catalog tools", len(sp), len(catalog.All()))
	}
	if names := ToolNames(); len(names) != 28 || names[27] != ExtraTool {
		t.Errorf("ToolNames() = %v", names)
	}
	if def := toolDef(ExtraTool, sp); def.Annotations != nil {
		t.Errorf("%s should carry no hints", ExtraTool)
	}
}

func TestRequiresTheToken(t *testing.T) {
	s := New(t, "right-token")
	for _, auth := range []string{"", "Bearer wrong-token", "right-token", "Basic right-token"} {
		req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", auth, resp.StatusCode)
		}
	}
	log := s.RequestLog()
	if len(log) != 4 || log[0].RPCMethod != "initialize" || s.Requests() != 4 {
		t.Errorf("request log %+v", log)
	}
	if len(s.Calls()) != 0 {
		t.Errorf("calls recorded without a token: %+v", s.Calls())
	}
}
