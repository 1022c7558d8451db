package enroll

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tomlValue is one top-level value of a TOML document. Only strings are
// kept; other values are recorded as present so that a key holding the
// wrong type can be reported.
type tomlValue struct {
	str      string
	isString bool
}

// parseTopLevelTOML reads the top-level key/value pairs of a small TOML
// document — the shape of Intune's registration.toml:
//
//	account_hint = '7f0c…'
//	device_hint = "1234…"
//
// It is a minimal reader, not a full TOML parser: it knows comments, bare and
// quoted keys, basic and literal strings (single- and multi-line), and skips
// other values (numbers, booleans, dates, arrays, inline tables) and
// everything under a [table] header. Dotted keys are not top-level keys and
// are skipped. A duplicate top-level key, an unterminated string or a line
// it cannot read is an error wrapping ErrUnrecognized, never a guess.
func parseTopLevelTOML(data []byte) (map[string]tomlValue, error) {
	if len(data) > maxOutputBytes {
		return nil, fmt.Errorf("%d bytes is too large: %w", len(data), ErrUnrecognized)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("not UTF-8: %w", ErrUnrecognized)
	}
	p := &tomlParser{s: strings.TrimPrefix(string(data), "\ufeff"), line: 1}
	vals := make(map[string]tomlValue)
	topLevel := true
	for {
		p.skipBlank()
		if p.eof() {
			return vals, nil
		}
		switch p.peek() {
		case '\n':
			p.next()
			continue
		case '#':
			p.skipComment()
			continue
		case '[':
			if err := p.header(); err != nil {
				return nil, err
			}
			topLevel = false
			continue
		}
		keys, err := p.key()
		if err != nil {
			return nil, err
		}
		p.skipBlank()
		if p.eof() || p.peek() != '=' {
			return nil, p.errorf("expected = after key %s", shown(strings.Join(keys, ".")))
		}
		p.next()
		p.skipBlank()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.endOfLine(); err != nil {
			return nil, err
		}
		if topLevel && len(keys) == 1 {
			if _, dup := vals[keys[0]]; dup {
				return nil, p.errorf("key %s appears twice", shown(keys[0]))
			}
			vals[keys[0]] = v
		}
	}
}

type tomlParser struct {
	s    string
	i    int
	line int
}

func (p *tomlParser) eof() bool  { return p.i >= len(p.s) }
func (p *tomlParser) peek() byte { return p.s[p.i] }

func (p *tomlParser) next() byte {
	c := p.s[p.i]
	p.i++
	if c == '\n' {
		p.line++
	}
	return c
}

func (p *tomlParser) errorf(format string, args ...any) error {
	return fmt.Errorf("not valid TOML: line %d: %s: %w", p.line, fmt.Sprintf(format, args...), ErrUnrecognized)
}

// skipBlank skips spaces, tabs and the \r of a \r\n line end.
func (p *tomlParser) skipBlank() {
	for !p.eof() {
		switch p.peek() {
		case ' ', '\t':
			p.i++
		case '\r':
			if p.i+1 < len(p.s) && p.s[p.i+1] == '\n' {
				p.i++
				continue
			}
			return
		default:
			return
		}
	}
}

func (p *tomlParser) skipComment() {
	for !p.eof() && p.peek() != '\n' {
		p.i++
	}
}

// endOfLine accepts blanks, an optional comment and then a newline or EOF.
func (p *tomlParser) endOfLine() error {
	p.skipBlank()
	if p.eof() {
		return nil
	}
	switch p.peek() {
	case '#':
		p.skipComment()
		return nil
	case '\n':
		p.next()
		return nil
	}
	return p.errorf("unexpected %s after value", shown(p.rest(12)))
}

func (p *tomlParser) rest(n int) string {
	end := min(p.i+n, len(p.s))
	for end > p.i && !utf8.ValidString(p.s[p.i:end]) {
		end--
	}
	return p.s[p.i:end]
}

// header reads a [table] or [[array-of-tables]] line.
func (p *tomlParser) header() error {
	p.next() // [
	double := !p.eof() && p.peek() == '['
	if double {
		p.next()
	}
	p.skipBlank()
	if _, err := p.key(); err != nil {
		return err
	}
	p.skipBlank()
	closing := "]"
	if double {
		closing = "]]"
	}
	if !strings.HasPrefix(p.s[p.i:], closing) {
		return p.errorf("table header not closed with %s", closing)
	}
	p.i += len(closing)
	return p.endOfLine()
}

// key reads a possibly dotted key and returns its parts.
func (p *tomlParser) key() ([]string, error) {
	var parts []string
	for {
		p.skipBlank()
		if p.eof() {
			return nil, p.errorf("expected a key")
		}
		var part string
		switch c := p.peek(); {
		case c == '"':
			s, err := p.basicString()
			if err != nil {
				return nil, err
			}
			part = s
		case c == '\'':
			s, err := p.literalString()
			if err != nil {
				return nil, err
			}
			part = s
		case isBareKeyChar(c):
			start := p.i
			for !p.eof() && isBareKeyChar(p.peek()) {
				p.i++
			}
			part = p.s[start:p.i]
		default:
			return nil, p.errorf("expected a key, found %s", shown(p.rest(12)))
		}
		parts = append(parts, part)
		p.skipBlank()
		if p.eof() || p.peek() != '.' {
			return parts, nil
		}
		p.next()
	}
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// value reads one value. Strings are decoded; anything else is skipped.
func (p *tomlParser) value() (tomlValue, error) {
	if p.eof() {
		return tomlValue{}, p.errorf("expected a value")
	}
	switch p.peek() {
	case '"':
		s, err := p.basicString()
		return tomlValue{str: s, isString: true}, err
	case '\'':
		s, err := p.literalString()
		return tomlValue{str: s, isString: true}, err
	case '[', '{':
		return tomlValue{}, p.skipComposite()
	case '\n', '#':
		return tomlValue{}, p.errorf("expected a value")
	}
	// A scalar: number, boolean, date-time. Spaces occur inside a date-time
	// ("1979-05-27 07:32:00Z"), so read up to a comment or the line end.
	for !p.eof() && p.peek() != '\n' && p.peek() != '#' {
		if p.peek() == '\r' && p.i+1 < len(p.s) && p.s[p.i+1] == '\n' {
			break
		}
		p.i++
	}
	return tomlValue{}, nil
}

// skipComposite skips an array or inline table, which may span lines and
// hold strings and comments.
func (p *tomlParser) skipComposite() error {
	var stack []byte
	for {
		if p.eof() {
			return p.errorf("array or inline table not closed")
		}
		switch c := p.peek(); c {
		case '[', '{':
			if len(stack) >= 64 {
				return p.errorf("arrays nested too deeply")
			}
			stack = append(stack, c)
			p.next()
		case ']', '}':
			want := byte('[')
			if c == '}' {
				want = '{'
			}
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return p.errorf("mismatched %c", c)
			}
			stack = stack[:len(stack)-1]
			p.next()
			if len(stack) == 0 {
				return nil
			}
		case '"':
			if _, err := p.basicString(); err != nil {
				return err
			}
		case '\'':
			if _, err := p.literalString(); err != nil {
				return err
			}
		case '#':
			p.skipComment()
		default:
			p.next()
		}
	}
}

// basicString reads "…" or """…""" with escapes.
func (p *tomlParser) basicString() (string, error) {
	multi := strings.HasPrefix(p.s[p.i:], `"""`)
	if multi {
		p.i += 3
		p.trimFirstNewline()
	} else {
		p.i++
	}
	var b strings.Builder
	for {
		if p.eof() {
			return "", p.errorf("string not closed")
		}
		if multi && strings.HasPrefix(p.s[p.i:], `"""`) {
			p.i += 3
			// Up to two quotes may directly precede the closing delimiter.
			for n := 0; n < 2 && !p.eof() && p.peek() == '"'; n++ {
				b.WriteByte('"')
				p.i++
			}
			return b.String(), nil
		}
		c := p.peek()
		switch {
		case c == '"' && !multi:
			p.i++
			return b.String(), nil
		case c == '\n' && !multi:
			return "", p.errorf("string not closed on its line")
		case c == '\\':
			p.i++
			if err := p.escape(&b, multi); err != nil {
				return "", err
			}
		default:
			b.WriteByte(p.next())
		}
	}
}

func (p *tomlParser) escape(b *strings.Builder, multi bool) error {
	if p.eof() {
		return p.errorf("string not closed")
	}
	c := p.next()
	switch c {
	case '"', '\\':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 't':
		b.WriteByte('\t')
	case 'n':
		b.WriteByte('\n')
	case 'f':
		b.WriteByte('\f')
	case 'r':
		b.WriteByte('\r')
	case 'e':
		b.WriteByte(0x1b)
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if p.i+n > len(p.s) {
			return p.errorf("short \\%c escape", c)
		}
		v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
		if err != nil || !utf8.ValidRune(rune(v)) {
			return p.errorf("bad \\%c escape", c)
		}
		p.i += n
		b.WriteRune(rune(v))
	case ' ', '\t', '\r', '\n':
		// A line-ending backslash in a multi-line string trims white space
		// up to the next non-blank character.
		if !multi {
			return p.errorf("bad escape")
		}
		sawNewline := c == '\n'
		for !p.eof() {
			switch p.peek() {
			case ' ', '\t', '\r':
				p.i++
				continue
			case '\n':
				sawNewline = true
				p.next()
				continue
			}
			break
		}
		if !sawNewline {
			return p.errorf("bad escape")
		}
	default:
		return p.errorf("bad escape \\%c", c)
	}
	return nil
}

// literalString reads a literal string, single- or multi-line: no escapes.
func (p *tomlParser) literalString() (string, error) {
	if strings.HasPrefix(p.s[p.i:], "'''") {
		p.i += 3
		p.trimFirstNewline()
		end := strings.Index(p.s[p.i:], "'''")
		if end < 0 {
			return "", p.errorf("string not closed")
		}
		// Up to two quotes may directly precede the closing delimiter.
		for n := 0; n < 2 && p.i+end+3 < len(p.s) && p.s[p.i+end+3] == '\''; n++ {
			end++
		}
		s := p.s[p.i : p.i+end]
		p.line += strings.Count(s, "\n")
		p.i += end + 3
		return s, nil
	}
	p.i++
	end := strings.IndexAny(p.s[p.i:], "'\n")
	if end < 0 || p.s[p.i+end] != '\'' {
		return "", p.errorf("string not closed on its line")
	}
	s := p.s[p.i : p.i+end]
	p.i += end + 1
	return s, nil
}

// trimFirstNewline drops the newline right after an opening """ or ”'.
func (p *tomlParser) trimFirstNewline() {
	switch {
	case strings.HasPrefix(p.s[p.i:], "\r\n"):
		p.i += 2
		p.line++
	case strings.HasPrefix(p.s[p.i:], "\n"):
		p.i++
		p.line++
	}
}
