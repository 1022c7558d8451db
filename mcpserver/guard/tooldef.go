package guard

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/guard/injection"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// InspectTool looks at everything of a tool's definition that an AI
// client puts in front of its model — name, title, description, the
// annotations' title, every string of the input and output schemas
// (property names, descriptions, titles, enums, defaults, examples) and
// _meta — for instruction-like text and for secrets. A definition is
// never rewritten (a tool that lies about itself is not made usable by
// editing it): it returns why the tool must be hidden, naming the first
// place that fails, or "" when the definition is clean.
func InspectTool(t *mcp.Tool, secrets redact.Redactor) string {
	if t == nil {
		return ""
	}
	var problem string
	check := func(where, s string) bool {
		switch {
		case secrets.Contains(s):
			problem = "a definition that carries a secret (a Scispot token) in " + where
		case injection.Detect(s) != nil:
			problem = "a definition that carries text that looks like instructions to an AI in " + where
		default:
			return false
		}
		return true
	}
	if check("its name", t.Name) || check("its title", t.Title) || check("its description", t.Description) {
		return problem
	}
	if t.Annotations != nil && check("its annotations' title", t.Annotations.Title) {
		return problem
	}
	for _, part := range []struct {
		name string
		v    any
	}{{"its inputSchema", t.InputSchema}, {"its outputSchema", t.OutputSchema}, {"its _meta", map[string]any(t.Meta)}} {
		if part.v == nil {
			continue
		}
		v, err := plainJSON(part.v)
		if err != nil {
			return fmt.Sprintf("a definition whose %s cannot be read (%v)", strings.TrimPrefix(part.name, "its "), err)
		}
		if walkStrings(v, part.name, check) {
			return problem
		}
	}
	return ""
}

// walkStrings calls check on every string and key of a plain JSON value,
// with where naming its place (its inputSchema at properties.filter.description),
// in a stable order; it stops at the first check that returns true.
func walkStrings(v any, where string, check func(where, s string) bool) bool {
	switch t := v.(type) {
	case string:
		return check(where, t)
	case []any:
		for i, e := range t {
			if walkStrings(e, at(where, strconv.Itoa(i)), check) {
				return true
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if check(at(where, k), k) || walkStrings(t[k], at(where, k), check) {
				return true
			}
		}
	}
	return false
}

func at(where, key string) string {
	if strings.Contains(where, " at ") {
		return where + "." + key
	}
	return where + " at " + key
}
