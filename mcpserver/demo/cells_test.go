package demo

import (
	"errors"
	"testing"
	"time"
)

func TestFilterCompile(t *testing.T) {
	w := newWorkspace(time.Now)
	cells, _ := w.sheetLocked("Cell Lines")
	tests := []struct {
		name    string
		filter  rowFilter
		row     map[string]any
		want    bool
		wantErr error
	}{
		{"eq ignores case", rowFilter{"status", "EQ", "frozen"}, map[string]any{"Status": "Frozen"}, true, nil},
		{"ne matches empty", rowFilter{"Status", "ne", "Frozen"}, map[string]any{}, true, nil},
		{"number eq from string", rowFilter{"Passage", "eq", "12"}, map[string]any{"Passage": 12.0}, true, nil},
		{"number gt", rowFilter{"Passage", "gt", 12.0}, map[string]any{"Passage": 12.0}, false, nil},
		{"number gte", rowFilter{"Passage", "gte", 12.0}, map[string]any{"Passage": 12.0}, true, nil},
		{"empty number never compares", rowFilter{"Passage", "lt", 100.0}, map[string]any{}, false, nil},
		{"date lt", rowFilter{"Passage Date", "lt", "2025-01-01"}, map[string]any{"Passage Date": "2024-12-31"}, true, nil},
		{"checkbox eq", rowFilter{"Mycoplasma Tested", "eq", "true"}, map[string]any{"Mycoplasma Tested": true}, true, nil},
		{"contains", rowFilter{"Notes", "contains", "STR"}, map[string]any{"Notes": "STR profile ok"}, true, nil},
		{"is_empty", rowFilter{"Date Frozen", "is_empty", nil}, map[string]any{}, true, nil},
		{"is_not_empty", rowFilter{"Date Frozen", "is_not_empty", nil}, map[string]any{}, false, nil},
		{"unknown column", rowFilter{"Colour", "eq", "x"}, nil, false, errInvalid},
		{"unknown op", rowFilter{"Status", "like", "x"}, nil, false, errInvalid},
		{"missing value", rowFilter{"Status", "eq", nil}, nil, false, errInvalid},
		{"gt on text", rowFilter{"Name", "gt", "a"}, nil, false, errInvalid},
		{"bad date", rowFilter{"Passage Date", "gt", "31/12/2024"}, nil, false, errInvalid},
		{"bad number", rowFilter{"Passage", "gt", true}, nil, false, errInvalid},
		{"contains on number", rowFilter{"Passage", "contains", "1"}, nil, false, errInvalid},
		{"object value", rowFilter{"Name", "eq", map[string]any{}}, nil, false, errInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			match, err := tt.filter.compile(cells)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := match(tt.row); got != tt.want {
				t.Errorf("match(%v) = %v, want %v", tt.row, got, tt.want)
			}
		})
	}
}

func TestCellValue(t *testing.T) {
	w := newWorkspace(time.Now)
	cells, _ := w.sheetLocked("Cell Lines")
	col := func(name string) column {
		c, ok := cells.column(name)
		if !ok {
			t.Fatalf("no column %q", name)
		}
		return c
	}
	tests := []struct {
		column  string
		in      any
		want    any
		wantErr error
	}{
		{"Status", "frozen", "Frozen", nil},
		{"Status", "Thawing", nil, errInvalid},
		{"Passage", 7.0, 7.0, nil},
		{"Passage", "7", 7.0, nil},
		{"Passage", "seven", nil, errInvalid},
		{"Passage Date", " 2025-02-03 ", "2025-02-03", nil},
		{"Passage Date", "2025-02-30", nil, errInvalid},
		{"Mycoplasma Tested", false, false, nil},
		{"Plasmid", "pl-0003", "PL-0003", nil},
		{"Plasmid", "PL-9999", nil, errInvalid},
		{"Notes", "  ", nil, nil},
		{"Notes", nil, nil, nil},
		{"Notes", 3.0, nil, errInvalid},
		{"Name", nil, nil, errInvalid},
		{"ID", "CL-9999", nil, errInvalid},
		{"Morphology", "x.png", nil, errInvalid},
	}
	for _, tt := range tests {
		got, err := w.cellValueLocked(cells, col(tt.column), tt.in)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && got != tt.want) {
			t.Errorf("%s <- %#v: got %#v, %v; want %#v, %v", tt.column, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := w.sheetLocked("Mice"); !errors.Is(err, errNotFound) {
		t.Errorf("unknown labsheet: err = %v, want errNotFound", err)
	}
}
