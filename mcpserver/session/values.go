package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// The value a write changes, read through the same upstream with the
// matching read tool before the person is asked and again after the
// write (EU GMP Annex 11 §9: the audit trail keeps the previous and the
// new value).

// valueReads says, for each write tool that overwrites a record, which
// read tool returns that record. Writes that only add (rows, stubs,
// links) change no existing value.
var valueReads = map[string]string{
	"update_labsheet_rows":   "get_labsheet_row",
	"write_to_experiment":    "get_experiment",
	"write_to_protocol":      "get_protocol",
	"write_to_documentation": "get_documentation",
}

// maxReadTargets bounds the rows read for one update.
const maxReadTargets = 100

// valueRead is how to read what one write changes.
type valueRead struct {
	tool string
	// targets are the read's arguments, one per record the write
	// changes; labels name them in a value that holds several (row ids).
	targets []map[string]any
	labels  []string
}

// errCannotRead says the write's arguments do not name what it changes
// in a way the read tool takes.
var errCannotRead = errors.New("the value it changes cannot be read")

// readFor plans the read for a write, or returns nil for a write that
// changes no existing value. The read tool's published schema decides the
// argument names, since Scispot and the demo name a row's id differently.
func readFor(ctx context.Context, gw *gateway.Gateway, tool string, raw json.RawMessage) (*valueRead, error) {
	readTool, ok := valueReads[tool]
	if !ok {
		return nil, nil
	}
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, fmt.Errorf("%w: its arguments are not a JSON object", errCannotRead)
	}
	def := gw.UpstreamTool(ctx, readTool)
	if def == nil {
		return nil, fmt.Errorf("%w: Scispot does not publish %s", errCannotRead, readTool)
	}
	props := schemaProperties(def.InputSchema)
	r := &valueRead{tool: readTool}
	if tool != "update_labsheet_rows" {
		id, _ := args["hrid"].(string)
		param := firstOf(props, "hrid", "id", "uuid")
		if id == "" || param == "" {
			return nil, fmt.Errorf("%w: the write names no hrid that %s takes", errCannotRead, readTool)
		}
		r.targets = append(r.targets, map[string]any{param: id})
		return r, nil
	}
	sheet, _ := args["labsheet"].(string)
	rows, _ := args["updates"].([]any)
	if rows == nil {
		rows, _ = args["rows"].([]any)
	}
	idParam := firstOf(props, "row_uuid", "uuid", "row_id", "id")
	sheetParam := firstOf(props, "labsheet", "labsheet_uuid", "labsheet_id")
	if len(rows) == 0 || idParam == "" {
		return nil, fmt.Errorf("%w: the update names no rows that %s takes", errCannotRead, readTool)
	}
	if len(rows) > maxReadTargets {
		return nil, fmt.Errorf("%w: the update changes %d rows, more than the %d whose values are recorded", errCannotRead, len(rows), maxReadTargets)
	}
	for _, row := range rows {
		m, _ := row.(map[string]any)
		id := ""
		for _, k := range [...]string{"row_uuid", "uuid", "row_id", "id", "ID"} {
			if s, ok := m[k].(string); ok && s != "" {
				id = s
				break
			}
		}
		if id == "" {
			return nil, fmt.Errorf("%w: a row of the update names no row id", errCannotRead)
		}
		t := map[string]any{idParam: id}
		if sheet != "" && sheetParam != "" {
			t[sheetParam] = sheet
		}
		r.targets = append(r.targets, t)
		r.labels = append(r.labels, id)
	}
	return r, nil
}

// read reads the value now: one target's value as the read tool returned
// it, or an object of row id to value for several. text is the value as
// plain text (for a question when it is too long to keep inline).
func (r *valueRead) read(ctx context.Context, gw *gateway.Gateway, secrets []string) (v *audit.Value, text string, err error) {
	texts := make([]string, len(r.targets))
	for i, args := range r.targets {
		res, err := gw.ReadUpstream(ctx, &mcp.CallToolParams{Name: r.tool, Arguments: args})
		if err != nil {
			return nil, "", fmt.Errorf("reading it with %s: %w", r.tool, err)
		}
		t := resultText(res)
		if res.IsError {
			return nil, "", fmt.Errorf("reading it with %s: Scispot answered: %s", r.tool, clip(t, 300))
		}
		texts[i] = t
	}
	if len(texts) == 1 && r.labels == nil {
		return audit.NewValue(texts[0], secrets...), texts[0], nil
	}
	whole := map[string]json.RawMessage{}
	for i, t := range texts {
		if json.Valid([]byte(t)) {
			whole[r.labels[i]] = json.RawMessage(t)
		} else {
			b, _ := json.Marshal(t)
			whole[r.labels[i]] = b
		}
	}
	b, err := json.Marshal(whole)
	if err != nil {
		return nil, "", fmt.Errorf("reading it with %s: %w", r.tool, err)
	}
	return audit.NewValue(string(b), secrets...), string(b), nil
}

// resultText is a read's text content, or its structured content.
func resultText(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var parts []string
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, t.Text)
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		return string(b)
	}
	return strings.Join(parts, "\n")
}

// schemaProperties lists the property names of a published input schema.
func schemaProperties(schema any) map[string]bool {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	b, err := json.Marshal(schema)
	if err != nil || json.Unmarshal(b, &s) != nil {
		return nil
	}
	out := make(map[string]bool, len(s.Properties))
	for k := range s.Properties {
		out[k] = true
	}
	return out
}

func firstOf(props map[string]bool, names ...string) string {
	for _, n := range names {
		if props[n] {
			return n
		}
	}
	return ""
}
