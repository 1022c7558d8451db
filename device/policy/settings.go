package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settings are the keys that one policy source sets, already validated.
// A key that is absent is not set by that source.
//
// Values have one canonical Go type per key kind: bool, string, []string or
// int64 (never negative). Settings are built by ParseJSON, FromValues,
// DecodePlist and the stores; Resolve skips any entry that is not a known
// key with a value of its canonical type, so hand-built Settings (in tests)
// cannot smuggle in a bad value.
//
// A nil Settings means the source is absent; an empty, non-nil Settings
// means it exists and sets nothing.
type Settings map[string]any

// ParseJSON parses the Linux policy file: one JSON object whose members are
// policy keys. Parsing is strict: an unknown key, a duplicated key, a value
// of the wrong type or out of range, or anything after the object is an
// error wrapping ErrInvalid that names the key at fault.
func ParseJSON(data []byte) (Settings, error) {
	// Check the syntax of the whole input first: encoding/json then reports
	// the right position, and trailing data, which a token walk would not.
	var whole json.RawMessage
	if err := json.Unmarshal(data, &whole); err != nil {
		return nil, jsonSyntaxError(data, err)
	}

	dec := json.NewDecoder(bytes.NewReader(whole))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonSyntaxError(data, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalidf(nil, "policy must be a JSON object, got %s", jsonTokenType(tok))
	}
	s := Settings{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonSyntaxError(data, err)
		}
		name, _ := tok.(string) // object keys are strings: the syntax is valid
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, jsonSyntaxError(data, err)
		}
		if seen[name] {
			return nil, keyErrorf(name, "is set more than once")
		}
		seen[name] = true
		if err := s.set(name, v); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// jsonSyntaxError describes a JSON syntax error by line and column, which
// is how admins find it in an editor.
func jsonSyntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if se.Offset >= int64(len(data)) && strings.HasPrefix(se.Error(), "unexpected end of JSON input") {
			return invalidf(err, "policy is not valid JSON: unexpected end of input")
		}
		line, col := lineColumn(data, se.Offset)
		return invalidf(err, "policy is not valid JSON at line %d, column %d: %v", line, col, se)
	}
	return invalidf(err, "policy is not valid JSON: %v", err)
}

// lineColumn converts the offset of the byte after an error (as
// json.SyntaxError reports it) to a 1-based line and column.
func lineColumn(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:max(offset-1, 0)]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len(before) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func jsonTokenType(tok json.Token) string {
	if d, ok := tok.(json.Delim); ok && d == '[' {
		return "a list"
	}
	return typeName(tok)
}

// FromValues validates a map of decoded values (from a plist or any other
// structured source) into Settings with the same rules as ParseJSON. It
// accepts: bool; string; any Go integer type (and json.Number holding an
// integer) for integer keys; []string or []any of strings for list keys.
// Keys are checked in sorted order so the error is the same on every run.
func FromValues(values map[string]any) (Settings, error) {
	s := make(Settings, len(values))
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := s.set(name, values[name]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// set validates v for the key name and stores its canonical form.
func (s Settings) set(name string, v any) error {
	d, ok := lookupKey(name)
	if !ok {
		return unknownKeyError(name)
	}
	c, err := canonical(d, v)
	if err != nil {
		return err
	}
	s[name] = c
	return nil
}

// canonical converts v to the canonical type of d's kind and validates it.
func canonical(d keyDef, v any) (any, error) {
	var c any
	switch d.kind {
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, wrongType(d, v)
		}
		c = b
	case kindString:
		str, ok := v.(string)
		if !ok {
			return nil, wrongType(d, v)
		}
		c = str
	case kindStrings:
		l, err := stringList(d, v)
		if err != nil {
			return nil, err
		}
		c = l
	case kindInt:
		n, err := integer(d, v)
		if err != nil {
			return nil, err
		}
		c = n
	default:
		return nil, fmt.Errorf("policy key %q has no kind (a bug)", d.name)
	}
	if d.check != nil {
		if problem := d.check(c); problem != "" {
			return nil, keyErrorf(d.name, "%s", problem)
		}
	}
	return c, nil
}

func wrongType(d keyDef, v any) error {
	return keyErrorf(d.name, "must be %s, got %s", d.kind, typeName(v))
}

// stringList accepts a list of non-empty strings. An empty list is kept
// (non-nil): for AllowedTools it means "no tools", unlike an unset key.
func stringList(d keyDef, v any) ([]string, error) {
	var items []any
	switch l := v.(type) {
	case []string:
		items = make([]any, len(l))
		for i, s := range l {
			items[i] = s
		}
	case []any:
		items = l
	default:
		return nil, wrongType(d, v)
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, keyErrorf(d.name, "must be a list of strings, got %s at item %d", typeName(it), i+1)
		}
		if s == "" {
			return nil, keyErrorf(d.name, "must not contain an empty string (item %d)", i+1)
		}
		out = append(out, s)
	}
	return out, nil
}

// integer accepts a whole number in [0, d.max].
func integer(d keyDef, v any) (int64, error) {
	var (
		n        int64
		negative bool
		tooLarge bool
	)
	switch x := v.(type) {
	case int:
		n, negative = int64(x), x < 0
	case int8:
		n, negative = int64(x), x < 0
	case int16:
		n, negative = int64(x), x < 0
	case int32:
		n, negative = int64(x), x < 0
	case int64:
		n, negative = x, x < 0
	case uint:
		n, tooLarge = int64(x), uint64(x) > math.MaxInt64
	case uint8:
		n = int64(x)
	case uint16:
		n = int64(x)
	case uint32:
		n = int64(x)
	case uint64:
		n, tooLarge = int64(x), x > math.MaxInt64
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		switch {
		case err == nil:
			n, negative = i, i < 0
		case errors.Is(err, strconv.ErrRange):
			if len(x) > 0 && x[0] == '-' {
				negative = true
			} else {
				tooLarge = true
			}
		default:
			// A fraction or exponent: JSON has one number type, so say
			// which number was rejected rather than "got number".
			return 0, keyErrorf(d.name, "must be an integer, got %s", x)
		}
	default:
		return 0, wrongType(d, v)
	}
	switch {
	case negative:
		return 0, keyErrorf(d.name, "must not be negative, got %v", v)
	case tooLarge || n > d.max:
		return 0, keyErrorf(d.name, "must be at most %d, got %v", d.max, v)
	}
	return n, nil
}

// typeName names the type of a decoded value for error messages, in the
// words of the formats it comes from.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	case float32, float64:
		return "real number"
	case []any, []string:
		return "list"
	case map[string]any:
		return "object"
	case []byte:
		return "data"
	case time.Time:
		return "date"
	default:
		return fmt.Sprintf("%T", v)
	}
}
