package configfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// Edit sets or removes one member of a JSON object in the file.
type Edit struct {
	// Path names the member from the top-level object down, for example
	// {"mcpServers", "scispot"}. It must not be empty. Missing parent
	// objects are created by a set and left alone by a remove.
	Path []string
	// Value is the member's new value as standard JSON, or nil to remove the
	// member. Key order inside Value is kept as given.
	Value json.RawMessage
}

func (e Edit) String() string { return strings.Join(e.Path, ".") }

var utf8BOM = []byte("\xef\xbb\xbf")

// document is a parsed config file that can be edited without disturbing
// anything the edit is not about.
type document struct {
	root hujson.Value
	bom  bool   // the file started with a UTF-8 byte order mark (Notepad adds one)
	nl   string // "\n" or "\r\n", whichever the file uses
	unit string // one level of indentation, as the file writes it
}

// parse reads src as JSON with comments and trailing commas. A file holding
// only whitespace (including a 0-byte file) reads as an empty object, and
// so does one holding only comments (the comments are kept above it). The
// top level must be an object.
func parse(src []byte) (*document, error) {
	d := &document{nl: "\n", unit: "  "}
	if bytes.HasPrefix(src, utf8BOM) {
		d.bom = true
		src = src[len(utf8BOM):]
	}
	if bytes.Contains(src, []byte("\r\n")) {
		d.nl = "\r\n"
	}
	switch {
	case len(bytes.TrimSpace(src)) == 0:
		d.root = hujson.Value{Value: &hujson.Object{}, AfterExtra: hujson.Extra(d.nl)}
		return d, nil
	case hujson.Extra(src).IsValid():
		before := append(bytes.TrimRight(bytes.Clone(src), " \t\r\n"), d.nl...)
		d.root = hujson.Value{BeforeExtra: before, Value: &hujson.Object{}, AfterExtra: hujson.Extra(d.nl)}
		return d, nil
	}
	if err := checkDepth(src); err != nil {
		return nil, err
	}
	// Parse a copy: the tree aliases its input and is edited in place.
	root, err := hujson.Parse(bytes.Clone(src))
	if err != nil {
		return nil, describeSyntaxError(src, err)
	}
	if _, ok := root.Value.(*hujson.Object); !ok {
		line, col := position(src, root.StartOffset)
		return nil, &notObjectError{line: line, column: col}
	}
	d.root = root
	d.unit = detectUnit(root.Value.(*hujson.Object))
	return d, nil
}

// maxDepth bounds how deeply objects and arrays may nest. The parser
// recurses once per level, so without a bound a file of a few megabytes of
// "[" could exhaust the stack; real configs nest a dozen levels at most.
const maxDepth = 10000

// checkDepth refuses input nested deeper than maxDepth, before parsing.
// It skips strings and comments; anything else malformed is left for the
// parser to report.
func checkDepth(src []byte) error {
	depth := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '/':
			switch {
			case i+1 < len(src) && src[i+1] == '/':
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case i+1 < len(src) && src[i+1] == '*':
				end := bytes.Index(src[i+2:], []byte("*/"))
				if end < 0 {
					return nil
				}
				i += 2 + end + 1
			}
		case '{', '[':
			depth++
			if depth > maxDepth {
				line, col := position(src, i)
				return &syntaxError{line: line, column: col, reason: fmt.Sprintf("objects and arrays nested more than %d levels deep", maxDepth)}
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// bytes returns the document as file content.
func (d *document) bytes() []byte {
	out := d.root.Pack()
	if d.bom {
		out = append(bytes.Clone(utf8BOM), out...)
	}
	return out
}

// describeSyntaxError turns a hujson error into a position and a reason that
// quotes at most one character: hujson's own messages can repeat a whole
// string or bare word from the file, and that word may be an API token.
func describeSyntaxError(src []byte, err error) error {
	msg := err.Error()
	var line, col int
	if _, scanErr := fmt.Sscanf(msg, "hujson: line %d, column %d:", &line, &col); scanErr != nil {
		line, col = 1, 1
	}
	col = charColumn(src, line, col)
	detail := msg
	if i := strings.Index(msg, ", column "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			detail = msg[i+j+2:]
		}
	}
	var reason string
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		reason = "unexpected end of file (a bracket, brace or quote is not closed)"
	case strings.HasPrefix(detail, "invalid literal"):
		reason = "invalid value (a string with a bad escape or control character, or a bare word that is not true, false, null or a number)"
	case strings.HasPrefix(detail, "invalid UTF-8"):
		reason = "invalid UTF-8 in a comment"
	case strings.HasPrefix(detail, "invalid character") && utf8.RuneCountInString(detail) < 80:
		reason = detail
	default:
		reason = "invalid JSON"
	}
	return &syntaxError{line: line, column: col, reason: reason}
}

// charColumn converts hujson's byte column on a line into a character column.
func charColumn(src []byte, line, byteCol int) int {
	start := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			return byteCol
		}
		start += i + 1
	}
	end := min(start+byteCol-1, len(src))
	if end < start {
		return byteCol
	}
	return utf8.RuneCount(src[start:end]) + 1
}

// position returns the 1-based line and character column of offset.
func position(src []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(src))
	line = 1 + bytes.Count(src[:offset], []byte("\n"))
	lineStart := bytes.LastIndexByte(src[:offset], '\n') + 1
	return line, utf8.RuneCount(src[lineStart:offset]) + 1
}

// detectUnit finds one level of indentation from the top-level object's
// members, defaulting to two spaces.
func detectUnit(obj *hujson.Object) string {
	for _, m := range obj.Members {
		if ind, ok := lineIndent(m.Name.BeforeExtra); ok && ind != "" {
			return ind
		}
	}
	return "  "
}

// lineIndent returns the whitespace that starts the last line of an extra,
// and whether the extra contains a line break at all.
func lineIndent(extra []byte) (string, bool) {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 {
		return "", false
	}
	rest := extra[i+1:]
	n := 0
	for n < len(rest) && (rest[n] == ' ' || rest[n] == '\t') {
		n++
	}
	return string(rest[:n]), true
}

// indentAt returns the whitespace at the start of the line holding offset
// in packed.
func indentAt(packed []byte, offset int) string {
	offset = min(max(offset, 0), len(packed))
	start := bytes.LastIndexByte(packed[:offset], '\n') + 1
	n := start
	for n < len(packed) && (packed[n] == ' ' || packed[n] == '\t') {
		n++
	}
	return string(packed[start:n])
}

func hasComment(extra []byte) bool { return bytes.IndexByte(extra, '/') >= 0 }

// apply makes one edit and reports whether the document changed.
func (d *document) apply(e Edit) (bool, error) {
	if len(e.Path) == 0 {
		return false, errors.New("edit path is empty")
	}
	for _, k := range e.Path {
		if !utf8.ValidString(k) {
			return false, fmt.Errorf("edit path %q is not valid UTF-8", e.Path)
		}
	}
	if e.Value != nil && !json.Valid(e.Value) {
		return false, fmt.Errorf("value for %s is not valid JSON", e)
	}
	// Offsets locate the line each object starts on, to indent new members
	// to match; earlier edits moved them.
	d.root.UpdateOffsets()
	packed := d.root.Pack()

	parent := &d.root
	for i, key := range e.Path[:len(e.Path)-1] {
		obj := parent.Value.(*hujson.Object)
		idx := memberIndexes(obj, key)
		if len(idx) == 0 {
			if e.Value == nil {
				return false, nil // nothing to remove
			}
			d.insert(obj, indentAt(packed, parent.StartOffset), key, nest(e.Path[i+1:], e.Value))
			return true, nil
		}
		// Clients that accept duplicate names use the last one.
		next := &obj.Members[idx[len(idx)-1]].Value
		if _, ok := next.Value.(*hujson.Object); !ok {
			line, col := position(packed, next.StartOffset)
			return false, &notObjectError{key: strings.Join(e.Path[:i+1], "."), line: line, column: col}
		}
		parent = next
	}

	obj := parent.Value.(*hujson.Object)
	key := e.Path[len(e.Path)-1]
	idx := memberIndexes(obj, key)
	if e.Value == nil {
		for j := len(idx) - 1; j >= 0; j-- {
			removeMember(obj, idx[j])
		}
		return len(idx) > 0, nil
	}
	if len(idx) == 0 {
		d.insert(obj, indentAt(packed, parent.StartOffset), key, e.Value)
		return true, nil
	}
	first := idx[0]
	if len(idx) == 1 && sameJSON(obj.Members[first].Value, e.Value) {
		return false, nil
	}
	// Keep the first occurrence's place and drop the others, so no stale
	// duplicate can override the new value.
	for j := len(idx) - 1; j >= 1; j-- {
		removeMember(obj, idx[j])
	}
	m := &obj.Members[first]
	_, multiline := lineIndent(m.Name.BeforeExtra)
	indent := indentAt(packed, m.Name.StartOffset)
	unit := d.unit
	if parentIndent := indentAt(packed, parent.StartOffset); strings.HasPrefix(indent, parentIndent) && len(indent) > len(parentIndent) {
		unit = indent[len(parentIndent):]
	}
	m.Value.Value = d.render(e.Value, multiline, indent, unit)
	return true, nil
}

// memberIndexes returns the positions of the members named key.
func memberIndexes(obj *hujson.Object, key string) []int {
	var idx []int
	for i, m := range obj.Members {
		if lit, ok := m.Name.Value.(hujson.Literal); ok && lit.String() == key {
			idx = append(idx, i)
		}
	}
	return idx
}

// nest wraps value in one object per remaining path element.
func nest(path []string, value json.RawMessage) json.RawMessage {
	out := value
	for i := len(path) - 1; i >= 0; i-- {
		name, _ := json.Marshal(path[i])
		out = json.RawMessage(fmt.Sprintf("{%s:%s}", name, out))
	}
	return out
}

// sameJSON reports whether v holds the same JSON data as raw, ignoring
// formatting, comments and key order.
func sameJSON(v hujson.Value, raw json.RawMessage) bool {
	c := hujson.Value{Value: v.Value}.Clone()
	c.Minimize()
	a, errA := decode(c.Pack())
	b, errB := decode(raw)
	return errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// render turns raw JSON into a tree value laid out like its surroundings:
// indented from indent by unit, or on one line in a one-line object.
func (d *document) render(raw json.RawMessage, multiline bool, indent, unit string) hujson.ValueTrimmed {
	text, err := pretty(raw, multiline, indent, unit)
	if err != nil {
		panic(fmt.Sprintf("configfile: rendering valid JSON failed: %v", err))
	}
	if d.nl != "\n" {
		text = bytes.ReplaceAll(text, []byte("\n"), []byte(d.nl))
	}
	v, err := hujson.Parse(text)
	if err != nil {
		panic(fmt.Sprintf("configfile: rendering valid JSON failed: %v", err))
	}
	return v.Value
}

// insert appends a member at the end of obj, laid out like obj's other
// members; objIndent is the indentation of the line obj starts on.
func (d *document) insert(obj *hujson.Object, objIndent, name string, raw json.RawMessage) {
	multiline := true
	memberIndent := objIndent + d.unit
	unit := d.unit
	colon := hujson.Extra(" ")
	var before []byte

	if n := len(obj.Members); n == 0 {
		// Open the empty object up; a comment inside it stays on its line.
		if hasComment(obj.AfterExtra) {
			before = bytes.TrimRight(bytes.Clone(obj.AfterExtra), " \t")
			if !bytes.HasSuffix(before, []byte("\n")) {
				before = append(before, d.nl...)
			}
			before = append(before, memberIndent...)
		} else {
			before = []byte(d.nl + memberIndent)
		}
		obj.AfterExtra = hujson.Extra(d.nl + objIndent)
	} else {
		last := &obj.Members[n-1]
		if ind, ok := lineIndent(last.Name.BeforeExtra); ok {
			memberIndent = ind
			if strings.HasPrefix(ind, objIndent) && len(ind) > len(objIndent) {
				unit = ind[len(objIndent):]
			}
			// A comment after the last member on its own line stays with
			// that member: it moves to after the comma we add.
			head, rest := splitSameLineComment(obj.AfterExtra)
			before = append(append(head, d.nl...), memberIndent...)
			obj.AfterExtra = rest
		} else {
			multiline = false
			// Follow the file's spacing after commas, or after colons when
			// there is no comma yet.
			switch {
			case hasComment(last.Name.BeforeExtra):
				before = []byte(" ")
			case n > 1:
				before = bytes.Clone(last.Name.BeforeExtra)
			case len(last.Value.BeforeExtra) > 0:
				before = []byte(" ")
			}
		}
		if vb := last.Value.BeforeExtra; !hasComment(vb) {
			colon = bytes.Clone(vb)
		}
	}

	m := hujson.ObjectMember{
		Name:  hujson.Value{BeforeExtra: before, Value: hujson.String(name)},
		Value: hujson.Value{BeforeExtra: colon, Value: d.render(raw, multiline, memberIndent, unit)},
	}
	if n := len(obj.Members); n > 0 && obj.Members[n-1].Value.AfterExtra != nil {
		m.Value.AfterExtra = hujson.Extra{} // keep the object's trailing comma
	}
	obj.Members = append(obj.Members, m)
}

// splitSameLineComment splits a comment that ends the current line off the
// front of extra. rest keeps the line break.
func splitSameLineComment(extra []byte) (head, rest []byte) {
	i := bytes.IndexByte(extra, '\n')
	if i < 0 {
		return nil, extra
	}
	j := i
	if j > 0 && extra[j-1] == '\r' {
		j--
	}
	h := extra[:j]
	if !hasComment(h) || !hujson.Extra(append(bytes.Clone(h), '\n')).IsValid() {
		return nil, extra
	}
	return bytes.Clone(h), bytes.Clone(extra[j:])
}

// removeMember deletes member i. Comments around it that are outside its
// value are kept in place, and so is the object's trailing-comma style.
func removeMember(obj *hujson.Object, i int) {
	m := obj.Members[i]
	isLast := i == len(obj.Members)-1

	var carried []byte
	for _, extra := range [][]byte{m.Name.BeforeExtra, m.Name.AfterExtra, m.Value.BeforeExtra, m.Value.AfterExtra} {
		if hasComment(extra) {
			carried = append(carried, extra...)
		}
	}

	following := &obj.AfterExtra
	if !isLast {
		following = &obj.Members[i+1].Name.BeforeExtra
	}
	switch {
	case carried != nil:
		*following = joinExtra(bytes.TrimRight(carried, " \t"), *following)
	case !isLast && !hasComment(*following):
		// The next member takes over this one's place on the line.
		*following = bytes.Clone(m.Name.BeforeExtra)
	}

	obj.Members = append(obj.Members[:i:i], obj.Members[i+1:]...)

	if isLast && i > 0 {
		prev := &obj.Members[i-1].Value
		if m.Value.AfterExtra != nil {
			if prev.AfterExtra == nil {
				prev.AfterExtra = hujson.Extra{}
			}
		} else if prev.AfterExtra != nil {
			// No trailing comma before: what sat before prev's comma now
			// sits before the closing brace.
			obj.AfterExtra = append(bytes.Clone(prev.AfterExtra), obj.AfterExtra...)
			prev.AfterExtra = nil
		}
	}
	if len(obj.Members) == 0 && !hasComment(obj.AfterExtra) {
		obj.AfterExtra = nil
	}
}

// joinExtra concatenates two extras without doubling the line break
// between them.
func joinExtra(a, b []byte) []byte {
	out := bytes.Clone(a)
	if bytes.HasSuffix(out, []byte("\n")) {
		switch {
		case bytes.HasPrefix(b, []byte("\r\n")):
			b = b[2:]
		case bytes.HasPrefix(b, []byte("\n")):
			b = b[1:]
		default:
			// A comment that sat after the removed member's comma now
			// starts a line: indent it like the member that follows.
			rest := bytes.TrimLeft(b, " \t")
			if bytes.HasPrefix(rest, []byte("/")) {
				ind, _ := lineIndent(b)
				b = append([]byte(ind), rest...)
			}
		}
	}
	return append(out, b...)
}

// applyEdits applies edits to src and returns the new content. changed is
// false (and out is src) when the file already says what the edits say.
// The result is checked to parse and to hold every edit before it is
// returned, so a bug here cannot produce a broken file.
func applyEdits(src []byte, edits []Edit) (out []byte, changed bool, err error) {
	d, err := parse(src)
	if err != nil {
		return nil, false, err
	}
	for _, e := range edits {
		c, err := d.apply(e)
		if err != nil {
			return nil, false, err
		}
		changed = changed || c
	}
	if !changed {
		return src, false, nil
	}
	out = d.bytes()
	if err := verify(out, edits); err != nil {
		return nil, false, fmt.Errorf("internal error: the edited file does not check out (%w); nothing was written", err)
	}
	return out, true, nil
}

// verify checks that content parses and holds each edit: the value for a
// set, no member for a remove.
func verify(content []byte, edits []Edit) error {
	d, err := parse(content)
	if err != nil {
		return err
	}
	for _, e := range edits {
		v := lookup(&d.root, e.Path)
		switch {
		case e.Value == nil && v != nil:
			return fmt.Errorf("%s is still present", e)
		case e.Value != nil && (v == nil || !sameJSON(*v, e.Value)):
			return fmt.Errorf("%s does not hold the new value", e)
		}
	}
	return nil
}

// lookup finds the value at path, following the last of duplicate names.
func lookup(root *hujson.Value, path []string) *hujson.Value {
	v := root
	for _, key := range path {
		obj, ok := v.Value.(*hujson.Object)
		if !ok {
			return nil
		}
		idx := memberIndexes(obj, key)
		if len(idx) == 0 {
			return nil
		}
		v = &obj.Members[idx[len(idx)-1]].Value
	}
	return v
}
