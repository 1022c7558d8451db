// Package catalog names the tools that Scispot's MCP server publishes and
// what kind each one is. The gateway uses it to apply the write-tool rules
// and the default allow list; the demo workspace implements exactly these.
package catalog

// Kind says whether a tool only reads lab data or changes it.
type Kind int

const (
	// Unknown is a tool this release does not know (one the upstream added
	// later). It is hidden until policy names it.
	Unknown Kind = iota
	// Read tools never change the workspace.
	Read
	// Write tools add to or change the workspace.
	Write
)

// Tool describes one Scispot MCP tool.
type Tool struct {
	Name string
	Kind Kind
	// Destructive writes overwrite existing values.
	Destructive bool
}

// tools is in the order of scispot-tools.md; it is copied out by the
// accessors below so no caller can change it.
var tools = [...]Tool{
	{Name: "list_labsheets", Kind: Read},
	{Name: "get_labsheet_schema", Kind: Read},
	{Name: "search_labsheet_rows", Kind: Read},
	{Name: "get_labsheet_row", Kind: Read},
	{Name: "list_labsheet_folders", Kind: Read},
	{Name: "list_labspaces", Kind: Read},
	{Name: "list_experiments", Kind: Read},
	{Name: "get_experiment", Kind: Read},
	{Name: "list_protocols", Kind: Read},
	{Name: "get_protocol", Kind: Read},
	{Name: "list_documentations", Kind: Read},
	{Name: "get_documentation", Kind: Read},
	{Name: "list_locations", Kind: Read},
	{Name: "get_manifest", Kind: Read},
	{Name: "list_labflow_samples", Kind: Read},
	{Name: "get_image_thumbnail", Kind: Read},

	{Name: "add_labsheet_rows", Kind: Write},
	{Name: "update_labsheet_rows", Kind: Write, Destructive: true},
	{Name: "create_experiment_stub", Kind: Write},
	{Name: "write_to_experiment", Kind: Write, Destructive: true},
	{Name: "create_protocol_stub", Kind: Write},
	{Name: "write_to_protocol", Kind: Write, Destructive: true},
	{Name: "create_documentation_stub", Kind: Write},
	{Name: "write_to_documentation", Kind: Write, Destructive: true},
	{Name: "link_labsheet_to_experiment", Kind: Write},
	{Name: "link_labsheet_to_protocol", Kind: Write},
	{Name: "link_labsheet_to_documentation", Kind: Write},
}

// All returns the 27 known tools in documentation order.
func All() []Tool { return append([]Tool(nil), tools[:]...) }

// Lookup returns the known tool with that name, or a Tool of Kind Unknown.
func Lookup(name string) Tool {
	for _, t := range tools {
		if t.Name == name {
			return t
		}
	}
	return Tool{Name: name, Kind: Unknown}
}

// ReadOnlyNames returns the names of the 16 read-only tools: the default
// allow list.
func ReadOnlyNames() []string {
	var names []string
	for _, t := range tools {
		if t.Kind == Read {
			names = append(names, t.Name)
		}
	}
	return names
}
