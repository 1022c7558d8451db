package upstreamtest

import (
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// ExtraTool is published on top of the catalog's 27 tools. No release
// knows it, so a gateway must keep it hidden.
const ExtraTool = "export_everything"

// ToolNames returns the names the server publishes when it starts: the
// catalog's 27 in documentation order, then ExtraTool.
func ToolNames() []string {
	var names []string
	for _, t := range catalog.All() {
		names = append(names, t.Name)
	}
	return append(names, ExtraTool)
}

// toolSpec is what a schema needs beyond the catalog: a description and
// the argument properties (name → JSON Schema), with the required ones.
type toolSpec struct {
	description string
	props       map[string]any
	required    []string
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func integer(desc string, minimum int) map[string]any {
	return map[string]any{"type": "integer", "description": desc, "minimum": minimum}
}

func object(desc string) map[string]any { return map[string]any{"type": "object", "description": desc} }

func rows(desc string) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": map[string]any{"type": "object"}}
}

// specs gives every catalog tool arguments shaped like Scispot's. It
// builds fresh maps on each call, so no two servers share a schema.
func specs() map[string]toolSpec {
	labsheetArg := str("Labsheet name or UUID")
	locationArg := str("Labspace or folder, written labspace:folder")
	hridArg := str("human-readable id, e.g. EXP-0042")
	positionArg := map[string]any{"type": "string", "enum": []any{"append", "prepend"}, "description": "where the content goes"}
	return map[string]toolSpec{
		"list_labsheets":        {description: "List all Labsheets."},
		"get_labsheet_schema":   {description: "A Labsheet's columns and their types.", props: map[string]any{"labsheet": labsheetArg}, required: []string{"labsheet"}},
		"search_labsheet_rows":  {description: "Rows of a Labsheet that match a filter.", props: map[string]any{"labsheet": labsheetArg, "filter": object("column conditions"), "page": integer("page number", 1), "page_size": integer("rows per page", 1)}, required: []string{"labsheet", "filter"}},
		"get_labsheet_row":      {description: "One Labsheet row by UUID.", props: map[string]any{"labsheet": labsheetArg, "uuid": str("row UUID")}, required: []string{"labsheet", "uuid"}},
		"list_labsheet_folders": {description: "Labsheet folders, or the Labsheets in one folder.", props: map[string]any{"folder": str("folder name")}},
		"list_labspaces":        {description: "All ELN Labspaces."},
		"list_experiments":      {description: "Experiments in a location.", props: map[string]any{"location": locationArg}, required: []string{"location"}},
		"get_experiment":        {description: "An experiment's full content.", props: map[string]any{"hrid": hridArg}, required: []string{"hrid"}},
		"list_protocols":        {description: "Protocols in a location.", props: map[string]any{"location": locationArg}, required: []string{"location"}},
		"get_protocol":          {description: "A protocol's full content.", props: map[string]any{"hrid": hridArg}, required: []string{"hrid"}},
		"list_documentations":   {description: "Documentation pages in a location.", props: map[string]any{"location": locationArg}, required: []string{"location"}},
		"get_documentation":     {description: "A documentation page's full content.", props: map[string]any{"hrid": hridArg}, required: []string{"hrid"}},
		"list_locations":        {description: "Root storage locations."},
		"get_manifest":          {description: "A plate, box or rack with its wells or slots.", props: map[string]any{"id": str("hrid, UUID or barcode")}, required: []string{"id"}},
		"list_labflow_samples":  {description: "The sample UUIDs in a Labflow.", props: map[string]any{"labflow": str("Labflow name or UUID")}, required: []string{"labflow"}},
		"get_image_thumbnail":   {description: "A row's image thumbnail.", props: map[string]any{"labsheet": labsheetArg, "uuid": str("row UUID"), "column": str("IMAGE_COL column name")}, required: []string{"labsheet", "uuid", "column"}},

		"add_labsheet_rows":              {description: "Add rows to a Labsheet.", props: map[string]any{"labsheet": labsheetArg, "rows": rows("column → value")}, required: []string{"labsheet", "rows"}},
		"update_labsheet_rows":           {description: "Overwrite values in Labsheet rows.", props: map[string]any{"labsheet": labsheetArg, "rows": rows("uuid plus column → value")}, required: []string{"labsheet", "rows"}},
		"create_experiment_stub":         {description: "Create an empty experiment.", props: map[string]any{"location": locationArg, "name": str("title")}, required: []string{"location", "name"}},
		"write_to_experiment":            {description: "Write HTML into an experiment.", props: map[string]any{"hrid": hridArg, "html": str("HTML content"), "position": positionArg}, required: []string{"hrid", "html"}},
		"create_protocol_stub":           {description: "Create an empty protocol.", props: map[string]any{"location": locationArg, "name": str("title")}, required: []string{"location", "name"}},
		"write_to_protocol":              {description: "Write text, structured elements or images into a protocol.", props: map[string]any{"hrid": hridArg, "elements": rows("protocol elements"), "position": positionArg}, required: []string{"hrid", "elements"}},
		"create_documentation_stub":      {description: "Create an empty documentation page.", props: map[string]any{"location": locationArg, "name": str("title")}, required: []string{"location", "name"}},
		"write_to_documentation":         {description: "Write HTML into a documentation page.", props: map[string]any{"hrid": hridArg, "html": str("HTML content"), "position": positionArg}, required: []string{"hrid", "html"}},
		"link_labsheet_to_experiment":    {description: "Link a Labsheet to an experiment.", props: map[string]any{"labsheet": labsheetArg, "hrid": hridArg}, required: []string{"labsheet", "hrid"}},
		"link_labsheet_to_protocol":      {description: "Link a Labsheet to a protocol.", props: map[string]any{"labsheet": labsheetArg, "hrid": hridArg}, required: []string{"labsheet", "hrid"}},
		"link_labsheet_to_documentation": {description: "Link a Labsheet to a documentation page.", props: map[string]any{"labsheet": labsheetArg, "hrid": hridArg}, required: []string{"labsheet", "hrid"}},
	}
}

// toolDef builds the published definition of a tool. Names outside the
// catalog get an open schema and no hints, like a tool Scispot added after
// this release.
func toolDef(name string, specs map[string]toolSpec) *mcp.Tool {
	c := catalog.Lookup(name)
	sp, ok := specs[name]
	if !ok {
		sp = toolSpec{description: "A tool this release does not know: " + name + "."}
	}
	schema := map[string]any{"type": "object"}
	if sp.props != nil {
		schema["properties"] = sp.props
	}
	if sp.required != nil {
		schema["required"] = sp.required
	}
	t := &mcp.Tool{Name: name, Description: sp.description, InputSchema: schema}
	if c.Kind != catalog.Unknown {
		destructive := c.Destructive
		t.Annotations = &mcp.ToolAnnotations{
			ReadOnlyHint:    c.Kind == catalog.Read,
			DestructiveHint: &destructive,
			IdempotentHint:  c.Kind == catalog.Read,
		}
	}
	return t
}
