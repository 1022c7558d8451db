package localhttp

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzHandler throws garbage, truncated frames, deep nesting and wrong
// types at the guarded Streamable HTTP handler: it must answer every
// request with an HTTP status and keep serving.
func FuzzHandler(f *testing.F) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "fuzz"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "echo"}, func(ctx context.Context, req *mcp.CallToolRequest, in struct{ S string }) (*mcp.CallToolResult, any, error) {
		return nil, nil, nil
	})
	h := Guard(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{MaxRequestBodyBytes: 1 << 20}), "s")
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"S":[[[[[[1]]]]]]}}}`,
		`{"jsonrpc":"2.0","id":`, "\xff\xfe", `[1,2,3]`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ct := range []string{"application/json", "text/plain"} {
			req := httptest.NewRequest("POST", "http://127.0.0.1:9/", bytes.NewReader(body))
			req.Host = "127.0.0.1:9"
			req.Header.Set("Authorization", "Bearer s")
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Accept", "application/json, text/event-stream")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code == 0 {
				t.Fatal("no status")
			}
		}
	})
}
