package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// Errors behind the IsError results. They reach the client only as text,
// so they start each message with a plain word the AI client can act on.
var (
	// errNotFound: the labsheet, row, page, location, manifest or labflow
	// named in the arguments does not exist.
	errNotFound = errors.New("not found")
	// errInvalid: the arguments are well-formed JSON but make no sense for
	// this workspace (unknown column, wrong value type, missing filter…).
	errInvalid = errors.New("invalid arguments")
)

// Limits that keep results and writes reasonably sized.
const (
	defaultPageSize = 25
	maxPageSize     = 100
	maxRowsPerWrite = 50
	maxHTMLBytes    = 256 << 10
	maxImageBytes   = 2 << 20
)

// toolDef is what the registration needs beyond the catalog's kind.
type toolDef struct {
	name        string
	title       string
	description string
	// idempotent: repeating the call with the same arguments changes nothing
	// more (true for every read).
	idempotent bool
}

// addTool registers one tool. Its read-only and destructive hints come from
// the catalog, so the demo cannot drift from what the gateway enforces.
// Handler errors become IsError results; a panic becomes one too, so a bug
// in sample-data handling never takes the gateway's process down.
func addTool[In any](s *mcp.Server, d toolDef, schema *jsonschema.Schema, h func(context.Context, In) (*mcp.CallToolResult, error)) {
	c := catalog.Lookup(d.name)
	if c.Kind == catalog.Unknown {
		panic(fmt.Sprintf("demo: tool %q is not in the catalog", d.name))
	}
	readOnly := c.Kind == catalog.Read
	tool := &mcp.Tool{
		Name:        d.name,
		Title:       d.title,
		Description: d.description,
		InputSchema: schema,
		Annotations: &mcp.ToolAnnotations{
			Title:           d.title,
			ReadOnlyHint:    readOnly,
			DestructiveHint: ptr(c.Destructive),
			IdempotentHint:  readOnly || d.idempotent,
			// The demo workspace is a closed world: nothing leaves the process.
			OpenWorldHint: ptr(false),
		},
	}
	mcp.AddTool(s, tool, func(ctx context.Context, _ *mcp.CallToolRequest, in In) (res *mcp.CallToolResult, _ any, err error) {
		defer func() {
			if r := recover(); r != nil {
				res, err = nil, fmt.Errorf("internal error in demo tool %s: %v", d.name, r)
			}
		}()
		res, err = h(ctx, in)
		return res, nil, err
	})
}

// schemaFor infers the input schema of T (descriptions from jsonschema
// tags, required from fields without omitempty) and lets the caller add
// what tags cannot say: enums and bounds.
//
// Never add a "default": go-sdk v1.8.0 panics applying defaults when a
// client sends "arguments": null (it unmarshals null into a nil map and
// then assigns to it), which would take the whole process down. Defaults
// are stated in descriptions and applied by the handlers instead.
func schemaFor[T any](adjust func(props map[string]*jsonschema.Schema)) *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("demo: inferring input schema for %T: %v", *new(T), err))
	}
	requireNonNull(s)
	if adjust != nil {
		adjust(s.Properties)
	}
	return s
}

// requireNonNull drops the "null" that inference allows for slices and
// pointers from required properties: a required list must be a list.
func requireNonNull(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	for name, p := range s.Properties {
		if slices.Contains(s.Required, name) && len(p.Types) == 2 && p.Types[0] == "null" {
			p.Type, p.Types = p.Types[1], nil
		}
		requireNonNull(p)
		requireNonNull(p.Items)
	}
}

// jsonResult renders v as indented JSON text, the way the Scispot tools
// answer. HTML is left unescaped so page content stays readable.
func jsonResult(v any) (*mcp.CallToolResult, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	return &mcp.CallToolResult{
		Content: []mcp.Content{&mcp.TextContent{Text: string(bytes.TrimRight(buf.Bytes(), "\n"))}},
	}, nil
}

func ptr[T any](v T) *T { return &v }

func minLen(n int) *int { return &n }

func bound(f float64) *float64 { return &f }

// enum lists the allowed values of a string property.
func enum(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}
