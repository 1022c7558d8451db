package configfile

import (
	"bytes"
	"encoding/json"
	"errors"
)

// pretty lays out standard JSON for insertion into a file. Multi-line
// objects put one member per line, indented from indent by unit; arrays of
// plain values stay on one line (`"args": ["serve", "--demo"]`), as people
// write them in client configs. With multiline false everything is on one
// line with a space after each colon and comma. Key order is kept.
func pretty(raw []byte, multiline bool, indent, unit string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("more than one JSON value")
	}
	var buf bytes.Buffer
	n.write(&buf, multiline, indent, unit)
	return buf.Bytes(), nil
}

// node is a JSON value with its object keys in order.
type node struct {
	scalar []byte // encoded literal, when not an object or array
	object bool
	array  bool
	keys   []string
	items  []node // object values (parallel to keys) or array elements
}

func readNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := node{object: t == '{', array: t == '['}
		for dec.More() {
			if n.object {
				k, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				key, _ := k.(string)
				n.keys = append(n.keys, key)
			}
			item, err := readNode(dec)
			if err != nil {
				return node{}, err
			}
			n.items = append(n.items, item)
		}
		if _, err := dec.Token(); err != nil { // closing delimiter
			return node{}, err
		}
		return n, nil
	case json.Number:
		return node{scalar: []byte(t.String())}, nil
	default: // string, bool, nil
		b, err := encodeScalar(t)
		return node{scalar: b}, err
	}
}

func encodeScalar(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep "&" in a path readable
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (n node) plain() bool { return !n.object && !n.array }

func (n node) write(buf *bytes.Buffer, multiline bool, indent, unit string) {
	switch {
	case n.plain():
		buf.Write(n.scalar)
	case len(n.items) == 0 && n.object:
		buf.WriteString("{}")
	case len(n.items) == 0:
		buf.WriteString("[]")
	default:
		open, close := byte('['), byte(']')
		if n.object {
			open, close = '{', '}'
		}
		// Arrays of plain values stay on one line.
		expand := multiline && (n.object || !allPlain(n.items))
		inner := indent + unit
		buf.WriteByte(open)
		for i, item := range n.items {
			if i > 0 {
				buf.WriteByte(',')
				if !expand {
					buf.WriteByte(' ')
				}
			}
			if expand {
				buf.WriteString("\n" + inner)
			}
			if n.object {
				k, _ := encodeScalar(n.keys[i])
				buf.Write(k)
				buf.WriteString(": ")
			}
			item.write(buf, multiline, inner, unit)
		}
		if expand {
			buf.WriteString("\n" + indent)
		}
		buf.WriteByte(close)
	}
}

func allPlain(items []node) bool {
	for _, it := range items {
		if !it.plain() {
			return false
		}
	}
	return true
}
