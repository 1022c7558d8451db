package guard

import (
	"bytes"
	"encoding/json"
	"strings"
)

// jsonString is one string literal of a JSON text.
type jsonString struct {
	start, end int    // the literal in the text, quotes included
	value      string // decoded
	key        bool   // an object member's name
	frame      int    // innermost enclosing object or array; -1 at top level
}

// jsonFrame is an object or array of a JSON text.
type jsonFrame struct {
	parent    int
	object    bool
	expectKey bool   // the next string in this object is a member name
	lastKey   string // the current member's name
	idRank    int    // rank of id's key in idKeys, 0 when there is no id
	id        string // how a person would name the record, e.g. CL-0137
}

// idKeys are member names that name a record, best first. Matching is
// case-insensitive ("ID" in labsheet rows, "hrid" in ELN pages).
var idKeys = []string{"hrid", "id", "barcode", "uuid", "row_uuid", "sample_uuid", "name", "title"}

func idRank(key string) int {
	for i, k := range idKeys {
		if strings.EqualFold(key, k) {
			return i + 1
		}
	}
	return 0
}

// scanJSON lists the string literals of text, which must be valid JSON
// (json.Valid), with the objects around them and what names each object.
func scanJSON(text string) (strs []jsonString, frames []jsonFrame) {
	top := -1
	member := func(key, value string) {
		if top < 0 || !frames[top].object {
			return
		}
		f := &frames[top]
		if r := idRank(key); r > 0 && (f.idRank == 0 || r < f.idRank) && value != "" {
			f.idRank, f.id = r, value
		}
	}
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '{' || c == '[':
			frames = append(frames, jsonFrame{parent: top, object: c == '{', expectKey: c == '{'})
			top = len(frames) - 1
			i++
		case c == '}' || c == ']':
			if top >= 0 {
				top = frames[top].parent
			}
			i++
		case c == ':':
			if top >= 0 {
				frames[top].expectKey = false
			}
			i++
		case c == ',':
			if top >= 0 && frames[top].object {
				frames[top].expectKey = true
			}
			i++
		case c == '"':
			j := i + 1
			escaped := false
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			j = min(j, len(text)-1)
			lit := text[i : j+1]
			value := lit[1 : len(lit)-1]
			if escaped {
				if err := json.Unmarshal([]byte(lit), &value); err != nil {
					value = lit
				}
			}
			s := jsonString{start: i, end: j + 1, value: value, frame: top}
			if top >= 0 && frames[top].object && frames[top].expectKey {
				s.key = true
				frames[top].lastKey = value
			} else if top >= 0 {
				member(frames[top].lastKey, value)
			}
			strs = append(strs, s)
			i = j + 1
		case c == '-' || '0' <= c && c <= '9':
			j := i + 1
			for j < len(text) && strings.IndexByte("0123456789.eE+-", text[j]) >= 0 {
				j++
			}
			if top >= 0 {
				member(frames[top].lastKey, text[i:j])
			}
			i = j
		default: // whitespace, true, false, null
			i++
		}
	}
	return strs, frames
}

// recordOf names the record a literal belongs to: the nearest enclosing
// object that has an id-like member. Empty when none has.
func recordOf(frames []jsonFrame, frame int) string {
	for f := frame; f >= 0; f = frames[f].parent {
		if frames[f].id != "" {
			return frames[f].id
		}
	}
	return ""
}

// looksLikeJSON reports whether text is a JSON object or array.
func looksLikeJSON(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n")
	return t != "" && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(text))
}

// quoteJSON encodes s as a JSON string literal, leaving <, > and & as they
// are so HTML in ELN pages stays readable.
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
