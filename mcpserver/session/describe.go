package session

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// What the person is asked to sign: the client, the tool, what it
// touches, a readable summary of the change and the value it changes.

// maxShownValue bounds the current value in a question: enough to
// recognise the record, short enough for a dialog.
const maxShownValue = 1500

// question is one write put to the person.
type question struct {
	client      string // the AI client's name, or "The AI client"
	tool        catalog.Tool
	target      string
	change      string
	current     string // the value now, shortened, or why it is not shown
	meanings    []string
	needsReason bool
}

func newQuestion(client *mcp.Implementation, t catalog.Tool, args json.RawMessage, p policy.Policy, current string) question {
	q := question{client: "The AI client", tool: t, current: current, needsReason: p.RequireReasonForChange}
	if client != nil && client.Name != "" {
		q.client = client.Name
	}
	q.target, q.change = describeWrite(args)
	q.meanings = p.SignatureMeanings
	if len(q.meanings) == 0 {
		q.meanings = policy.DefaultSignatureMeanings()
	}
	return q
}

func (q question) kind() string {
	if q.tool.Destructive {
		return "DESTRUCTIVE write (it overwrites existing values)"
	}
	return "write"
}

// message is the question as one text, for the AI client's form.
func (q question) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s wants to make a %s in Scispot: %s on %s.", q.client, q.kind(), q.tool.Name, q.target)
	if q.change != "" {
		b.WriteString(" " + q.change)
	}
	if q.current != "" {
		b.WriteString("\nCurrent value: " + q.current)
	}
	fmt.Fprintf(&b, "\nSign it with its meaning (%s)", strings.Join(q.meanings, ", "))
	if q.needsReason {
		b.WriteString(" and your reason for the change")
	}
	b.WriteString(". Your answer is recorded as your signature, given in " + q.client + " and not checked by your password.")
	return b.String()
}

// Names of the form's fields and of the input request.
const (
	fieldMeaning = "meaning"
	fieldReason  = "reason"
	// inputSignature names the one input request of an input_required
	// result.
	inputSignature = "signature"
)

// elicitParams is the question as an MCP form: the meaning to choose and
// the reason, required when the policy says.
func (q question) elicitParams() *mcp.ElicitParams {
	enum := make([]any, len(q.meanings))
	for i, m := range q.meanings {
		enum[i] = m
	}
	required := []string{fieldMeaning}
	if q.needsReason {
		required = append(required, fieldReason)
	}
	return &mcp.ElicitParams{
		Mode:    "form",
		Message: q.message(),
		RequestedSchema: map[string]any{
			"type": "object",
			"properties": map[string]any{
				fieldMeaning: map[string]any{"type": "string", "title": "Meaning of your signature", "enum": enum,
					"description": "What your signature means; only " + strings.Join(approving(q.meanings), ", ") + " lets the write through."},
				fieldReason: map[string]any{"type": "string", "title": "Reason for the change", "maxLength": 1000,
					"description": "Why this change is made, kept with your signature in the audit trail."},
			},
			"required": required,
		},
	}
}

func approving(meanings []string) []string {
	var out []string
	for _, m := range meanings {
		if policy.MeaningAuthorises(m) {
			out = append(out, m)
		}
	}
	return out
}

// describeWrite names what a write touches and summarises the change from
// its arguments, for the person who must approve it.
func describeWrite(raw json.RawMessage) (target, change string) {
	var args map[string]any
	if json.Unmarshal(raw, &args) != nil || len(args) == 0 {
		return "(no arguments)", ""
	}
	var targets, parts []string
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := args[k]
		switch x := v.(type) {
		case string:
			if strings.Contains(k, "labsheet") || strings.Contains(k, "experiment") || strings.Contains(k, "protocol") ||
				strings.Contains(k, "documentation") || strings.HasSuffix(k, "id") || k == "hrid" || k == "location" || k == "name" || k == "title" {
				targets = append(targets, fmt.Sprintf("%s %q", k, clip(x, 60)))
			} else {
				parts = append(parts, fmt.Sprintf("%s: %q", k, clip(x, 80)))
			}
		case []any:
			parts = append(parts, fmt.Sprintf("%s: %d item(s)%s", k, len(x), itemsSummary(x)))
		default:
			b, _ := json.Marshal(x)
			parts = append(parts, fmt.Sprintf("%s: %s", k, clip(string(b), 80)))
		}
	}
	if ids := rowIDs(args); len(ids) > 0 {
		targets = append(targets, "row "+strings.Join(ids, ", "))
	}
	target = strings.Join(targets, ", ")
	if target == "" {
		target = "the workspace"
	}
	if len(parts) > 0 {
		change = "Change — " + strings.Join(parts, "; ") + "."
	}
	return target, change
}

// rowIDs are the ids of the existing rows an update names (at most five,
// then "…"), so the target says which records it overwrites.
func rowIDs(args map[string]any) []string {
	var ids []string
	for _, key := range [...]string{"updates", "rows"} {
		items, _ := args[key].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			for _, k := range [...]string{"row_uuid", "uuid", "row_id", "id", "ID"} {
				if s, ok := m[k].(string); ok && s != "" {
					ids = append(ids, clip(s, 40))
					break
				}
			}
		}
	}
	if len(ids) > 5 {
		ids = append(ids[:5], "…")
	}
	return ids
}

// itemsSummary shows the first items of a list (rows to add or update),
// compactly, so the person sees what is written and not only how much.
func itemsSummary(items []any) string {
	var shown []string
	for _, it := range items[:min(len(items), 3)] {
		b, _ := json.Marshal(it)
		shown = append(shown, clip(string(b), 120))
	}
	more := ""
	if len(items) > 3 {
		more = ", …"
	}
	return " (" + strings.Join(shown, ", ") + more + ")"
}

// shownValue is a recorded value as the question shows it.
func shownValue(v *audit.Value, text string) string {
	if v == nil {
		return ""
	}
	if len(v.Value) > 0 {
		return clip(string(v.Value), maxShownValue)
	}
	return clip(text, maxShownValue)
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
