package configfile

import (
	"bytes"
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// maxEditDistance bounds the Myers search. Config edits change a few lines;
// past this many changed lines the diff replaces the whole differing middle,
// which is still correct, only not minimal. The bound keeps time and memory
// (about maxEditDistance² ints) small for any input.
const maxEditDistance = 1000

// unifiedDiff returns a unified diff (as "diff -u" prints it) that turns a
// into b, or "" when they are equal. Lines keep their own line endings; a
// last line without one is marked "\ No newline at end of file".
func unifiedDiff(aName, bName string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)

	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	for _, h := range hunks(ops) {
		writeHunk(&out, h, al, bl)
	}
	return out.String()
}

// splitLines splits s after each '\n'; the last line may lack one.
func splitLines(s []byte) []string {
	var lines []string
	for len(s) > 0 {
		i := bytes.IndexByte(s, '\n')
		if i < 0 {
			lines = append(lines, string(s))
			break
		}
		lines = append(lines, string(s[:i+1]))
		s = s[i+1:]
	}
	return lines
}

// opKind says what an op does with a line.
type opKind byte

const (
	opEqual  opKind = ' '
	opDelete opKind = '-'
	opInsert opKind = '+'
)

// op is one line of an edit script: for opEqual and opDelete, a is the line
// in the old text; for opEqual and opInsert, b is the line in the new text.
type op struct {
	kind opKind
	a, b int
}

// diffLines returns an edit script from a to b: common prefix and suffix,
// and Myers' shortest edit script for what lies between.
func diffLines(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := 0; i < pre; i++ {
		ops = append(ops, op{opEqual, i, i})
	}
	ops = append(ops, myers(a[pre:len(a)-suf], b[pre:len(b)-suf], pre, pre)...)
	for i := 0; i < suf; i++ {
		ops = append(ops, op{opEqual, len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

// myers computes a shortest edit script from a to b (Myers 1986), with line
// numbers offset by aOff and bOff.
func myers(a, b []string, aOff, bOff int) []op {
	n, m := len(a), len(b)
	maxD := min(n+m, maxEditDistance)
	offset := maxD + 1
	v := make([]int, 2*maxD+3) // v[offset+k]: furthest x on diagonal k
	// trace[d] keeps v[k] for k in [-d, d] as it was before step d.
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		trace = append(trace, append([]int(nil), v[offset-d:offset+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1] // down: insert
			} else {
				x = v[offset+k-1] + 1 // right: delete
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[offset+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found {
		return replaceAll(n, m, aOff, bOff)
	}

	// Walk back from (n, m) through the saved frontiers.
	var rev []op
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		k := x - y
		prevX, prevY := 0, 0
		if d > 0 {
			vd := trace[d]
			at := func(k int) int { return vd[k+d] }
			prevK := k - 1
			if k == -d || (k != d && at(k-1) < at(k+1)) {
				prevK = k + 1
			}
			prevX = at(prevK)
			prevY = prevX - prevK
		}
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, op{opEqual, aOff + x, bOff + y})
		}
		if d > 0 {
			if x == prevX {
				y--
				rev = append(rev, op{opInsert, -1, bOff + y})
			} else {
				x--
				rev = append(rev, op{opDelete, aOff + x, -1})
			}
		}
	}
	ops := make([]op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

// replaceAll deletes every line of a and inserts every line of b.
func replaceAll(n, m, aOff, bOff int) []op {
	ops := make([]op, 0, n+m)
	for i := 0; i < n; i++ {
		ops = append(ops, op{opDelete, aOff + i, -1})
	}
	for j := 0; j < m; j++ {
		ops = append(ops, op{opInsert, -1, bOff + j})
	}
	return ops
}

// hunks groups the changed ops, with diffContext lines of context on each
// side, merging hunks whose context would touch.
func hunks(ops []op) [][]op {
	var out [][]op
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == opEqual {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(i-diffContext, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != opEqual {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == opEqual {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, run)
				break
			}
			end = run
		}
		out = append(out, ops[start:end])
		i = end
	}
	return out
}

func writeHunk(out *strings.Builder, h []op, a, b []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, o := range h {
		if o.kind != opInsert {
			if aStart < 0 {
				aStart = o.a
			}
			aLen++
		}
		if o.kind != opDelete {
			if bStart < 0 {
				bStart = o.b
			}
			bLen++
		}
	}
	// A side has no lines only when the hunk has no context, which happens
	// only when that whole file is empty: diff numbers it 0.
	if aStart < 0 {
		aStart = 0
	} else {
		aStart++
	}
	if bStart < 0 {
		bStart = 0
	} else {
		bStart++
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, o := range h {
		line := ""
		switch o.kind {
		case opEqual, opDelete:
			line = a[o.a]
		case opInsert:
			line = b[o.b]
		}
		out.WriteByte(byte(o.kind))
		out.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

func hunkRange(start, n int) string {
	if n == 1 {
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}
