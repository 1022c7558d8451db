package guard_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/guard"
)

func TestCheckResultSize(t *testing.T) {
	const mb = 1 << 20
	tests := []struct {
		name     string
		n, limit int64
		want     string // empty: allowed
	}{
		{"under", 1000, 2 * mb, ""},
		{"exactly the limit", 2 * mb, 2 * mb, ""},
		{"megabytes", 3565158, 2 * mb, "The result is 3.4 MB, larger than the 2.0 MB your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page."},
		{"one byte over", 2*mb + 1, 2 * mb, "The result is 2,097,153 bytes, larger than the 2,097,152 bytes your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page."},
		{"kilobytes", 5000, 4096, "The result is 4.9 KB, larger than the 4.0 KB your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page."},
		{"zero limit", 2, 0, "The result is 2 bytes, larger than the 0 bytes your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page."},
		{"gigabytes", 3 << 30, 1 << 30, "The result is 3.0 GB, larger than the 1.0 GB your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := guard.CheckResultSize(tt.n, tt.limit)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var r *guard.Refusal
			if !errors.As(err, &r) || !errors.Is(err, guard.ErrResultTooLarge) || r.Rule != guard.RuleResultSize {
				t.Fatalf("err = %v, want a result-size Refusal", err)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
		})
	}
}

func TestResultSize(t *testing.T) {
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "hello"}}}
	b, _ := json.Marshal(res)
	if n, err := guard.ResultSize(res); err != nil || n != int64(len(b)) {
		t.Errorf("ResultSize = %d, %v; want %d", n, err, len(b))
	}
	if n, err := guard.ResultSize(nil); err != nil || n != 0 {
		t.Errorf("ResultSize(nil) = %d, %v", n, err)
	}
	if _, err := guard.ResultSize(&mcp.CallToolResult{StructuredContent: func() {}}); err == nil {
		t.Error("unencodable result: want an error")
	}
}
