package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// colType is a Scispot labsheet column type.
type colType string

const (
	colID         colType = "ID"
	colUUID       colType = "UUID"
	colBarcode    colType = "ID_BARCODE"
	colText       colType = "TEXT"
	colDate       colType = "DATE"
	colList       colType = "LIST"
	colNumber     colType = "NUMBER"
	colCheckbox   colType = "CHECKBOX"
	colImage      colType = "IMAGE_COL"
	colConnection colType = "CONNECTION"
)

// dateLayout is how DATE cells are written, in results and in arguments.
const dateLayout = "2006-01-02"

type column struct {
	Name        string   `json:"name"`
	Type        colType  `json:"type"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required"`
	Options     []string `json:"options,omitempty"`            // LIST
	Target      string   `json:"connected_labsheet,omitempty"` // CONNECTION
}

// row is one labsheet row. Cells hold JSON-ready values (string, float64,
// bool) keyed by column name; a missing key is an empty cell. The ID and
// UUID columns are kept in cells too, so every column reads the same way.
type row struct {
	UUID    string
	Cells   map[string]any
	Created time.Time
	Updated time.Time
	// image is the seed of the row's thumbnail; zero means no image.
	image uint64
}

type labsheet struct {
	UUID        string
	Name        string
	Folder      string
	Description string
	IDPrefix    string
	Columns     []column
	Rows        []*row
	Created     time.Time
	nextSeq     int
	byUUID      map[string]*row
	byID        map[string]*row // upper-case ID column value
}

type sheetFolder struct {
	UUID string
	Name string
}

type pageKind int

const (
	experimentPage pageKind = iota
	protocolPage
	documentationPage
)

func (k pageKind) prefix() string { return [...]string{"EXP", "PRT", "DOC"}[k] }
func (k pageKind) noun() string {
	return [...]string{"experiment", "protocol", "documentation page"}[k]
}

// aNoun is the noun with its indefinite article: "an experiment".
func (k pageKind) aNoun() string {
	return [...]string{"an experiment", "a protocol", "a documentation page"}[k]
}

// word is how tool names spell the kind: get_<word>, create_<word>_stub.
func (k pageKind) word() string  { return [...]string{"experiment", "protocol", "documentation"}[k] }
func (k pageKind) title() string { return [...]string{"Experiment", "Protocol", "Documentation"}[k] }

// page is an experiment, protocol or documentation page in a Labspace.
type page struct {
	Kind     pageKind
	HRID     string
	UUID     string
	Name     string
	Labspace string
	Folder   string // empty: at the Labspace's top level
	Status   string
	Author   string
	Created  time.Time
	Updated  time.Time
	HTML     string    // experiments and documentation
	Elements []element // protocols: structured content, rendered to HTML on read
	Linked   []string  // labsheet names, in link order
}

func (p *page) location() string {
	if p.Folder == "" {
		return p.Labspace
	}
	return p.Labspace + ":" + p.Folder
}

// element is one structured block of protocol content.
type element struct {
	Type     string     `json:"type"`
	Text     string     `json:"text,omitempty"`
	Items    []string   `json:"items,omitempty"`
	Rows     [][]string `json:"rows,omitempty"`
	FileName string     `json:"file_name,omitempty"`
	MIMEType string     `json:"mime_type,omitempty"`
	Bytes    int        `json:"bytes,omitempty"`
	Caption  string     `json:"caption,omitempty"`
}

type labspace struct {
	UUID        string
	Name        string
	Description string
	Folders     []string
}

type storageLocation struct {
	UUID         string
	HRID         string
	Name         string
	Type         string // freezer, room, cabinet, shelf, rack
	TemperatureC *float64
	Description  string
	Children     []*storageLocation
	parent       *storageLocation
}

func (l *storageLocation) path() string {
	if l.parent == nil {
		return l.Name
	}
	return l.parent.path() + " / " + l.Name
}

type manifest struct {
	UUID     string
	HRID     string
	Barcode  string
	Name     string
	Type     string // plate, box, rack
	Format   string
	Rows     int
	Cols     int
	Location *storageLocation
	Owner    string
	Created  time.Time
	Contents map[string]*wellContent // by well name, e.g. "A1"
}

type wellContent struct {
	SampleUUID    string   `json:"sample_uuid"`
	Name          string   `json:"name"`
	SampleType    string   `json:"sample_type"`
	VolumeUL      float64  `json:"volume_ul"`
	Concentration *float64 `json:"concentration_mg_per_ml,omitempty"`
	Source        string   `json:"source,omitempty"`
}

type labflow struct {
	UUID        string
	HRID        string
	Name        string
	Description string
	Stages      []string
	Samples     []labflowSample
}

type labflowSample struct {
	UUID  string
	Name  string
	Stage string
}

// workspace is one demo server's copy of the sample data. mu guards
// everything below it; each tool call holds it for the whole call, which is
// plenty for a demo and keeps every result a consistent snapshot.
type workspace struct {
	now func() time.Time

	mu        sync.Mutex
	ids       *rng // UUIDs for records that write tools create
	folders   []*sheetFolder
	sheets    []*labsheet
	labspaces []*labspace
	pages     []*page
	lastHRID  [3]int // per pageKind
	locations []*storageLocation
	manifests []*manifest
	labflows  []*labflow
}

func (w *workspace) nowUTC() time.Time { return w.now().UTC().Truncate(time.Second) }

// sheetLocked finds a labsheet by name (case-insensitive) or UUID.
func (w *workspace) sheetLocked(ref string) (*labsheet, error) {
	ref = strings.TrimSpace(ref)
	for _, s := range w.sheets {
		if strings.EqualFold(s.Name, ref) || s.UUID == strings.ToLower(ref) {
			return s, nil
		}
	}
	names := make([]string, len(w.sheets))
	for i, s := range w.sheets {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("%w: no labsheet %q; labsheets are: %s", errNotFound, ref, strings.Join(names, ", "))
}

// rowLocked finds a row by UUID or by its ID column value (e.g. CL-0042),
// in one labsheet or, with sheet nil, in any.
func (w *workspace) rowLocked(sheet *labsheet, ref string) (*labsheet, *row, error) {
	ref = strings.TrimSpace(ref)
	sheets := w.sheets
	if sheet != nil {
		sheets = []*labsheet{sheet}
	}
	for _, s := range sheets {
		if r := s.byUUID[strings.ToLower(ref)]; r != nil {
			return s, r, nil
		}
		if r := s.byID[strings.ToUpper(ref)]; r != nil {
			return s, r, nil
		}
	}
	if sheet != nil {
		return nil, nil, fmt.Errorf("%w: labsheet %q has no row %q", errNotFound, sheet.Name, ref)
	}
	return nil, nil, fmt.Errorf("%w: no labsheet row has UUID or ID %q", errNotFound, ref)
}

func (s *labsheet) column(name string) (column, bool) {
	for _, c := range s.Columns {
		if strings.EqualFold(c.Name, strings.TrimSpace(name)) {
			return c, true
		}
	}
	return column{}, false
}

func (s *labsheet) columnNames() string {
	names := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func (s *labsheet) idColumn() string {
	for _, c := range s.Columns {
		if c.Type == colID {
			return c.Name
		}
	}
	return ""
}

func (s *labsheet) imageColumn() string {
	for _, c := range s.Columns {
		if c.Type == colImage {
			return c.Name
		}
	}
	return ""
}

// addRowLocked appends a row with the next ID and a fresh UUID.
func (s *labsheet) addRowLocked(uuid string, cells map[string]any, at time.Time) *row {
	s.nextSeq++
	id := fmt.Sprintf("%s-%04d", s.IDPrefix, s.nextSeq)
	r := &row{UUID: uuid, Cells: cells, Created: at, Updated: at}
	for _, c := range s.Columns {
		switch c.Type {
		case colID:
			cells[c.Name] = id
		case colUUID:
			cells[c.Name] = uuid
		}
	}
	s.Rows = append(s.Rows, r)
	s.byUUID[uuid] = r
	s.byID[id] = r
	return r
}

// location is a parsed "Labspace" or "Labspace:Folder" reference, with the
// names spelled as the workspace spells them.
type location struct {
	Labspace string
	Folder   string
}

func (l location) String() string {
	if l.Folder == "" {
		return l.Labspace
	}
	return l.Labspace + ":" + l.Folder
}

// locationLocked resolves a labspace location. Matching ignores case and
// the spaces around the colon.
func (w *workspace) locationLocked(ref string) (location, error) {
	space, folder, hasFolder := strings.Cut(ref, ":")
	space, folder = strings.TrimSpace(space), strings.TrimSpace(folder)
	for _, ls := range w.labspaces {
		if !strings.EqualFold(ls.Name, space) {
			continue
		}
		if !hasFolder {
			return location{Labspace: ls.Name}, nil
		}
		for _, f := range ls.Folders {
			if strings.EqualFold(f, folder) {
				return location{Labspace: ls.Name, Folder: f}, nil
			}
		}
		return location{}, fmt.Errorf("%w: labspace %q has no folder %q; its folders are: %s",
			errNotFound, ls.Name, folder, strings.Join(ls.Folders, ", "))
	}
	names := make([]string, len(w.labspaces))
	for i, ls := range w.labspaces {
		names[i] = ls.Name
	}
	return location{}, fmt.Errorf("%w: no labspace %q; labspaces are: %s (a folder is written \"Labspace:Folder\")",
		errNotFound, space, strings.Join(names, ", "))
}

// pagesLocked lists pages of one kind in a location; a Labspace location
// includes its folders.
func (w *workspace) pagesLocked(kind pageKind, loc location) []*page {
	var out []*page
	for _, p := range w.pages {
		if p.Kind == kind && p.Labspace == loc.Labspace && (loc.Folder == "" || p.Folder == loc.Folder) {
			out = append(out, p)
		}
	}
	return out
}

// pageLocked finds a page of one kind by hrid or UUID.
func (w *workspace) pageLocked(kind pageKind, ref string) (*page, error) {
	ref = strings.TrimSpace(ref)
	for _, p := range w.pages {
		if p.Kind == kind && (strings.EqualFold(p.HRID, ref) || p.UUID == strings.ToLower(ref)) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s with hrid or UUID %q (hrids look like %s-0001)", errNotFound, kind.noun(), ref, kind.prefix())
}

func (w *workspace) newPageLocked(kind pageKind, name string, loc location, author string, at time.Time) *page {
	w.lastHRID[kind]++
	p := &page{
		Kind:     kind,
		HRID:     fmt.Sprintf("%s-%04d", kind.prefix(), w.lastHRID[kind]),
		UUID:     w.ids.uuid(),
		Name:     name,
		Labspace: loc.Labspace,
		Folder:   loc.Folder,
		Status:   "Draft",
		Author:   author,
		Created:  at,
		Updated:  at,
	}
	w.pages = append(w.pages, p)
	return p
}

// storageLocked finds a storage location anywhere in the tree by
// name, hrid or UUID.
func (w *workspace) storageLocked(ref string) (*storageLocation, error) {
	ref = strings.TrimSpace(ref)
	var found *storageLocation
	var walk func([]*storageLocation)
	walk = func(ls []*storageLocation) {
		for _, l := range ls {
			if found != nil {
				return
			}
			if strings.EqualFold(l.Name, ref) || strings.EqualFold(l.HRID, ref) || l.UUID == strings.ToLower(ref) {
				found = l
				return
			}
			walk(l.Children)
		}
	}
	walk(w.locations)
	if found == nil {
		return nil, fmt.Errorf("%w: no storage location %q (use a name, hrid or UUID from list_locations)", errNotFound, ref)
	}
	return found, nil
}

func (w *workspace) manifestLocked(ref string) (*manifest, error) {
	ref = strings.TrimSpace(ref)
	for _, m := range w.manifests {
		if strings.EqualFold(m.HRID, ref) || strings.EqualFold(m.Barcode, ref) || m.UUID == strings.ToLower(ref) {
			return m, nil
		}
	}
	return nil, fmt.Errorf("%w: no plate, box or rack with hrid, UUID or barcode %q", errNotFound, ref)
}

func (w *workspace) labflowLocked(ref string) (*labflow, error) {
	ref = strings.TrimSpace(ref)
	for _, f := range w.labflows {
		if strings.EqualFold(f.Name, ref) || strings.EqualFold(f.HRID, ref) || f.UUID == strings.ToLower(ref) {
			return f, nil
		}
	}
	names := make([]string, len(w.labflows))
	for i, f := range w.labflows {
		names[i] = fmt.Sprintf("%s (%s)", f.Name, f.HRID)
	}
	return nil, fmt.Errorf("%w: no labflow %q; labflows are: %s", errNotFound, ref, strings.Join(names, ", "))
}

// manifestsAtLocked lists the manifests stored directly in a location.
func (w *workspace) manifestsAtLocked(l *storageLocation) []*manifest {
	var out []*manifest
	for _, m := range w.manifests {
		if m.Location == l {
			out = append(out, m)
		}
	}
	return out
}

// orderedCells renders a row's cells in column order, which a JSON map
// would lose.
type orderedCells struct {
	cols  []column
	cells map[string]any
}

func (o orderedCells) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range o.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(c.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(o.cells[c.Name]) // a missing cell is null
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// rowView is a row as the tools return it.
type rowView struct {
	UUID      string       `json:"uuid"`
	Labsheet  string       `json:"labsheet"`
	Data      orderedCells `json:"data"`
	CreatedAt string       `json:"created_at"`
	UpdatedAt string       `json:"updated_at"`
}

func viewRow(s *labsheet, r *row) rowView {
	return rowView{
		UUID:      r.UUID,
		Labsheet:  s.Name,
		Data:      orderedCells{cols: s.Columns, cells: cloneCells(r.Cells)},
		CreatedAt: stamp(r.Created),
		UpdatedAt: stamp(r.Updated),
	}
}

// cloneCells copies cells so a view never aliases data a later write changes.
func cloneCells(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
