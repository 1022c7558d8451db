// Package stdio is the MCP transport that AI clients use to talk to
// `scispot-mcp serve`: newline-delimited JSON-RPC on stdin and stdout.
//
// Unlike the go-sdk's StdioTransport, which ends the session at the first
// frame it cannot decode, this one answers a bad frame with a JSON-RPC
// error and keeps serving: a client bug or hostile input must not take the
// lab's gateway down, and every line read is bounded in size.
package stdio

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultMaxLineBytes bounds one JSON-RPC frame.
const DefaultMaxLineBytes = 16 << 20

// JSON-RPC error codes for frames that never reach the server.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
)

// Transport serves one MCP session over a reader and a writer.
type Transport struct {
	In  io.Reader
	Out io.Writer
	// MaxLineBytes bounds one frame; longer lines are refused with an
	// error response and skipped. Zero means DefaultMaxLineBytes.
	MaxLineBytes int
}

var _ mcp.Transport = (*Transport)(nil)

// Connect starts reading. It implements mcp.Transport.
func (t *Transport) Connect(ctx context.Context) (mcp.Connection, error) {
	limit := t.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	c := &conn{
		out:      t.Out,
		incoming: make(chan readResult),
		closed:   make(chan struct{}),
	}
	go c.readLoop(bufio.NewReaderSize(t.In, 64<<10), limit)
	return c, nil
}

type readResult struct {
	msg jsonrpc.Message
	err error
}

type conn struct {
	out      io.Writer
	writeMu  sync.Mutex
	incoming chan readResult
	closed   chan struct{}
	once     sync.Once
}

// readLoop owns the reader. It hands good messages to Read and answers
// bad frames itself.
func (c *conn) readLoop(r *bufio.Reader, limit int) {
	for {
		line, tooLong, err := readLine(r, limit)
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			if msg, reply := decode(line, tooLong, limit); reply != nil {
				if werr := c.writeRaw(reply); werr != nil {
					c.deliver(readResult{err: werr})
					return
				}
			} else if !c.deliver(readResult{msg: msg}) {
				return
			}
		}
		if err != nil {
			c.deliver(readResult{err: err})
			return
		}
	}
}

func (c *conn) deliver(r readResult) bool {
	select {
	case c.incoming <- r:
		return true
	case <-c.closed:
		return false
	}
}

// readLine reads one line. Past limit bytes it keeps only the first
// limit bytes, drains the rest and reports tooLong, so memory stays
// bounded whatever arrives.
func readLine(r *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			tooLong = true
			if room := limit - len(line); room > 0 {
				line = append(line, chunk[:room]...)
			}
		} else {
			line = append(line, chunk...)
		}
		switch {
		case err == nil:
			return line, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, tooLong, err
		}
	}
}

// decode turns a frame into a message, or into the error response that
// answers it.
func decode(line []byte, tooLong bool, limit int) (jsonrpc.Message, []byte) {
	if tooLong {
		return nil, errorResponse(topLevelID(line), codeInvalidRequest, fmt.Sprintf("message larger than the %d MiB this server accepts", limit>>20))
	}
	msg, err := jsonrpc.DecodeMessage(bytes.TrimSpace(line))
	if err == nil {
		return msg, nil
	}
	code := codeParseError
	if json.Valid(line) {
		code = codeInvalidRequest
	}
	id := topLevelID(line)
	if id == nil && code == codeInvalidRequest && !bytes.Contains(line, []byte(`"id"`)) {
		// A malformed notification: JSON-RPC says not to answer it.
		return nil, nil
	}
	return nil, errorResponse(id, code, "invalid JSON-RPC message: "+err.Error())
}

// topLevelID finds the "id" member of the outermost object without
// decoding the rest, so even a frame too deep or too long to decode gets
// an answer the client can match.
func topLevelID(line []byte) any {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	for {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		name, ok := key.(string)
		if !ok {
			return nil
		}
		if name == "id" {
			v, err := dec.Token()
			if err != nil {
				return nil
			}
			switch v := v.(type) {
			case string:
				return v
			case json.Number:
				if i, err := v.Int64(); err == nil {
					return i
				}
			}
			return nil
		}
		if !skipValue(dec) {
			return nil
		}
	}
}

func skipValue(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}

// errorResponse answers a frame the server cannot read. Without an id it
// leaves "id" out: JSON-RPC 2.0 says null, but MCP 2025-11-25 and later
// allow only a string or a number there, or no member at all.
func errorResponse(id any, code int, message string) []byte {
	m := map[string]any{
		"jsonrpc": "2.0",
		"error":   map[string]any{"code": code, "message": message},
	}
	if id != nil {
		m["id"] = id
	}
	b, _ := json.Marshal(m)
	return b
}

func (c *conn) Read(ctx context.Context) (jsonrpc.Message, error) {
	select {
	case r := <-c.incoming:
		return r.msg, r.err
	case <-c.closed:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *conn) Write(ctx context.Context, msg jsonrpc.Message) error {
	b, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encoding a JSON-RPC message: %w", err)
	}
	return c.writeRaw(b)
}

func (c *conn) writeRaw(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	select {
	case <-c.closed:
		return io.ErrClosedPipe
	default:
	}
	buf := make([]byte, 0, len(b)+1)
	buf = append(append(buf, b...), '\n')
	_, err := c.out.Write(buf)
	return err
}

func (c *conn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *conn) SessionID() string { return "" }
