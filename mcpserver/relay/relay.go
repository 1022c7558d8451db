// Package relay is `scispot-mcp serve` since the workstation service took
// over every decision: it copies an MCP session between the AI client's
// stdio and the service's local API, and decides nothing.
//
//	AI client ──stdin──▶ Stdio ──▶ conn (service)
//	          ◀─stdout── Stdio ◀──
//
// It reads just enough of each message to know which requests wait for an
// answer, so that if the service goes away mid-session (a restart, an
// upgrade) every one of them is answered with a sentence instead of
// hanging, and the client learns the server is gone.
package relay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/stdio"
)

// ErrServiceGone means the service closed the session while the client
// was still there.
var ErrServiceGone = errors.New("the Scispot MCP service ended the connection")

// maxLine bounds one message, as the service's own stdio transport does.
const maxLine = stdio.DefaultMaxLineBytes + 1<<20

// GoneSentence answers requests in flight when the service goes away.
const GoneSentence = "The Scispot MCP service on this workstation stopped while this request was in flight (a restart or an upgrade); reconnect the AI client to Scispot and try again."

// Stdio relays until the client closes its input and the service has
// answered, or the service ends the session (the kill switch, a stopped
// session, a restart). It returns ErrServiceGone only for an end the
// client did not ask for while requests were waiting.
func Stdio(ctx context.Context, in io.Reader, out io.Writer, conn net.Conn) error {
	p := &pendingIDs{ids: map[string]json.RawMessage{}}
	var outMu sync.Mutex
	inDone := make(chan error, 1)
	go func() {
		err := copyLines(in, conn, p.add)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else if err != nil {
			conn.Close()
		}
		inDone <- err
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	err := copyLines(conn, lockedWriter{&outMu, out}, p.done)
	clientLeft := false
	select {
	case <-inDone:
		clientLeft = true
	default:
	}
	left := p.drain()
	if len(left) == 0 || clientLeft || ctx.Err() != nil {
		return nil
	}
	outMu.Lock()
	defer outMu.Unlock()
	for _, id := range left {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{"code": -32603, "message": GoneSentence}})
		out.Write(append(b, '\n'))
	}
	if err == nil {
		err = io.EOF
	}
	return fmt.Errorf("%w: %v", ErrServiceGone, err)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// copyLines copies newline-delimited messages, telling see about each.
func copyLines(r io.Reader, w io.Writer, see func(line []byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			see(line)
			if _, werr := w.Write(line); werr != nil {
				return werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// readLine returns one line with its newline (the last may lack one);
// past maxLine it returns what it has, so memory stays bounded and the
// receiving side answers the oversized frame.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) && len(line) < maxLine {
			continue
		}
		return line, err
	}
}

// pendingIDs are the client's requests that have no answer yet.
type pendingIDs struct {
	mu  sync.Mutex
	ids map[string]json.RawMessage
}

func (p *pendingIDs) add(line []byte) {
	id, method, ok := peek(line)
	if !ok || method == "" || id == nil {
		return
	}
	p.mu.Lock()
	p.ids[string(id)] = id
	p.mu.Unlock()
}

func (p *pendingIDs) done(line []byte) {
	id, method, ok := peek(line)
	if !ok || method != "" || id == nil {
		return
	}
	p.mu.Lock()
	delete(p.ids, string(id))
	p.mu.Unlock()
}

func (p *pendingIDs) drain() []json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]json.RawMessage, 0, len(p.ids))
	for _, id := range p.ids {
		out = append(out, id)
	}
	p.ids = map[string]json.RawMessage{}
	return out
}

// peek reads a message's top-level "id" and "method" without decoding the
// rest: go-sdk writes both before "result", so a large answer is not
// scanned. A message whose id comes after its result is scanned whole.
func peek(line []byte) (id json.RawMessage, method string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", false
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, "", false
		}
		switch key {
		case "id":
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				return nil, "", false
			}
			if !bytes.Equal(raw, []byte("null")) {
				id = raw
			}
		case "method":
			if dec.Decode(&method) != nil {
				return nil, "", false
			}
		case "result", "error", "params":
			if id != nil && (method != "" || key != "params") {
				return id, method, true
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil, "", false
			}
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil, "", false
			}
		}
	}
	return id, method, true
}

// Refused serves the refused state of design rule 1 on the client's stdio
// when there is no service to relay to: the handshake is answered, the one
// tool scispot_access_status and the instructions carry the sentence, and
// every call is refused with it.
func Refused(ctx context.Context, in io.Reader, out io.Writer, r *gateway.Refusal, version string) error {
	gw := gateway.New(nil, gateway.State{Refusal: r}, &gateway.Options{Version: version})
	err := gw.Server().Run(ctx, &stdio.Transport{In: in, Out: out})
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) || errors.Is(err, mcp.ErrConnectionClosed) {
		return nil
	}
	return err
}
