package gateway

import (
	"context"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Approvals: the last link before the upstream asks the Approver, which
// puts a write to the person and records their signature. It sits inside
// the guards, so a call over the rate or budget never bothers anyone, and
// it ends with the kill switch like a forward does.

// Approver decides whether a call may reach the upstream on the person's
// word.
type Approver interface {
	// Approve runs before the call reaches the upstream. It lets the call
	// through (nil error), refuses it (*Refusal), or answers for now with
	// an input_required result (*InputRequired). It may fill c.Flags,
	// c.Signature and c.Change for the call's record, also when it
	// refuses. after, when not nil, runs once the upstream has answered
	// and before the call is recorded (to read the value a write left).
	Approve(ctx context.Context, c *Call) (after func(ctx context.Context, res *mcp.CallToolResult), err error)
}

// InputRequired is an Approver's answer for now: Result carries the
// input requests (and their request state) for a client on protocol
// 2026-07-28. It is returned to the client through the SDK's handler, so
// the SDK marks it input_required, and it leaves no audit record: the
// client's retry with the answers is the call.
type InputRequired struct {
	Result *mcp.CallToolResult
}

func (*InputRequired) Error() string { return "the call needs the client's input first" }

// approvalLink asks the Approver. A kill switch or policy stop while the
// person is being asked ends the question with the stop's sentence.
func (g *Gateway) approvalLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if g.opts.Approver == nil {
			return next(ctx, c)
		}
		actx, cancel := context.WithCancelCause(ctx)
		stop := context.AfterFunc(g.stopCtx, func() { cancel(context.Cause(g.stopCtx)) })
		after, err := g.opts.Approver.Approve(actx, c)
		stop()
		cause := context.Cause(actx)
		cancel(nil)
		var r *Refusal
		if err != nil && errors.As(cause, &r) {
			return nil, r
		}
		if err != nil {
			return nil, err
		}
		res, err := next(ctx, c)
		if after != nil && err == nil {
			after(ctx, res)
		}
		return res, err
	}
}

// UpstreamTool is the upstream's definition of a tool (nil when it
// publishes none, or cannot be listed), for an Approver that needs to
// know a read tool's arguments.
func (g *Gateway) UpstreamTool(ctx context.Context, name string) *mcp.Tool {
	tools, err := g.upstreamTools(ctx)
	if err != nil {
		return nil
	}
	for _, t := range tools {
		if t.tool.Name == name {
			return t.tool
		}
	}
	return nil
}

// ReadUpstream calls a tool on the upstream outside the chain, neither
// guarded nor recorded on its own: an Approver reads the value a write
// will change (and then changed) with it, shows it to the person and
// keeps it in the write's own record. The kill switch ends it like a
// forward.
func (g *Gateway) ReadUpstream(ctx context.Context, params *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	if g.up == nil {
		return nil, errors.New("no upstream is configured")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(g.stopCtx, func() { cancel(context.Cause(g.stopCtx)) })
	defer stop()
	res, err := g.up.CallTool(ctx, params)
	if r, ok := context.Cause(ctx).(*Refusal); ok {
		return nil, r
	}
	return res, err
}

// multiRoundTrip judges as the go-sdk does whether a session's client
// takes input_required results: its negotiated protocol is 2026-07-28 or
// later (a session that has not said is on the newest). Judging the same
// way matters: for an older client the SDK would fulfil input requests
// itself, by elicitation, bypassing the approver's own choice of path.
func multiRoundTrip(ss *mcp.ServerSession) bool {
	v := mcp.SupportedProtocolVersions()[0]
	if ss != nil {
		if p := ss.InitializeParams(); p != nil {
			v = p.ProtocolVersion
		}
	}
	return v >= "2026-07-28"
}
