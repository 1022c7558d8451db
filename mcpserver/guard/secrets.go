package guard

import (
	"fmt"
	"maps"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// RedactSecrets replaces, in every place of res where text can reach a
// model (see rewriter), each secret r knows and each word shaped like a
// Scispot token with redact.Marker: a hostile or careless server that
// echoes the Authorization header, or lab data holding someone's token,
// never hands a token to an AI. Structured values stay valid JSON (keys
// are redacted too). found reports whether anything was replaced. res is
// never modified; a nil res gives nil.
func RedactSecrets(res *mcp.CallToolResult, r redact.Redactor) (out *mcp.CallToolResult, found bool, err error) {
	rw := rewriter{
		text: r.String,
		value: func(v any) (any, bool, error) {
			pv, err := plainJSON(v)
			if err != nil {
				return nil, false, err
			}
			if !secretIn(pv, r) {
				return v, false, nil
			}
			return redactSecrets(pv, r), true, nil
		},
	}
	out, found, err = rw.result(res)
	if err != nil {
		return nil, false, fmt.Errorf("looking for secrets in the result: %w", err)
	}
	return out, found, nil
}

// secretIn reports whether any string or key of a plain JSON value holds
// a secret.
func secretIn(v any, r redact.Redactor) bool {
	switch t := v.(type) {
	case string:
		return r.Contains(t)
	case []any:
		for _, e := range t {
			if secretIn(e, r) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if r.Contains(k) || secretIn(e, r) {
				return true
			}
		}
	}
	return false
}

// redactSecrets returns a copy of a plain JSON value with secrets removed.
func redactSecrets(v any, r redact.Redactor) any {
	switch t := v.(type) {
	case string:
		return r.String(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactSecrets(e, r)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			e := t[k]
			key := r.String(k)
			// Two keys that differ only by their secrets would collide:
			// number the later ones so no value is lost.
			for n := 2; ; n++ {
				if _, taken := out[key]; !taken {
					break
				}
				key = fmt.Sprintf("%s-%d", r.String(k), n)
			}
			out[key] = redactSecrets(e, r)
		}
		return out
	}
	return v
}
