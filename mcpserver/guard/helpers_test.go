package guard_test

import (
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}
