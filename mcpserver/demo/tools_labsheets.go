package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type noArgs struct{}

type labsheetArgs struct {
	Labsheet string `json:"labsheet" jsonschema:"Labsheet name (e.g. Cell Lines) or UUID, as list_labsheets returns it."`
}

type searchArgs struct {
	Labsheet string     `json:"labsheet" jsonschema:"Labsheet name (e.g. Cell Lines) or UUID."`
	Filter   *rowFilter `json:"filter,omitempty" jsonschema:"A condition on one column, e.g. {\"column\": \"Status\", \"op\": \"eq\", \"value\": \"Frozen\"}. Give a filter, a query, or both (rows must match both)."`
	Query    string     `json:"query,omitempty" jsonschema:"Text to find in any text-like cell (case-insensitive substring), e.g. HEK293T."`
	Page     int        `json:"page,omitempty" jsonschema:"Page number, from 1 (default 1)."`
	PageSize int        `json:"page_size,omitempty" jsonschema:"Rows per page, 1 to 100 (default 25)."`
}

type rowArgs struct {
	RowUUID  string `json:"row_uuid" jsonschema:"The row's UUID (its ID value, e.g. CL-0042, is accepted too)."`
	Labsheet string `json:"labsheet,omitempty" jsonschema:"Labsheet name or UUID; optional, narrows the lookup."`
}

type folderArgs struct {
	Folder string `json:"folder,omitempty" jsonschema:"Folder name or UUID. Omit to list all folders."`
}

type thumbnailArgs struct {
	RowUUID  string `json:"row_uuid" jsonschema:"UUID (or ID value) of a row with an image, e.g. from search_labsheet_rows."`
	Labsheet string `json:"labsheet,omitempty" jsonschema:"Labsheet name or UUID; optional."`
	Column   string `json:"column,omitempty" jsonschema:"IMAGE_COL column name; defaults to the labsheet's image column."`
}

type addRowsArgs struct {
	Labsheet string           `json:"labsheet" jsonschema:"Labsheet name or UUID."`
	Rows     []map[string]any `json:"rows" jsonschema:"Rows to add, each an object of column name to value (ID and UUID are assigned). DATE as YYYY-MM-DD, LIST as one of its options, CONNECTION as the connected row's ID or UUID."`
}

type rowUpdate struct {
	RowUUID string         `json:"row_uuid" jsonschema:"UUID (or ID value) of the row to change."`
	Values  map[string]any `json:"values" jsonschema:"Column name to new value; null clears a cell. Other columns keep their values."`
}

type updateRowsArgs struct {
	Labsheet string      `json:"labsheet" jsonschema:"Labsheet name or UUID."`
	Updates  []rowUpdate `json:"updates" jsonschema:"One entry per row to change."`
}

func (w *workspace) registerLabsheetTools(s *mcp.Server) {
	labsheetSchema := func(p map[string]*jsonschema.Schema) { p["labsheet"].MinLength = minLen(1) }

	addTool(s, toolDef{name: "list_labsheets", title: "List Labsheets",
		description: "List all Labsheets (typed LIMS tables) in the workspace with their folder, row and column counts."},
		schemaFor[noArgs](nil), w.listLabsheets)

	addTool(s, toolDef{name: "get_labsheet_schema", title: "Get Labsheet Schema",
		description: "Get a Labsheet's columns: name, Scispot type (ID, UUID, ID_BARCODE, TEXT, DATE, LIST, NUMBER, CHECKBOX, IMAGE_COL, CONNECTION), LIST options and connections."},
		schemaFor[labsheetArgs](labsheetSchema), w.getLabsheetSchema)

	addTool(s, toolDef{name: "search_labsheet_rows", title: "Search Labsheet Rows",
		description: "Find rows of a Labsheet that match a filter on one column and/or a text query. A filter or a query is required. " +
			"Results are paged: the answer has total, page, page_size and next_page (null on the last page)."},
		schemaFor[searchArgs](func(p map[string]*jsonschema.Schema) {
			labsheetSchema(p)
			f := p["filter"]
			f.Properties["column"].MinLength = minLen(1)
			f.Properties["op"].Enum = enum(filterOps...)
			p["query"].MinLength = minLen(1)
			p["page"].Minimum = bound(1)
			p["page_size"].Minimum = bound(1)
			p["page_size"].Maximum = bound(maxPageSize)
		}), w.searchRows)

	addTool(s, toolDef{name: "get_labsheet_row", title: "Get Labsheet Row",
		description: "Get one Labsheet row, with every column, by its UUID."},
		schemaFor[rowArgs](func(p map[string]*jsonschema.Schema) { p["row_uuid"].MinLength = minLen(1) }), w.getRow)

	addTool(s, toolDef{name: "list_labsheet_folders", title: "List Labsheet Folders",
		description: "List the Labsheet folders, or, given a folder, the Labsheets in it."},
		schemaFor[folderArgs](nil), w.listFolders)

	addTool(s, toolDef{name: "get_image_thumbnail", title: "Get Image Thumbnail",
		description: "Get the thumbnail of the image in a row's IMAGE_COL cell, as a PNG image."},
		schemaFor[thumbnailArgs](func(p map[string]*jsonschema.Schema) { p["row_uuid"].MinLength = minLen(1) }), w.getThumbnail)

	addTool(s, toolDef{name: "add_labsheet_rows", title: "Add Labsheet Rows",
		description: fmt.Sprintf("Add up to %d rows to a Labsheet. Values are checked against the column types; "+
			"if any row is invalid nothing is added. Returns the new rows' IDs and UUIDs.", maxRowsPerWrite)},
		schemaFor[addRowsArgs](func(p map[string]*jsonschema.Schema) {
			labsheetSchema(p)
			p["rows"].MinItems = minLen(1)
			p["rows"].MaxItems = minLen(maxRowsPerWrite)
		}), w.addRows)

	addTool(s, toolDef{name: "update_labsheet_rows", title: "Update Labsheet Rows", idempotent: true,
		description: fmt.Sprintf("Overwrite cell values in up to %d existing rows of a Labsheet. "+
			"If any update is invalid nothing is changed. Returns the changed rows.", maxRowsPerWrite)},
		schemaFor[updateRowsArgs](func(p map[string]*jsonschema.Schema) {
			labsheetSchema(p)
			p["updates"].MinItems = minLen(1)
			p["updates"].MaxItems = minLen(maxRowsPerWrite)
			p["updates"].Items.Properties["row_uuid"].MinLength = minLen(1)
		}), w.updateRows)
}

type labsheetView struct {
	UUID        string `json:"uuid"`
	Name        string `json:"name"`
	Folder      string `json:"folder"`
	Description string `json:"description"`
	RowCount    int    `json:"row_count"`
	ColumnCount int    `json:"column_count"`
	CreatedAt   string `json:"created_at"`
}

func viewLabsheet(s *labsheet) labsheetView {
	return labsheetView{UUID: s.UUID, Name: s.Name, Folder: s.Folder, Description: s.Description,
		RowCount: len(s.Rows), ColumnCount: len(s.Columns), CreatedAt: stamp(s.Created)}
}

func (w *workspace) listLabsheets(_ context.Context, _ noArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := struct {
		Labsheets []labsheetView `json:"labsheets"`
		Total     int            `json:"total"`
	}{Total: len(w.sheets)}
	for _, s := range w.sheets {
		out.Labsheets = append(out.Labsheets, viewLabsheet(s))
	}
	return jsonResult(out)
}

func (w *workspace) getLabsheetSchema(_ context.Context, in labsheetArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.sheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	return jsonResult(struct {
		labsheetView
		Columns []column `json:"columns"`
	}{viewLabsheet(s), s.Columns})
}

func (w *workspace) searchRows(_ context.Context, in searchArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.sheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	query := strings.ToLower(strings.TrimSpace(in.Query))
	if in.Filter == nil && query == "" {
		return nil, fmt.Errorf("%w: give a filter (e.g. {\"column\": \"Status\", \"op\": \"eq\", \"value\": \"Frozen\"}) or a query; "+
			"listing a whole labsheet is not supported", errInvalid)
	}
	match := func(map[string]any) bool { return true }
	if in.Filter != nil {
		if match, err = in.Filter.compile(s); err != nil {
			return nil, err
		}
	}
	page, size := in.Page, in.PageSize
	if page == 0 {
		page = 1
	}
	if size == 0 {
		size = defaultPageSize
	}
	if page < 1 || size < 1 || size > maxPageSize {
		return nil, fmt.Errorf("%w: page must be 1 or more and page_size between 1 and %d", errInvalid, maxPageSize)
	}

	var hits []*row
	for _, r := range s.Rows {
		if match(r.Cells) && (query == "" || rowContains(s, r, query)) {
			hits = append(hits, r)
		}
	}
	start := len(hits)
	if page-1 < len(hits)/size+1 { // avoids overflowing (page-1)*size
		start = min(len(hits), (page-1)*size)
	}
	end := min(len(hits), start+size)
	var next *int
	if end < len(hits) {
		next = ptr(page + 1)
	}
	out := struct {
		Labsheet     string     `json:"labsheet"`
		LabsheetUUID string     `json:"labsheet_uuid"`
		Filter       *rowFilter `json:"filter,omitempty"`
		Query        string     `json:"query,omitempty"`
		Total        int        `json:"total"`
		Page         int        `json:"page"`
		PageSize     int        `json:"page_size"`
		NextPage     *int       `json:"next_page"`
		Rows         []rowView  `json:"rows"`
	}{Labsheet: s.Name, LabsheetUUID: s.UUID, Filter: in.Filter, Query: in.Query,
		Total: len(hits), Page: page, PageSize: size, NextPage: next, Rows: []rowView{}}
	for _, r := range hits[start:end] {
		out.Rows = append(out.Rows, viewRow(s, r))
	}
	return jsonResult(out)
}

func rowContains(s *labsheet, r *row, lowerQuery string) bool {
	for _, c := range s.Columns {
		if !textLike(c.Type) {
			continue
		}
		if v, ok := r.Cells[c.Name].(string); ok && strings.Contains(strings.ToLower(v), lowerQuery) {
			return true
		}
	}
	return false
}

func (w *workspace) optionalSheetLocked(ref string) (*labsheet, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, nil
	}
	return w.sheetLocked(ref)
}

func (w *workspace) getRow(_ context.Context, in rowArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sheet, err := w.optionalSheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	s, r, err := w.rowLocked(sheet, in.RowUUID)
	if err != nil {
		return nil, err
	}
	return jsonResult(viewRow(s, r))
}

func (w *workspace) listFolders(_ context.Context, in folderArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	type folderView struct {
		UUID      string   `json:"uuid"`
		Name      string   `json:"name"`
		Labsheets []string `json:"labsheets"`
	}
	sheetsIn := func(f *sheetFolder) []*labsheet {
		var out []*labsheet
		for _, s := range w.sheets {
			if s.Folder == f.Name {
				out = append(out, s)
			}
		}
		return out
	}
	ref := strings.TrimSpace(in.Folder)
	if ref == "" {
		out := struct {
			Folders []folderView `json:"folders"`
		}{}
		for _, f := range w.folders {
			v := folderView{UUID: f.UUID, Name: f.Name, Labsheets: []string{}}
			for _, s := range sheetsIn(f) {
				v.Labsheets = append(v.Labsheets, s.Name)
			}
			out.Folders = append(out.Folders, v)
		}
		return jsonResult(out)
	}
	i := slices.IndexFunc(w.folders, func(f *sheetFolder) bool { return strings.EqualFold(f.Name, ref) || f.UUID == strings.ToLower(ref) })
	if i < 0 {
		names := make([]string, len(w.folders))
		for i, f := range w.folders {
			names[i] = f.Name
		}
		return nil, fmt.Errorf("%w: no labsheet folder %q; folders are: %s", errNotFound, ref, strings.Join(names, ", "))
	}
	f := w.folders[i]
	out := struct {
		UUID      string         `json:"uuid"`
		Folder    string         `json:"folder"`
		Labsheets []labsheetView `json:"labsheets"`
	}{UUID: f.UUID, Folder: f.Name, Labsheets: []labsheetView{}}
	for _, s := range sheetsIn(f) {
		out.Labsheets = append(out.Labsheets, viewLabsheet(s))
	}
	return jsonResult(out)
}

func (w *workspace) getThumbnail(_ context.Context, in thumbnailArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sheet, err := w.optionalSheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	s, r, err := w.rowLocked(sheet, in.RowUUID)
	if err != nil {
		return nil, err
	}
	col := s.imageColumn()
	if in.Column != "" {
		c, ok := s.column(in.Column)
		if !ok || c.Type != colImage {
			return nil, fmt.Errorf("%w: %q is not an IMAGE_COL column of labsheet %q", errInvalid, in.Column, s.Name)
		}
		col = c.Name
	}
	if col == "" {
		return nil, fmt.Errorf("%w: labsheet %q has no IMAGE_COL column", errNotFound, s.Name)
	}
	file, _ := r.Cells[col].(string)
	if r.image == 0 || file == "" {
		return nil, fmt.Errorf("%w: row %s has no image in column %q", errNotFound, r.Cells[s.idColumn()], col)
	}
	png, err := renderThumbnail(r.image)
	if err != nil {
		return nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{
		&mcp.ImageContent{Data: png, MIMEType: "image/png"},
		&mcp.TextContent{Text: fmt.Sprintf("Thumbnail (%d×%d PNG) of %s in column %q of row %s (%v), labsheet %s.",
			thumbWidth, thumbHeight, file, col, r.Cells[s.idColumn()], r.Cells["Name"], s.Name)},
	}}, nil
}

// cellsLocked validates a column→value object for s and returns it keyed by
// the canonical column names.
func (w *workspace) cellsLocked(s *labsheet, values map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for name, v := range values {
		c, ok := s.column(name)
		if !ok {
			return nil, fmt.Errorf("%w: labsheet %q has no column %q; its columns are: %s", errInvalid, s.Name, name, s.columnNames())
		}
		if _, dup := out[c.Name]; dup {
			return nil, fmt.Errorf("%w: column %q is given twice", errInvalid, c.Name)
		}
		cv, err := w.cellValueLocked(s, c, v)
		if err != nil {
			return nil, err
		}
		out[c.Name] = cv
	}
	return out, nil
}

type touchedRow struct {
	ID      any      `json:"id"`
	UUID    string   `json:"uuid"`
	Columns []string `json:"columns,omitempty"`
}

func (w *workspace) addRows(_ context.Context, in addRowsArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.sheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	if len(in.Rows) == 0 || len(in.Rows) > maxRowsPerWrite {
		return nil, fmt.Errorf("%w: give between 1 and %d rows", errInvalid, maxRowsPerWrite)
	}
	// Check every row before adding any, so a bad row loses nothing.
	prepared := make([]map[string]any, len(in.Rows))
	for i, values := range in.Rows {
		cells, err := w.cellsLocked(s, values)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		for _, c := range s.Columns {
			if c.Required && c.Type != colID && c.Type != colUUID && isEmpty(cells[c.Name]) {
				return nil, fmt.Errorf("row %d: %w: column %q is required", i+1, errInvalid, c.Name)
			}
		}
		prepared[i] = cells
	}
	now := w.nowUTC()
	out := struct {
		Labsheet string       `json:"labsheet"`
		Added    int          `json:"added"`
		Rows     []touchedRow `json:"rows"`
	}{Labsheet: s.Name, Added: len(prepared)}
	for _, cells := range prepared {
		for k, v := range cells {
			if v == nil {
				delete(cells, k)
			}
		}
		r := s.addRowLocked(w.ids.uuid(), cells, now)
		out.Rows = append(out.Rows, touchedRow{ID: r.Cells[s.idColumn()], UUID: r.UUID})
	}
	return jsonResult(out)
}

func (w *workspace) updateRows(_ context.Context, in updateRowsArgs) (*mcp.CallToolResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, err := w.sheetLocked(in.Labsheet)
	if err != nil {
		return nil, err
	}
	if len(in.Updates) == 0 || len(in.Updates) > maxRowsPerWrite {
		return nil, fmt.Errorf("%w: give between 1 and %d updates", errInvalid, maxRowsPerWrite)
	}
	type change struct {
		r     *row
		cells map[string]any
	}
	changes := make([]change, len(in.Updates))
	for i, u := range in.Updates {
		_, r, err := w.rowLocked(s, u.RowUUID)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", i+1, err)
		}
		if len(u.Values) == 0 {
			return nil, fmt.Errorf("update %d: %w: values is empty", i+1, errInvalid)
		}
		cells, err := w.cellsLocked(s, u.Values)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", i+1, err)
		}
		changes[i] = change{r, cells}
	}
	now := w.nowUTC()
	out := struct {
		Labsheet string       `json:"labsheet"`
		Updated  int          `json:"updated"`
		Rows     []touchedRow `json:"rows"`
	}{Labsheet: s.Name, Updated: len(changes)}
	for _, c := range changes {
		t := touchedRow{ID: c.r.Cells[s.idColumn()], UUID: c.r.UUID}
		for _, col := range s.Columns { // report in column order
			v, ok := c.cells[col.Name]
			if !ok {
				continue
			}
			if v == nil {
				delete(c.r.Cells, col.Name)
			} else {
				c.r.Cells[col.Name] = v
			}
			t.Columns = append(t.Columns, col.Name)
		}
		c.r.Updated = now
		out.Rows = append(out.Rows, t)
	}
	return jsonResult(out)
}
