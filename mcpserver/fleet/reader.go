package fleet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// formats indexes chunk.formats.
var formats = [...]Format{FormatOTLP, FormatSyslog, FormatTrail}

// chunkBytes is about how much record text a chunk carries before it is
// handed over.
const chunkBytes = 1 << 20

// chunk is a run of what the reader found, in input order: each record's
// exact line (copied into buf) with what the transport said about it, or a
// problem with a line.
type chunk struct {
	file    uint32
	buf     []byte
	items   []item
	formats [len(formats)]int
	lines   int64
	// err ends the input: it could not be read further.
	err error
}

type item struct {
	body, trail, device span // in buf
	at                  loc
	local               bool
	// problem, when set, is about the line at at, and there is no record.
	problem, detail string
}

func (c *chunk) reset() {
	c.buf, c.items, c.formats, c.lines, c.err = c.buf[:0], c.items[:0], [len(formats)]int{}, 0, nil
}

func (c *chunk) put(b []byte) span {
	start := len(c.buf)
	c.buf = append(c.buf, b...)
	return span{start, len(c.buf)}
}

func (c *chunk) record(body, trail, device []byte, at loc, local bool) {
	c.items = append(c.items, item{body: c.put(body), trail: c.put(trail), device: c.put(device), at: at, local: local})
}

func (c *chunk) problem(at loc, problem, detail string) {
	c.items = append(c.items, item{at: at, problem: problem, detail: detail})
}

// reader reads and parses one input's lines at a time.
type reader struct {
	br     *bufio.Reader
	long   []byte
	otlp   otlpScanner
	syslog syslogMessage
}

var errLineTooLong = errors.New("line too long")

// run reads r to its end (or until done is closed), filling chunks from
// free and sending them on out, which it closes when it returns.
func (rd *reader) run(r io.Reader, file uint32, trailID string, free chan *chunk, out chan<- *chunk, done <-chan struct{}) {
	defer close(out)
	rd.br.Reset(r)
	var c *chunk
	get := func() bool {
		select {
		case c = <-free:
			c.file = file
			return true
		case <-done:
			return false
		}
	}
	send := func() bool {
		select {
		case out <- c:
			c = nil
			return true
		case <-done:
			free <- c // there is always room: every chunk came from there
			c = nil
			return false
		}
	}
	if !get() {
		return
	}
	for lineNo := uint32(1); ; lineNo++ {
		line, err := rd.readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		at := loc{file: file, line: lineNo}
		switch {
		case errors.Is(err, errLineTooLong):
			c.problem(at, string(audit.ProblemTooLong), "longer than "+strconv.Itoa(maxLine)+" bytes")
		case err != nil:
			c.err = errors.New("line " + strconv.Itoa(int(lineNo)) + ": " + err.Error())
			send()
			return
		default:
			c.lines++
			rd.parse(c, line, at, trailID)
		}
		if len(c.buf) >= chunkBytes || len(c.items) >= 8192 {
			if !send() || !get() {
				return
			}
		}
	}
	send()
}

// readLine returns the next line without its newline (or \r\n); the slice
// is valid until the next call. A too long line is skipped whole.
func (rd *reader) readLine() ([]byte, error) {
	line, err := rd.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		rd.long = append(rd.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = rd.br.ReadSlice('\n')
			if len(rd.long) <= maxLine {
				rd.long = append(rd.long, line...)
			}
		}
		line = rd.long
		if len(line) > maxLine {
			if err == nil || errors.Is(err, io.EOF) {
				err = errLineTooLong
			}
			return nil, err
		}
	}
	if errors.Is(err, io.EOF) && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// parse finds the records in one line, whatever its format.
func (rd *reader) parse(c *chunk, line []byte, at loc, trailID string) {
	trimmed := bytes.TrimLeft(line, " \t")
	switch {
	case len(trimmed) == 0:
	case trimmed[0] == '<':
		c.formats[1]++
		m := &rd.syslog
		if err := parseSyslog(line, m); err != nil {
			c.problem(at, ProblemUnrecognised, "not an RFC 5424 message: "+err.Error())
			return
		}
		c.record(m.msg, m.trail, m.device, at, false)
	case trimmed[0] == '{' && isOTLP(trimmed):
		c.formats[0]++
		err := rd.otlp.parse(trimmed, func(i int, r otlpRecord) {
			at := at
			at.rec = uint32(i)
			if !r.hasBody {
				c.problem(at, ProblemUnrecognised, "the log record has no string body")
				return
			}
			c.record(r.body, r.trail, r.device, at, false)
		})
		if err != nil {
			c.problem(at, string(audit.ProblemJSON), "not OTLP JSON: "+err.Error()+" (records before the error were read)")
		}
	case trimmed[0] == '{':
		c.formats[2]++
		c.record(trimmed, []byte(trailID), nil, at, true)
	default:
		c.problem(at, ProblemUnrecognised, "neither OTLP JSON, an RFC 5424 message nor an audit record")
	}
}
