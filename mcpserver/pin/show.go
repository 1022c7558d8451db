package pin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// maxWhat bounds how many changed places Changed names.
const maxWhat = 6

// Changed names the places where two canonical definitions differ, in a
// stable order: "description", "inputSchema.properties.note.description",
// "annotations.destructiveHint"; at most maxWhat, then "…".
func Changed(a, b json.RawMessage) []string {
	diffs, more := leafDiffs(a, b)
	out := make([]string, 0, len(diffs)+1)
	for _, d := range diffs {
		out = append(out, d.at)
	}
	if more {
		out = append(out, "…")
	}
	return out
}

// leafDiff is one place where two definitions differ, with the value on
// each side (nil where there is none).
type leafDiff struct {
	at            string
	before, after any
}

// leafDiffs lists at most maxWhat places where a and b differ, and
// whether there are more.
func leafDiffs(a, b json.RawMessage) (out []leafDiff, more bool) {
	va, erra := decode(a)
	vb, errb := decode(b)
	if erra != nil || errb != nil {
		return []leafDiff{{at: "the whole definition"}}, false
	}
	walkDiff(va, vb, "", &out)
	if len(out) > maxWhat {
		return out[:maxWhat], true
	}
	return out, false
}

func walkDiff(a, b any, at string, out *[]leafDiff) {
	if len(*out) > maxWhat {
		return
	}
	ma, oka := a.(map[string]any)
	mb, okb := b.(map[string]any)
	if oka && okb {
		keys := slices.Sorted(maps.Keys(ma))
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			walkDiff(ma[k], mb[k], join(at, k), out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		if at == "" {
			at = "the whole definition"
		}
		*out = append(*out, leafDiff{at: at, before: a, after: b})
	}
}

// Args are the audit record's args for the event: the hashes, who
// accepted, what changed and — while it all fits in limit bytes (an
// audit record's args are capped) — the definitions themselves, or
// else the changed values only.
func (e Event) Args(limit int) json.RawMessage {
	type def struct {
		SHA256     string          `json:"sha256"`
		Since      *time.Time      `json:"since,omitempty"`
		By         string          `json:"by,omitempty"`
		Definition json.RawMessage `json:"definition,omitempty"`
	}
	type value struct {
		At     string `json:"at"`
		Before any    `json:"before,omitempty"`
		After  any    `json:"after,omitempty"`
	}
	type args struct {
		Before  *def    `json:"before,omitempty"`
		After   *def    `json:"after,omitempty"`
		Changed []value `json:"changed,omitempty"`
		More    bool    `json:"more_changes,omitempty"`
		By      string  `json:"by,omitempty"`
	}
	side := func(d *Definition, full bool) *def {
		if d == nil {
			return nil
		}
		out := &def{SHA256: d.SHA256, By: d.By}
		if !d.Since.IsZero() {
			t := d.Since.UTC()
			out.Since = &t
		}
		if full {
			out.Definition = d.Definition
		}
		return out
	}
	var diffs []leafDiff
	var more bool
	if e.Before != nil && e.After != nil {
		diffs, more = leafDiffs(e.Before.Definition, e.After.Definition)
	}
	try := func(full, values bool) []byte {
		a := args{Before: side(e.Before, full), After: side(e.After, full), By: e.By, More: more}
		for _, d := range diffs {
			v := value{At: d.at}
			if values {
				v.Before, v.After = d.before, d.after
			}
			a.Changed = append(a.Changed, v)
		}
		b, _ := encode(a)
		return b
	}
	b := try(true, true)
	if len(b) > limit {
		b = try(false, true)
	}
	if len(b) > limit {
		b = try(false, false)
	}
	return b
}

// Pretty is a canonical definition indented for a person to read, with
// every character that could hide or reorder text on a terminal or in a
// window (controls, format characters such as bidirectional overrides and
// zero-width spaces, line and paragraph separators) written as a \u
// escape: the person must see exactly what the AI would get.
func Pretty(canonical json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, canonical, "", "  "); err != nil {
		return Printable(string(canonical))
	}
	return Printable(buf.String())
}

// Printable escapes the characters Pretty escapes; newlines and tabs
// stay.
func Printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar:
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Line is one line of a Diff: Op is ' ' (both), '-' (only the old) or '+'
// (only the new); a line with Op '…' stands for unchanged lines left out.
type Line struct {
	Op   rune
	Text string
}

// maxDiffLines bounds each side of a Diff; longer definitions are cut
// (a person does not read further, and the table stays small).
const maxDiffLines = 2000

// diffContext is how many unchanged lines a Diff keeps around each change.
const diffContext = 3

// Diff compares two texts line by line (a longest common subsequence),
// keeping diffContext unchanged lines around each change.
func Diff(old, new string) []Line {
	a, b := lines(old), lines(new)
	n, m := len(a), len(b)
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var all []Line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			all = append(all, Line{' ', a[i]})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			// What goes comes before what replaces it.
			all = append(all, Line{'-', a[i]})
			i++
		default:
			all = append(all, Line{'+', b[j]})
			j++
		}
	}
	// Keep context lines around changes.
	keep := make([]bool, len(all))
	for k, l := range all {
		if l.Op == ' ' {
			continue
		}
		for c := max(0, k-diffContext); c <= min(len(all)-1, k+diffContext); c++ {
			keep[c] = true
		}
	}
	var out []Line
	skipped := false
	for k, l := range all {
		if keep[k] {
			out = append(out, l)
			skipped = false
			continue
		}
		if !skipped {
			out = append(out, Line{'…', ""})
			skipped = true
		}
	}
	return out
}

func lines(s string) []string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > maxDiffLines {
		l = append(l[:maxDiffLines], "…")
	}
	return l
}

// String renders a diff as a person reads it: "- " and "+ " before the
// changed lines, "  " before the others.
func String(d []Line) string {
	var b strings.Builder
	for _, l := range d {
		switch l.Op {
		case '…':
			b.WriteString("  …\n")
		default:
			b.WriteRune(l.Op)
			b.WriteByte(' ')
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}
