package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type locationsArgs struct {
	Parent string `json:"parent,omitempty" jsonschema:"Name, hrid (LOC-0001) or UUID of a location to list inside; omit for the root locations."`
}

type manifestArgs struct {
	ID string `json:"id" jsonschema:"The plate, box or rack's hrid (MNF-0012), UUID or barcode (PLT-00142)."`
}

type labflowArgs struct {
	Labflow string `json:"labflow" jsonschema:"Labflow name (e.g. RNA-seq Sample Intake), hrid (LF-0001) or UUID."`
	Stage   string `json:"stage,omitempty" jsonschema:"Only samples at this stage; omit for all."`
}

func (w *workspace) registerStorageTools(s *mcp.Server) {
	addTool(s, toolDef{name: "list_locations", title: "List Storage Locations",
		description: "List the root storage locations (freezers, rooms, cabinets) with their sub-locations and the manifests stored there; " +
			"give parent to list inside one location."},
		schemaFor[locationsArgs](nil), w.listLocations)

	addTool(s, toolDef{name: "get_manifest", title: "Get Manifest",
		description: "Get a plate, box or rack with every well or slot and its sample, by hrid, UUID or barcode."},
		schemaFor[manifestArgs](func(p map[string]*jsonschema.Schema) { p["id"].MinLength = minLen(1) }), w.getManifest)

	addTool(s, toolDef{name: "list_labflow_samples", title: "List Labflow Samples",
		description: "List the UUIDs of the samples in a Labflow (a sample-tracking workflow), optionally only those at one stage."},
		schemaFor[labflowArgs](func(p map[string]*jsonschema.Schema) { p["labflow"].MinLength = minLen(1) }), w.listLabflowSamples)
}

type manifestRef struct {
	HRID    string `json:"hrid"`
	UUID    string `json:"uuid"`
	Barcode string `json:"barcode"`
	Name    string `json:"name"`
	Type    string `json:"type"`
}

type locationView struct {
	UUID         string        `json:"uuid"`
	HRID         string        `json:"hrid"`
	Name         string        `json:"name"`
	Type         string        `json:"type"`
	Path         string        `json:"path"`
	TemperatureC *float64      `json:"temperature_c"`
	Description  string        `json:"description,omitempty"`
	Children     []childView   `json:"children"`
	Manifests    []manifestRef `json:"manifests"`
}

type childView struct {
	UUID string `json:"uuid"`
	HRID string `json:"hrid"`
	Name string `json:"name"`
	Type string `json:"type"`
}

func (w *workspace) viewLocationLocked(l *storageLocation) locationView {
	v := locationView{UUID: l.UUID, HRID: l.HRID, Name: l.Name, Type: l.Type, Path: l.path(),
		TemperatureC: l.TemperatureC, Description: l.Description, Children: []childView{}, Manifests: []manifestRef{}}
	for _, c := range l.Children {
		v.Children = append(v.Children, childView{UUID: c.UUID, HRID: c.HRID, Name: c.Name, Type: c.Type})
	}
	for _, m := range w.manifestsAtLocked(l) {
		v.Manifests = append(v.Manifests, manifestRef{HRID: m.HRID, UUID: m.UUID, Barcode: m.Barcode, Name: m.Name, Type: m.Type})
	}
	return v
}

func (w *workspace) listLocations(_ context.Context, in locationsArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.locations
	var parent *storageLocation
	if strings.TrimSpace(in.Parent) != "" {
		l, err := w.storageLocked(in.Parent)
		if err != nil {
			return nil, err
		}
		parent, list = l, l.Children
	}
	out := struct {
		Parent    *locationView  `json:"parent,omitempty"`
		Locations []locationView `json:"locations"`
	}{Locations: []locationView{}}
	if parent != nil {
		v := w.viewLocationLocked(parent)
		v.Children = nil // listed in full below
		out.Parent = &v
	}
	for _, l := range list {
		out.Locations = append(out.Locations, w.viewLocationLocked(l))
	}
	return jsonResult(out)
}

type wellView struct {
	Well string `json:"well"`
	*wellContent
	Empty bool `json:"empty,omitempty"`
}

func (w *workspace) getManifest(_ context.Context, in manifestArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, err := w.manifestLocked(in.ID)
	if err != nil {
		return nil, err
	}
	out := struct {
		manifestRef
		Format    string     `json:"format"`
		Rows      int        `json:"rows"`
		Columns   int        `json:"columns"`
		Location  string     `json:"location"`
		Owner     string     `json:"owner"`
		CreatedAt string     `json:"created_at"`
		Filled    int        `json:"filled"`
		Wells     []wellView `json:"wells"`
	}{
		manifestRef: manifestRef{HRID: m.HRID, UUID: m.UUID, Barcode: m.Barcode, Name: m.Name, Type: m.Type},
		Format:      m.Format, Rows: m.Rows, Columns: m.Cols, Location: m.Location.path(), Owner: m.Owner,
		CreatedAt: stamp(m.Created), Filled: len(m.Contents),
	}
	for r := range m.Rows {
		for c := 1; c <= m.Cols; c++ {
			name := fmt.Sprintf("%c%d", 'A'+r, c)
			content := m.Contents[name]
			if content != nil {
				cp := *content // the view must not alias the workspace
				content = &cp
			}
			out.Wells = append(out.Wells, wellView{Well: name, wellContent: content, Empty: content == nil})
		}
	}
	return jsonResult(out)
}

func (w *workspace) listLabflowSamples(_ context.Context, in labflowArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := w.labflowLocked(in.Labflow)
	if err != nil {
		return nil, err
	}
	stage := strings.TrimSpace(in.Stage)
	if stage != "" {
		found := false
		for _, s := range f.Stages {
			if strings.EqualFold(s, stage) {
				stage, found = s, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: labflow %q has no stage %q; its stages are: %s", errInvalid, f.Name, in.Stage, strings.Join(f.Stages, ", "))
		}
	}
	out := struct {
		Labflow     string   `json:"labflow"`
		HRID        string   `json:"hrid"`
		UUID        string   `json:"uuid"`
		Stages      []string `json:"stages"`
		Stage       string   `json:"stage,omitempty"`
		Total       int      `json:"total"`
		SampleUUIDs []string `json:"sample_uuids"`
	}{Labflow: f.Name, HRID: f.HRID, UUID: f.UUID, Stages: f.Stages, Stage: stage, SampleUUIDs: []string{}}
	for _, s := range f.Samples {
		if stage == "" || s.Stage == stage {
			out.SampleUUIDs = append(out.SampleUUIDs, s.UUID)
		}
	}
	out.Total = len(out.SampleUUIDs)
	return jsonResult(out)
}
