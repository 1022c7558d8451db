package fleet

import (
	"bytes"
	"errors"
	"strconv"
)

// RFC 5424 lines, as rsyslog stores them with RSYSLOG_SyslogProtocol23Format
// (one message per line, the RFC 6587 octet count of the wire gone):
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [scispot@32473 trail="…" …] MSG
//
// Only what fleet-verify needs is read: the scispot@32473 element and the
// message, which must be the record's exact JSON line.

// sdID is the structured-data element the forwarder writes.
const sdID = "scispot@32473"

// syslogMessage is one parsed line; its slices point into the line.
type syslogMessage struct {
	// params are the scispot@32473 parameters fleet-verify uses (escapes
	// undone); the record itself says the rest.
	trail, device, seq []byte
	msg                []byte
}

var errNotSyslog = errors.New("not an RFC 5424 message")

// parseSyslog reads one RFC 5424 line.
func parseSyslog(line []byte, m *syslogMessage) error {
	*m = syslogMessage{}
	i := 0
	if len(line) < 4 || line[0] != '<' {
		return errNotSyslog
	}
	i = 1
	for i < len(line) && i <= 4 && isDigit(line[i]) {
		i++
	}
	if i == 1 || i >= len(line) || line[i] != '>' {
		return errors.New("the PRI part is not <number>")
	}
	if pri, _ := strconv.Atoi(string(line[1:i])); pri > 191 {
		return errors.New("the PRI is larger than 191")
	}
	i++
	// VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID: six tokens.
	var fields [6][]byte
	for k := range fields {
		j := bytes.IndexByte(line[i:], ' ')
		if j <= 0 {
			return errors.New("the header ends early")
		}
		fields[k] = line[i : i+j]
		i += j + 1
	}
	if string(fields[0]) != "1" {
		return errors.New("the version is not 1")
	}
	if i >= len(line) {
		return errors.New("no structured data")
	}
	if line[i] == '-' {
		i++
	} else {
		for i < len(line) && line[i] == '[' {
			n, err := parseSDElement(line[i:], m)
			if err != nil {
				return err
			}
			i += n
		}
	}
	if i < len(line) && line[i] != ' ' {
		return errors.New("unexpected data after the structured data")
	}
	msg := line[i:]
	msg = bytes.TrimLeft(msg, " ")
	msg = bytes.TrimPrefix(msg, []byte("\xef\xbb\xbf"))
	m.msg = bytes.TrimRight(msg, " \r")
	return nil
}

// parseSDElement reads one [id name="value" …] and returns its length.
func parseSDElement(b []byte, m *syslogMessage) (int, error) {
	i := 1
	start := i
	for i < len(b) && b[i] != ' ' && b[i] != ']' {
		if b[i] == '=' || b[i] == '"' {
			return 0, errors.New("bad structured-data id")
		}
		i++
	}
	if i == start || i >= len(b) {
		return 0, errors.New("the structured data ends early")
	}
	ours := string(b[start:i]) == sdID
	for {
		if i >= len(b) {
			return 0, errors.New("the structured data ends early")
		}
		if b[i] == ']' {
			return i + 1, nil
		}
		i++ // ' '
		ns := i
		for i < len(b) && b[i] != '=' && b[i] != ' ' && b[i] != ']' && b[i] != '"' {
			i++
		}
		if i == ns || i+1 >= len(b) || b[i] != '=' || b[i+1] != '"' {
			return 0, errors.New("bad structured-data parameter")
		}
		name := b[ns:i]
		i += 2
		vs := i
		escaped := false
		for i < len(b) && b[i] != '"' {
			if b[i] == '\\' && i+1 < len(b) {
				escaped = true
				i++
			}
			i++
		}
		if i >= len(b) {
			return 0, errors.New("a structured-data value is not closed")
		}
		val := b[vs:i]
		i++
		if escaped {
			val = unescapeSD(val)
		}
		if !ours {
			continue
		}
		switch string(name) {
		case "trail":
			m.trail = val
		case "device":
			m.device = val
		case "seq":
			m.seq = val
		}
	}
}

// unescapeSD undoes RFC 5424's \" \\ \] escapes.
func unescapeSD(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\' || v[i+1] == ']') {
			i++
		}
		out = append(out, v[i])
	}
	return out
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
