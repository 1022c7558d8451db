package fleet

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// otlpScanner reads an OTLP JSON line in one pass without building the
// document: it walks resourceLogs[].scopeLogs[].logRecords[] and decodes
// only the body's stringValue and the attributes fleet-verify uses,
// skipping (and validating) everything else. encoding/json into small
// structs spent 90% of fleet-verify's time on the attributes every record
// carries; this is several times faster. Tests hold it to protojson's
// reading of the official OTLP types (FuzzParseOTLP): member names in
// lowerCamelCase or as in the .proto, as protojson accepts them.
type otlpScanner struct {
	b   []byte
	i   int
	buf []byte // decoded strings, referred to by span
	// recs are the records of the resourceLogs element being read; they
	// are handed out when it ends, when its host.id is known whatever the
	// member order.
	recs []scannedRecord
	host span
	kv   struct {
		key []byte
		val span
	}
}

type span struct{ start, end int }

type scannedRecord struct {
	body, trail, device span
	hasBody             bool
}

func (s *otlpScanner) fail(what string) error {
	if s.i >= len(s.b) {
		return errors.New("invalid JSON: unexpected end of line")
	}
	return errors.New("invalid JSON at byte " + strconv.Itoa(s.i+1) + ": " + what)
}

func (s *otlpScanner) bytes(sp span) []byte { return s.buf[sp.start:sp.end:sp.end] }

// parse scans line and calls fn for each log record, numbered from 1.
func (s *otlpScanner) parse(line []byte, fn func(i int, r otlpRecord)) error {
	s.b, s.i, s.buf = line, 0, s.buf[:0]
	n := 0
	err := s.object(func(key []byte) error {
		if string(key) != "resourceLogs" && string(key) != "resource_logs" {
			return s.skip(0)
		}
		return s.array(func() error {
			s.recs, s.host = s.recs[:0], span{}
			if err := s.object(s.resourceLogs); err != nil {
				return err
			}
			for _, r := range s.recs {
				n++
				rec := otlpRecord{trail: s.bytes(r.trail), device: s.bytes(r.device), hasBody: r.hasBody}
				if r.hasBody {
					rec.body = s.bytes(r.body)
				}
				if len(rec.device) == 0 {
					rec.device = s.bytes(s.host)
				}
				fn(n, rec)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.b) {
		return s.fail("unexpected data after the object")
	}
	return nil
}

func (s *otlpScanner) resourceLogs(key []byte) error {
	switch string(key) {
	case "resource":
		return s.object(func(key []byte) error {
			if string(key) != "attributes" {
				return s.skip(0)
			}
			return s.attributes(isHostID, func(k []byte, v span) {
				if string(k) == attrHostID {
					s.host = v
				}
			})
		})
	case "scopeLogs", "scope_logs":
		return s.array(func() error {
			return s.object(func(key []byte) error {
				if string(key) != "logRecords" && string(key) != "log_records" {
					return s.skip(0)
				}
				return s.array(func() error {
					s.recs = append(s.recs, scannedRecord{})
					return s.object(s.logRecord)
				})
			})
		})
	}
	return s.skip(0)
}

func (s *otlpScanner) logRecord(key []byte) error {
	r := &s.recs[len(s.recs)-1]
	switch string(key) {
	case "body":
		r.hasBody = false
		return s.object(func(key []byte) error {
			if !isStringValue(key) || !s.at('"') {
				return s.skip(0)
			}
			sp, err := s.str()
			if err != nil {
				return err
			}
			r.body, r.hasBody = sp, true
			return nil
		})
	case "attributes":
		return s.attributes(isRecordAttr, func(k []byte, v span) {
			r := &s.recs[len(s.recs)-1]
			switch string(k) {
			case attrTrail:
				r.trail = v
			case attrDevice:
				r.device = v
			}
		})
	}
	return s.skip(0)
}

// attributes reads a KeyValue array, calling fn with each key and its
// stringValue (an empty span for other value kinds). wanted says which
// keys matter: the value of another, when its key comes first (as OTLP
// encoders write it), is skipped without being decoded.
func (s *otlpScanner) attributes(wanted func(key []byte) bool, fn func(key []byte, val span)) error {
	return s.array(func() error {
		s.kv.key, s.kv.val = nil, span{}
		keySeen := false
		err := s.object(func(key []byte) error {
			switch {
			case string(key) == "key" && s.at('"'):
				k, err := s.name()
				s.kv.key, keySeen = k, true
				return err
			case string(key) == "value":
				if keySeen && !wanted(s.kv.key) {
					return s.skip(0)
				}
				return s.object(func(key []byte) error {
					if !isStringValue(key) || !s.at('"') {
						return s.skip(0)
					}
					sp, err := s.str()
					s.kv.val = sp
					return err
				})
			}
			return s.skip(0)
		})
		if err != nil {
			return err
		}
		fn(s.kv.key, s.kv.val)
		return nil
	})
}

func isHostID(key []byte) bool { return string(key) == attrHostID }

func isRecordAttr(key []byte) bool { return string(key) == attrTrail || string(key) == attrDevice }

func isStringValue(key []byte) bool {
	return string(key) == "stringValue" || string(key) == "string_value"
}

func (s *otlpScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// at skips white space and reports whether the next byte is c.
func (s *otlpScanner) at(c byte) bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] == c
}

// object reads an object, calling member for each member name with the
// scanner at its value, which member must consume. null is an empty object.
func (s *otlpScanner) object(member func(key []byte) error) error {
	if s.at('n') {
		return s.literal("null")
	}
	if !s.at('{') {
		return s.fail("expected an object")
	}
	s.i++
	if s.at('}') {
		s.i++
		return nil
	}
	for {
		if !s.at('"') {
			return s.fail("expected a member name")
		}
		key, err := s.name()
		if err != nil {
			return err
		}
		if !s.at(':') {
			return s.fail("expected ':'")
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

// array reads an array, calling elem with the scanner at each element,
// which elem must consume. null is an empty array.
func (s *otlpScanner) array(elem func() error) error {
	if s.at('n') {
		return s.literal("null")
	}
	if !s.at('[') {
		return s.fail("expected an array")
	}
	s.i++
	if s.at(']') {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// maxOTLPDepth bounds nesting in skipped values (kvlist attributes can
// nest).
const maxOTLPDepth = 1000

// skip reads and discards one value.
func (s *otlpScanner) skip(depth int) error {
	if depth > maxOTLPDepth {
		return s.fail("nested too deeply")
	}
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipStr()
	case c == '{':
		return s.object(func([]byte) error { return s.skip(depth + 1) })
	case c == '[':
		return s.array(func() error { return s.skip(depth + 1) })
	case c == '-' || isDigit(c):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("unexpected character")
}

func (s *otlpScanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	return nil
}

func (s *otlpScanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.fail("invalid number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.fail("invalid number")
		}
	}
	return nil
}

// name reads a member name. Names are plain ASCII in practice: those are
// returned in place; one with escapes is decoded into its own buffer.
func (s *otlpScanner) name() ([]byte, error) {
	start := s.i + 1
	j := start
	for j < len(s.b) && s.b[j] != '"' && s.b[j] != '\\' && s.b[j] >= 0x20 && s.b[j] < utf8.RuneSelf {
		j++
	}
	if j < len(s.b) && s.b[j] == '"' {
		s.i = j + 1
		return s.b[start:j], nil
	}
	mark := len(s.buf)
	sp, err := s.str()
	if err != nil {
		return nil, err
	}
	key := append([]byte(nil), s.buf[sp.start:sp.end]...)
	s.buf = s.buf[:mark]
	return key, nil
}

// skipStr validates a string without decoding it.
func (s *otlpScanner) skipStr() error {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return nil
		case c == '\\':
			if err := s.escape(nil); err != nil {
				return err
			}
		case c < 0x20:
			return s.fail("control character in a string")
		default:
			s.i++
		}
	}
	return s.fail("")
}

// str decodes a string (the scanner at its opening quote) into buf, as
// encoding/json does: escapes undone, a lone surrogate and each byte of
// invalid UTF-8 as U+FFFD.
func (s *otlpScanner) str() (span, error) {
	s.i++
	start := len(s.buf)
	for {
		// The run of plain ASCII, copied at once.
		j := s.i
		for j < len(s.b) {
			c := s.b[j]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			j++
		}
		s.buf = append(s.buf, s.b[s.i:j]...)
		s.i = j
		if s.i >= len(s.b) {
			return span{}, s.fail("")
		}
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return span{start, len(s.buf)}, nil
		case c == '\\':
			// The escapes a JSON line inside a string is full of, inline.
			if s.i+1 < len(s.b) && (s.b[s.i+1] == '"' || s.b[s.i+1] == '\\') {
				s.buf = append(s.buf, s.b[s.i+1])
				s.i += 2
				continue
			}
			if err := s.escape(&s.buf); err != nil {
				return span{}, err
			}
		case c < 0x20:
			return span{}, s.fail("control character in a string")
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				s.buf = utf8.AppendRune(s.buf, utf8.RuneError)
			} else {
				s.buf = append(s.buf, s.b[s.i:s.i+size]...)
			}
			s.i += size
		}
	}
}

// escape reads one escape sequence (the scanner at its backslash) and,
// when out is not nil, appends what it stands for.
func (s *otlpScanner) escape(out *[]byte) error {
	s.i++
	if s.i >= len(s.b) {
		return s.fail("")
	}
	c := s.b[s.i]
	s.i++
	var r rune
	switch c {
	case '"', '\\', '/':
		r = rune(c)
	case 'b':
		r = '\b'
	case 'f':
		r = '\f'
	case 'n':
		r = '\n'
	case 'r':
		r = '\r'
	case 't':
		r = '\t'
	case 'u':
		var ok bool
		if r, ok = s.hex4(); !ok {
			return s.fail("invalid \\u escape")
		}
		if utf16.IsSurrogate(r) {
			// A pair only when a \u low surrogate follows at once.
			save := s.i
			if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
				s.i += 2
				if r2, ok := s.hex4(); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						break
					}
				}
			}
			s.i = save
			r = utf8.RuneError
		}
	default:
		s.i--
		return s.fail("invalid escape")
	}
	if out != nil {
		*out = utf8.AppendRune(*out, r)
	}
	return nil
}

func (s *otlpScanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}
