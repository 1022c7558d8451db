package injection

import (
	"html"
	"slices"
	"strings"
	"unicode/utf8"
)

// Encoded text. Instructions written as "%69%67%6E%6F%72%65",
// "&#105;&#103;…" or "\x69\x67…" read as nothing to the phrase rules, and
// a model decodes them without being asked. The detector decodes such
// escapes in place (a decoded layer, see decodeUnits) and looks again; a
// finding that involves decoded text is reported as the encoding's rule,
// over the encoded original.
//
// Decoding is bounded: layers nest at most maxDepth deep (URL-encoded
// entities inside base64, say), and one Detect decodes at most four times
// its input, and never more than maxDecoded bytes, in all, so its time
// stays linear in the input.
const (
	maxDepth   = 3
	maxDecoded = 1 << 20
)

// Kinds of decoded unit.
const (
	unitJSON    = iota // a JSON/JavaScript escape: \n, \", \u0069
	unitPercent        // %69, and + for a space in a query string
	unitEntity         // &#105;, &#x69;, &lt;
	unitHex            // \x69
	unitFold           // a reading of disguised letters (see foldings)
)

// unitRule is the rule a finding in decoded text is reported as.
var unitRule = [...]string{unitJSON: "", unitPercent: RuleURLEncoded, unitEntity: RuleHTMLEntities, unitHex: RuleHex, unitFold: ""}

// unit is one decoded escape: out[at:end] of a decoded text came from
// src[from:to] of the text it was decoded from.
type unit struct {
	at, end, from, to int
	kind              int
}

// offsetMap maps a decoded text back to its source: a unit maps to the
// escape it came from, and the text between units maps one to one. Units
// are in order.
type offsetMap []unit

// last returns the index of the last unit starting at or before i, or -1.
func (m offsetMap) last(i int) int {
	k, _ := slices.BinarySearchFunc(m, i, func(u unit, i int) int {
		if u.at <= i {
			return -1
		}
		return 1
	})
	return k - 1
}

// start maps the decoded offset i (the start of a range) to the source.
func (m offsetMap) start(i int) int {
	k := m.last(i)
	if k < 0 {
		return i
	}
	if u := m[k]; i < u.end {
		return u.from
	} else {
		return u.to + i - u.end
	}
}

// end maps the decoded offset j (the end of a non-empty range) to the
// source.
func (m offsetMap) end(j int) int {
	k := m.last(j - 1)
	if k < 0 {
		return j
	}
	if u := m[k]; j-1 < u.end {
		return u.to
	} else {
		return u.to + j - u.end
	}
}

// overlap returns the kind of the first unit other than a JSON escape
// that overlaps the decoded range [i, j), or -1.
func (m offsetMap) overlap(i, j int) int {
	for k := max(m.last(i), 0); k < len(m) && m[k].at < j; k++ {
		if m[k].end > i && m[k].kind != unitJSON {
			return m[k].kind
		}
	}
	return -1
}

// unescapeJSON decodes the JSON/JavaScript escapes of s (see decodeEscape).
func unescapeJSON(s string) (string, offsetMap) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, nil
	}
	var m offsetMap
	b := make([]byte, 0, len(s))
	last := 0
	for i >= 0 {
		i += last
		r, n, ok := decodeEscape(s, i)
		if !ok {
			b = append(b, s[last:i+1]...)
			last = i + 1
		} else {
			b = append(b, s[last:i]...)
			at := len(b)
			b = utf8.AppendRune(b, r)
			m = append(m, unit{at: at, end: len(b), from: i, to: i + n, kind: unitJSON})
			last = i + n
		}
		i = strings.IndexByte(s[last:], '\\')
	}
	b = append(b, s[last:]...)
	return string(b), m
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func hexByte(s string, i int) (byte, bool) {
	if i+2 > len(s) {
		return 0, false
	}
	h, ok1 := unhex(s[i])
	l, ok2 := unhex(s[i+1])
	return h<<4 | l, ok1 && ok2
}

// unitAt decodes the escape at s[i] (a '%', '&', '\' or '+'), appending
// the bytes it stands for to b. n is its length, 0 when s[i:] is not one.
func unitAt(b []byte, s string, i int, query bool) (_ []byte, n, kind int) {
	switch s[i] {
	case '%':
		if c, ok := hexByte(s, i+1); ok {
			return append(b, c), 3, unitPercent
		}
	case '+':
		if query {
			return append(b, ' '), 1, unitPercent
		}
	case '\\':
		j := i
		for j < len(s) && s[j] == '\\' {
			j++
		}
		if j < len(s) && s[j] == 'x' {
			if c, ok := hexByte(s, j+1); ok {
				return append(b, c), j + 3 - i, unitHex
			}
		}
	case '&':
		if d, n := entityAt(s, i); n > 0 {
			return append(b, d...), n, unitEntity
		}
	}
	return b, 0, 0
}

// entityAt decodes the HTML character reference at s[i] ('&'): its text
// and length, 0 if s[i:] is not one.
func entityAt(s string, i int) (string, int) {
	j := i + 1
	switch {
	case j < len(s) && s[j] == '#':
		j++
		digits := j
		hex := j < len(s) && (s[j] == 'x' || s[j] == 'X')
		if hex {
			j++
			digits++
		}
		for j < len(s) && j-digits < 8 {
			if _, ok := unhex(s[j]); !ok || !hex && s[j] > '9' {
				break
			}
			j++
		}
		if j == digits {
			return "", 0
		}
		if j < len(s) && s[j] == ';' {
			j++
		}
	default:
		for j < len(s) && j-i <= 32 && isWordByte(s[j]) {
			j++
		}
		if j == i+1 || j >= len(s) || s[j] != ';' {
			return "", 0 // named references need their ';' here
		}
		j++
	}
	d := html.UnescapeString(s[i:j])
	if d == s[i:j] {
		return "", 0
	}
	return d, j - i
}

// decodeUnits decodes the percent-escapes, HTML character references and
// \x escapes of s. It returns s itself and no units when there are none.
// A '+' stands for a space only inside a query string ("?q=a+b+c").
func decodeUnits(s string) (string, offsetMap) {
	var (
		m    offsetMap
		b    []byte
		last int
	)
	runEnd, query := -1, false // the run of non-spaces around the last '+' met
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' && c != '&' && c != '\\' && c != '+' {
			continue
		}
		if c == '+' && i >= runEnd {
			runEnd, query = queryAround(s, i)
		}
		var scratch [16]byte
		out, n, kind := unitAt(scratch[:0], s, i, query && i < runEnd)
		if n == 0 {
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s))
		}
		b = append(b, s[last:i]...)
		at := len(b)
		b = append(b, out...)
		m = append(m, unit{at: at, end: len(b), from: i, to: i + n, kind: kind})
		last = i + n
		i += n - 1
	}
	if m == nil {
		return s, nil
	}
	return string(append(b, s[last:]...)), m
}

// queryAround looks at the run of non-space characters holding s[i] (a
// '+'): it returns the run's end, and whether the run looks like a URL
// query whose '+' are spaces ("q=ignore+all+previous").
func queryAround(s string, i int) (end int, query bool) {
	from, to := i, i
	for from > 0 && !isQueryStop(s[from-1]) {
		from--
	}
	for to < len(s) && !isQueryStop(s[to]) {
		to++
	}
	run := s[from:to]
	eq := strings.IndexByte(run, '=')
	return to, eq >= 0 && eq < i-from && strings.Count(run, "+") >= 2
}

func isQueryStop(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ')'
}

// mayHaveUnits is a quick look for anything decodeUnits would decode,
// also behind JSON escapes (\u0025 is a '%'), so most texts skip the
// decoded layer without a copy.
func mayHaveUnits(s string) bool {
	runEnd := -1 // the run of non-spaces around the last '+' met
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			if _, ok := hexByte(s, i+1); ok {
				return true
			}
		case '&':
			if i+1 < len(s) && (s[i+1] == '#' || isWordByte(s[i+1])) {
				return true
			}
		case '+':
			if i < runEnd {
				continue
			}
			end, query := queryAround(s, i)
			if query {
				return true
			}
			runEnd = end
		case '\\':
			j := i
			for j < len(s) && s[j] == '\\' {
				j++
			}
			if j < len(s) && s[j] == 'x' {
				return true
			}
			if j+4 < len(s) && s[j] == 'u' && s[j+1] == '0' && s[j+2] == '0' {
				switch strings.ToLower(s[j+3 : j+5]) {
				case "25", "26", "2b", "5c":
					return true
				}
			}
			i = j - 1
		}
	}
	return false
}

// decodedWindow is how far around a decoded unit its layer is scanned:
// enough for a rule's match (maxSpan) and the weak signals near it
// (window), with room for NFKC and escapes making text shorter.
const decodedWindow = 2048

// windows returns the parts of the decoded text s worth scanning, around
// its units other than JSON escapes, widened to whitespace so a base64 or
// hex run is not cut; nil means all of s.
func windows(s string, m offsetMap) [][2]int {
	var out [][2]int
	add := func(from, to int) {
		if n := len(out); n > 0 && from <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], to)
			return
		}
		out = append(out, [2]int{from, to})
	}
	for _, u := range m {
		if u.kind != unitJSON {
			add(max(u.at-decodedWindow, 0), min(u.end+decodedWindow, len(s)))
		}
	}
	// Widen to whitespace: each stretch between windows is walked at most
	// once from either side.
	wide := out
	out = nil
	for _, w := range wide {
		from, to := w[0], w[1]
		for from > 0 && w[0]-from < maxBase64 && !isQueryStop(s[from-1]) {
			from--
		}
		for to < len(s) && to-w[1] < maxBase64 && !isQueryStop(s[to]) {
			to++
		}
		add(from, to)
	}
	total := 0
	for _, w := range out {
		total += w[1] - w[0]
	}
	if total*2 > len(s) {
		return nil
	}
	return out
}

// decoded finds the instructions that show only once the escapes of text
// are decoded.
func (sc *scanner) decoded(text string, depth int) []Finding {
	if !mayHaveUnits(text) {
		return nil
	}
	a, ma := unescapeJSON(text)
	b, mb := decodeUnits(a)
	if mb == nil {
		return nil
	}
	ws := windows(b, mb)
	if ws == nil {
		ws = [][2]int{{0, len(b)}}
	}
	var out []Finding
	for _, w := range ws {
		if !sc.spend(w[1] - w[0]) {
			break
		}
		for _, f := range sc.detect(b[w[0]:w[1]], depth+1) {
			if isHidden(f.Rule) {
				continue // an invisible character written as an escape is not invisible
			}
			s, e := f.Start+w[0], f.End+w[0]
			kind := mb.overlap(s, e)
			if kind < 0 {
				continue // found without decoding anything
			}
			s, e = mb.start(s), mb.end(e)
			if ma != nil {
				s, e = ma.start(s), ma.end(e)
			}
			if s < e {
				out = append(out, Finding{Rule: unitRule[kind], Start: s, End: e})
			}
		}
	}
	return out
}

// isHidden reports whether rule reports invisible characters as such,
// not instructions.
func isHidden(rule string) bool {
	return rule == RuleHiddenZeroWidth || rule == RuleHiddenBidi || rule == RuleHiddenTags
}

// Invisible reports whether the findings of rule cover only invisible
// characters (the hidden-* rules), so that removing the finding's span,
// not the sentence around it, removes what was hidden.
func Invisible(rule string) bool {
	return isHidden(rule) || rule == RuleHiddenTagText
}
