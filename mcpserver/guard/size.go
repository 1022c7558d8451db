package guard

import (
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// CheckResultSize enforces MaxResultBytes: nil when a result of n bytes
// may pass, else a *Refusal matching ErrResultTooLarge.
func CheckResultSize(n, limit int64) error {
	if n <= limit {
		return nil
	}
	got, allowed := formatPair(n, limit)
	return &Refusal{Rule: RuleResultSize, err: ErrResultTooLarge,
		Sentence: fmt.Sprintf("The result is %s, larger than the %s your admin allows for one call (MaxResultBytes); narrow the filter or ask for fewer rows per page.", got, allowed)}
}

// ResultSize is the size of res as it travels to the client: the length of
// its JSON encoding. A nil result has size 0.
func ResultSize(res *mcp.CallToolResult) (int64, error) {
	if res == nil {
		return 0, nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return 0, fmt.Errorf("measuring the tool result: %w", err)
	}
	return int64(len(b)), nil
}
