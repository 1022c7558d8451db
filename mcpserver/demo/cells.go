package demo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Filter operators accepted by search_labsheet_rows.
var filterOps = []string{"eq", "ne", "contains", "gt", "gte", "lt", "lte", "is_empty", "is_not_empty"}

// rowFilter is one condition on one column.
type rowFilter struct {
	Column string `json:"column" jsonschema:"Column name, as get_labsheet_schema lists it (case-insensitive), e.g. Status."`
	Op     string `json:"op" jsonschema:"eq / ne: equal or not (text compares case-insensitively); contains: substring of a text-like cell; gt, gte, lt, lte: NUMBER and DATE columns only; is_empty / is_not_empty: no value needed."`
	Value  any    `json:"value,omitempty" jsonschema:"The value to compare with: a string, number or boolean to suit the column (DATE as YYYY-MM-DD). Not used by is_empty and is_not_empty."`
}

// textLike columns hold strings that contains and query can search.
func textLike(t colType) bool {
	switch t {
	case colNumber, colCheckbox:
		return false
	}
	return true
}

func isEmpty(v any) bool { return v == nil || v == "" }

// compile checks f against the labsheet and returns its predicate.
func (f rowFilter) compile(s *labsheet) (func(cells map[string]any) bool, error) {
	c, ok := s.column(f.Column)
	if !ok {
		return nil, fmt.Errorf("%w: labsheet %q has no column %q; its columns are: %s", errInvalid, s.Name, f.Column, s.columnNames())
	}
	op := strings.ToLower(strings.TrimSpace(f.Op))
	get := func(cells map[string]any) any { return cells[c.Name] }
	switch op {
	case "is_empty":
		return func(cells map[string]any) bool { return isEmpty(get(cells)) }, nil
	case "is_not_empty":
		return func(cells map[string]any) bool { return !isEmpty(get(cells)) }, nil
	}
	if f.Value == nil {
		return nil, fmt.Errorf("%w: filter op %q needs a value", errInvalid, f.Op)
	}
	switch op {
	case "eq", "ne":
		want, err := comparable(c, f.Value)
		if err != nil {
			return nil, err
		}
		eq := func(cells map[string]any) bool {
			got := get(cells)
			if s, ok := got.(string); ok {
				w, _ := want.(string)
				return strings.EqualFold(s, w)
			}
			return got == want
		}
		if op == "ne" {
			return func(cells map[string]any) bool { return !eq(cells) }, nil
		}
		return eq, nil
	case "contains":
		if !textLike(c.Type) {
			return nil, fmt.Errorf("%w: op contains works on text columns; %q is %s", errInvalid, c.Name, c.Type)
		}
		sub, ok := f.Value.(string)
		if !ok || sub == "" {
			return nil, fmt.Errorf("%w: op contains needs a non-empty string value", errInvalid)
		}
		sub = strings.ToLower(sub)
		return func(cells map[string]any) bool {
			s, _ := get(cells).(string)
			return strings.Contains(strings.ToLower(s), sub)
		}, nil
	case "gt", "gte", "lt", "lte":
		if c.Type != colNumber && c.Type != colDate {
			return nil, fmt.Errorf("%w: op %s works on NUMBER and DATE columns; %q is %s", errInvalid, op, c.Name, c.Type)
		}
		want, err := comparable(c, f.Value)
		if err != nil {
			return nil, err
		}
		return func(cells map[string]any) bool {
			cmp, ok := compare(get(cells), want)
			if !ok {
				return false
			}
			switch op {
			case "gt":
				return cmp > 0
			case "gte":
				return cmp >= 0
			case "lt":
				return cmp < 0
			default:
				return cmp <= 0
			}
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown filter op %q; ops are: %s", errInvalid, f.Op, strings.Join(filterOps, ", "))
}

// comparable converts a filter value to the form cells of column c hold.
// LIST values need not be one of the options: filtering on a value no row
// has simply matches nothing.
func comparable(c column, v any) (any, error) {
	switch c.Type {
	case colNumber:
		return toNumber(c, v)
	case colCheckbox:
		return toBool(c, v)
	case colDate:
		return toDate(c, v)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return nil, fmt.Errorf("%w: column %q (%s) compares with a string, not %s", errInvalid, c.Name, c.Type, jsonKind(v))
}

// compare orders two cells of the same NUMBER or DATE column.
func compare(a, b any) (int, bool) {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case a < b:
			return -1, true
		case a > b:
			return 1, true
		}
		return 0, true
	case string:
		b, ok := b.(string)
		if !ok || a == "" {
			return 0, false
		}
		return strings.Compare(a, b), true // YYYY-MM-DD sorts as text
	}
	return 0, false
}

// cellValueLocked validates a value written to column c of s and returns it
// in stored form. A nil value clears the cell.
func (w *workspace) cellValueLocked(s *labsheet, c column, v any) (any, error) {
	switch c.Type {
	case colID, colUUID:
		return nil, fmt.Errorf("%w: column %q is set by Scispot and cannot be written", errInvalid, c.Name)
	case colImage:
		return nil, fmt.Errorf("%w: column %q holds images, which are uploaded in the Scispot app, not through rows", errInvalid, c.Name)
	}
	if v == nil {
		if c.Required {
			return nil, fmt.Errorf("%w: column %q is required and cannot be cleared", errInvalid, c.Name)
		}
		return nil, nil
	}
	switch c.Type {
	case colNumber:
		return toNumber(c, v)
	case colCheckbox:
		return toBool(c, v)
	case colDate:
		return toDate(c, v)
	}
	str, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("%w: column %q (%s) takes a string, not %s", errInvalid, c.Name, c.Type, jsonKind(v))
	}
	str = strings.TrimSpace(str)
	if len(str) > 10000 {
		return nil, fmt.Errorf("%w: column %q: text longer than 10000 bytes", errInvalid, c.Name)
	}
	if str == "" {
		// Scispot does not store empty strings: an empty value clears.
		if c.Required {
			return nil, fmt.Errorf("%w: column %q is required and cannot be empty", errInvalid, c.Name)
		}
		return nil, nil
	}
	switch c.Type {
	case colList:
		for _, o := range c.Options {
			if strings.EqualFold(o, str) {
				return o, nil
			}
		}
		return nil, fmt.Errorf("%w: column %q takes one of: %s (got %q)", errInvalid, c.Name, strings.Join(c.Options, ", "), str)
	case colConnection:
		target, err := w.sheetLocked(c.Target)
		if err != nil {
			return nil, err
		}
		_, r, err := w.rowLocked(target, str)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q connects to %s and %q is not one of its rows", errInvalid, c.Name, target.Name, str)
		}
		return r.Cells[target.idColumn()], nil
	}
	return str, nil
}

func toNumber(c column, v any) (float64, error) {
	var f float64
	switch v := v.(type) {
	case float64:
		f = v
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("%w: column %q (NUMBER) takes a number, not %q", errInvalid, c.Name, v)
		}
		f = p
	default:
		return 0, fmt.Errorf("%w: column %q (NUMBER) takes a number, not %s", errInvalid, c.Name, jsonKind(v))
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: column %q (NUMBER) takes a finite number", errInvalid, c.Name)
	}
	return f, nil
}

func toBool(c column, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%w: column %q (CHECKBOX) takes true or false", errInvalid, c.Name)
}

func toDate(c column, v any) (string, error) {
	s, ok := v.(string)
	if ok {
		if t, err := time.Parse(dateLayout, strings.TrimSpace(s)); err == nil {
			return t.Format(dateLayout), nil
		}
	}
	return "", fmt.Errorf("%w: column %q (DATE) takes a date written YYYY-MM-DD", errInvalid, c.Name)
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
