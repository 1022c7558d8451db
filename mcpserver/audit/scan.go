package audit

import (
	"encoding/json"
	"strconv"
)

// A fast reader of one audit line for the verifier: it validates the whole
// line as JSON (same grammar as encoding/json's Valid) while extracting only
// the members the chain checks need, without allocating.

// maxDepth bounds nesting inside args; RedactArgs output is at most
// MaxArgsBytes long, so real records stay far below it.
const maxDepth = 10000

// lineFields are the members verify reads from a line. String members are
// the raw bytes between the quotes (escapes undone only when present, see
// field).
type lineFields struct {
	v, seq, resultBytes          int64
	hasV, hasSeq, hasResultBytes bool
	badV, badSeq, badResultBytes bool // present but not an integer
	session, event, prev         field
	user, device, token, outcome field
	// signature, checkpoint, client and flags are the raw values of those
	// members, nil when absent: the verifier decodes the first two (only
	// signature and checkpoint lines have them), the fleet verifier the
	// others.
	signature, checkpoint, client, flags []byte
}

type field struct {
	raw     []byte // between the quotes
	escaped bool   // raw contains backslash escapes
	present bool
	notStr  bool // present but not a string
}

// text returns the field's string value.
func (f field) text() string {
	if !f.escaped {
		return string(f.raw)
	}
	var s string
	// raw came from a validated string, so this cannot fail; keep raw if
	// it somehow does.
	q := make([]byte, 0, len(f.raw)+2)
	q = append(append(append(q, '"'), f.raw...), '"')
	if err := json.Unmarshal(q, &s); err != nil {
		return string(f.raw)
	}
	return s
}

// equal reports whether the field's value is s.
func (f field) equal(s string) bool {
	if !f.escaped {
		return string(f.raw) == s
	}
	return f.text() == s
}

// scanError is a JSON syntax error in a line. torn means the input ended in
// the middle of a value: what a crash during a write leaves behind.
type scanError struct {
	off  int
	msg  string
	torn bool
}

func (e *scanError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.off+1) + ": " + e.msg
}

type scanner struct {
	b     []byte
	i     int
	depth int
}

func (s *scanner) fail(msg string) error {
	if s.i >= len(s.b) {
		return &scanError{off: s.i, msg: "unexpected end of line", torn: true}
	}
	return &scanError{off: s.i, msg: msg}
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// scanLine validates line as exactly one JSON object and fills f.
func scanLine(line []byte, f *lineFields) error {
	*f = lineFields{}
	s := scanner{b: line}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return s.fail("a record must be a JSON object")
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.fail("expected a member name")
			}
			ks, ke, kesc, err := s.str()
			if err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.fail("expected ':'")
			}
			s.i++
			s.ws()
			var target *field
			var num *int64
			var has, bad *bool
			var raw *[]byte
			if !kesc {
				switch string(line[ks:ke]) {
				case "v":
					num, has, bad = &f.v, &f.hasV, &f.badV
				case "seq":
					num, has, bad = &f.seq, &f.hasSeq, &f.badSeq
				case "session":
					target = &f.session
				case "event":
					target = &f.event
				case "prev":
					target = &f.prev
				case "user":
					target = &f.user
				case "device":
					target = &f.device
				case "token":
					target = &f.token
				case "outcome":
					target = &f.outcome
				case "result_bytes":
					num, has, bad = &f.resultBytes, &f.hasResultBytes, &f.badResultBytes
				case "signature":
					raw = &f.signature
				case "checkpoint":
					raw = &f.checkpoint
				case "client":
					raw = &f.client
				case "flags":
					raw = &f.flags
				}
			}
			start := s.i
			switch {
			case target != nil && s.i < len(s.b) && s.b[s.i] == '"':
				vs, ve, esc, err := s.str()
				if err != nil {
					return err
				}
				*target = field{raw: line[vs:ve], escaped: esc, present: true}
			default:
				if err := s.value(); err != nil {
					return err
				}
				if target != nil {
					*target = field{present: true, notStr: true}
				}
				if num != nil {
					*has = true
					n, ok := parseInt(line[start:s.i])
					*num, *bad = n, !ok
				}
				if raw != nil {
					*raw = line[start:s.i]
				}
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.fail("")
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == '}' {
				s.i++
				break
			}
			return s.fail("expected ',' or '}'")
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return s.fail("unexpected data after the record")
	}
	return nil
}

// validJSON reports whether b is one JSON value; used by tests to compare
// the scanner with encoding/json.
func validJSON(b []byte) bool {
	s := scanner{b: b}
	s.ws()
	if err := s.value(); err != nil {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// value skips one JSON value.
func (s *scanner) value() error {
	if s.i >= len(s.b) {
		return s.fail("")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, _, err := s.str()
		return err
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.fail("unexpected character")
	}
}

func (s *scanner) literal(lit string) error {
	for j := 0; j < len(lit); j++ {
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if s.b[s.i] != lit[j] {
			return s.fail("invalid literal")
		}
		s.i++
	}
	return nil
}

func (s *scanner) object() error {
	if s.depth++; s.depth > maxDepth {
		return s.fail("nested too deeply")
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.fail("expected a member name")
		}
		if _, _, _, err := s.str(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.fail("expected ':'")
		}
		s.i++
		s.ws()
		if err := s.value(); err != nil {
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
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *scanner) array() error {
	if s.depth++; s.depth > maxDepth {
		return s.fail("nested too deeply")
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.ws()
		if err := s.value(); err != nil {
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
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

// str scans a string starting at its opening quote and returns the bounds
// of its content.
func (s *scanner) str() (start, end int, escaped bool, err error) {
	s.i++ // '"'
	start = s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			end = s.i
			s.i++
			return start, end, escaped, nil
		case c == '\\':
			escaped = true
			s.i++
			if s.i >= len(s.b) {
				return 0, 0, false, s.fail("")
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for k := 0; k < 4; k++ {
					if s.i >= len(s.b) {
						return 0, 0, false, s.fail("")
					}
					if !isHex(s.b[s.i]) {
						return 0, 0, false, s.fail("invalid \\u escape")
					}
					s.i++
				}
			default:
				return 0, 0, false, s.fail("invalid escape")
			}
		case c < 0x20:
			return 0, 0, false, s.fail("control character in string")
		default:
			s.i++
		}
	}
	return 0, 0, false, s.fail("")
}

func (s *scanner) number() error {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return s.fail("")
	}
	switch c := s.b[s.i]; {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	default:
		return s.fail("invalid number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if !isDigit(s.b[s.i]) {
			return s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if !isDigit(s.b[s.i]) {
			return s.fail("invalid number")
		}
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
		}
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// parseInt parses a JSON integer without allocating; ok is false for
// fractions, exponents and values beyond 18 digits.
func parseInt(b []byte) (n int64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
