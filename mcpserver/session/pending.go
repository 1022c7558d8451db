package session

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// pendingTransport counts the client's requests that have no response on
// the wire yet. A stopped session waits for that count to reach zero
// before it exits, so a call cancelled by the kill switch really delivers
// its "stopped" answer: the gateway's handler returning is not enough,
// the SDK writes the response after it. Likewise a client that closes its
// input right after its last request (a shell pipe) gets every answer: the
// end of input reaches the SDK only once they are written.
type pendingTransport struct {
	inner mcp.Transport

	mu      sync.Mutex
	pending map[any]bool
	idle    chan struct{} // closed while nothing is pending
}

func newPendingTransport(t mcp.Transport) *pendingTransport {
	idle := make(chan struct{})
	close(idle)
	return &pendingTransport{inner: t, pending: map[any]bool{}, idle: idle}
}

func (p *pendingTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := p.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pendingConn{Connection: c, p: p, closed: make(chan struct{})}, nil
}

// wait returns when no request is pending or ctx ends.
func (p *pendingTransport) wait(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

func (p *pendingTransport) add(id jsonrpc.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.pending) == 0 {
		p.idle = make(chan struct{})
	}
	p.pending[id.Raw()] = true
}

func (p *pendingTransport) done(id jsonrpc.ID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.pending[id.Raw()] {
		return
	}
	delete(p.pending, id.Raw())
	if len(p.pending) == 0 {
		close(p.idle)
	}
}

type pendingConn struct {
	mcp.Connection
	p *pendingTransport

	closeOnce sync.Once
	closed    chan struct{} // closed by Close: no answer will be written any more
}

func (c *pendingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	m, err := c.Connection.Read(ctx)
	if req, ok := m.(*jsonrpc.Request); ok && err == nil && req.IsCall() {
		c.p.add(req.ID)
	}
	if errors.Is(err, io.EOF) {
		c.p.mu.Lock()
		idle := c.p.idle
		c.p.mu.Unlock()
		select {
		case <-idle:
		case <-c.closed:
		case <-ctx.Done():
		}
	}
	return m, err
}

func (c *pendingConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Connection.Close()
}

func (c *pendingConn) Write(ctx context.Context, m jsonrpc.Message) error {
	err := c.Connection.Write(ctx, m)
	if resp, ok := m.(*jsonrpc.Response); ok {
		c.p.done(resp.ID)
	}
	return err
}
