package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// middleware is where every rule meets every request: the handshake gets
// instructions that carry any refusal, tools/list answers the refused state
// or the allowed tools, and tools/call is refused, forwarded and recorded.
func (g *Gateway) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "initialize", "server/discover":
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			client := clientOf(req)
			if err := g.record(ctx, Event{Kind: EventSessionStart, Session: sessionOf(req), Client: client, Outcome: OutcomeOK}); err != nil {
				return nil, err
			}
			r := g.refusalFor(client)
			if r == nil {
				r = g.outage()
			}
			switch res := res.(type) {
			case *mcp.InitializeResult:
				if res != nil {
					res.Instructions = instructions(r)
					res.ServerInfo = serverInfo(res.ServerInfo, r)
				}
			case *mcp.DiscoverResult:
				if res != nil {
					res.Instructions = instructions(r)
				}
			}
			return res, nil
		case "tools/list":
			return g.listTools(ctx, method, req, next)
		case "tools/call":
			return g.callTool(ctx, method, req, next)
		}
		return next(ctx, method, req)
	}
}

// sendingMiddleware passes a tools/list_changed only to a session whose
// own list changed since it last asked: the first listing of the upstream
// fills the registry, and the SDK announces every registry change to every
// session, whether or not it has listed yet or is refused for its client.
func (g *Gateway) sendingMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "notifications/tools/list_changed" {
			if ss := sessionOf(req); ss != nil {
				g.mu.Lock()
				seen, ok := g.listed[ss]
				g.mu.Unlock()
				// A session that never listed learns the list when it does.
				if !ok || seen.signature == toolsSignature(g.viewFor(ctx, seen.client).tools) {
					return nil, nil
				}
			}
		}
		return next(ctx, method, req)
	}
}

// listing is what one session saw at its last complete tools/list.
type listing struct {
	client    *mcp.Implementation
	signature string
}

// view is what a session of one client may see right now: the allowed
// tools, or the status tool alone with the refusal that explains it.
type view struct {
	tools   []*mcp.Tool
	refusal *Refusal
	outcome string
}

// viewFor decides the view for a client; it lists the upstream once if it
// has not been listed yet.
func (g *Gateway) viewFor(ctx context.Context, client *mcp.Implementation) view {
	if r := g.refusalFor(client); r != nil {
		return view{tools: []*mcp.Tool{statusTool(r)}, refusal: r, outcome: OutcomeDenied}
	}
	if _, err := g.upstreamTools(ctx); err != nil {
		// The upstream is down or rejected us: say so through the one tool
		// every client shows, rather than an opaque protocol error.
		r := upstreamRefusal(err)
		return view{tools: []*mcp.Tool{statusTool(r)}, refusal: r, outcome: OutcomeError}
	}
	return view{tools: g.currentTools(), outcome: OutcomeOK}
}

// outage is the refusal a session sees because the upstream could not be
// listed, if it already failed; it never starts a listing.
func (g *Gateway) outage() *Refusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.listErr
}

// currentTools is what a session that is not refused would list now.
func (g *Gateway) currentTools() []*mcp.Tool {
	g.mu.Lock()
	defer g.mu.Unlock()
	tools := make([]*mcp.Tool, 0, len(g.registered))
	for _, t := range g.registered {
		tools = append(tools, t)
	}
	return tools
}

func toolsSignature(tools []*mcp.Tool) string {
	parts := make([]string, 0, len(tools))
	for _, t := range tools {
		parts = append(parts, t.Name+"\x00"+t.Title+"\x00"+t.Description)
	}
	slices.Sort(parts)
	return strings.Join(parts, "\x01")
}

// listTools answers through the SDK's own handler, so the result is
// normalised for the negotiated protocol (cacheScope, resultType) whatever
// the state; a refused or failed view then replaces the tools in it.
func (g *Gateway) listTools(ctx context.Context, method string, req mcp.Request, next mcp.MethodHandler) (mcp.Result, error) {
	client := clientOf(req)
	v := g.viewFor(ctx, client)
	ev := Event{Kind: EventToolsList, Session: sessionOf(req), Client: client, Outcome: v.outcome}
	if v.refusal != nil {
		ev.Reason, ev.Rule = v.refusal.Sentence, v.refusal.Rule
	}
	res, err := next(ctx, method, req)
	lr, _ := res.(*mcp.ListToolsResult)
	switch {
	case err != nil:
		ev.Outcome, ev.Reason = OutcomeError, err.Error()
	case lr == nil:
		err = errors.New("the gateway's tool list is empty")
		ev.Outcome, ev.Reason = OutcomeError, err.Error()
		res = nil
	case v.refusal != nil:
		lr.Tools, lr.NextCursor = v.tools, ""
	}
	if rerr := g.record(ctx, ev); rerr != nil {
		return nil, rerr
	}
	if ss := sessionOf(req); err == nil && ss != nil && lr.NextCursor == "" {
		g.mu.Lock()
		g.listed[ss] = listing{client: client, signature: toolsSignature(lr.Tools)}
		g.mu.Unlock()
	}
	return res, err
}

func (g *Gateway) callTool(ctx context.Context, method string, req mcp.Request, next mcp.MethodHandler) (mcp.Result, error) {
	g.inflight.Add(1)
	defer g.inflight.Done()
	start := g.opts.Now()
	client := clientOf(req)
	params, _ := req.GetParams().(*mcp.CallToolParamsRaw)
	if params == nil {
		params = &mcp.CallToolParamsRaw{}
	}
	ev := Event{Kind: EventToolCall, Session: sessionOf(req), Client: client, Tool: params.Name, Args: params.Arguments}
	deny := func(r *Refusal, res *mcp.CallToolResult) (mcp.Result, error) {
		ev.Kind, ev.Outcome, ev.Reason, ev.Rule = EventToolDenied, OutcomeDenied, r.Sentence, r.Rule
		ev.Duration = g.opts.Now().Sub(start)
		if err := g.record(ctx, ev); err != nil {
			return nil, err
		}
		return res, nil
	}

	if r := g.refusalFor(client); r != nil {
		if params.Name == StatusToolName {
			return deny(r, textResult(false, r.Sentence))
		}
		return deny(r, textResult(true, r.Sentence))
	}
	tools, err := g.upstreamTools(ctx)
	if err != nil {
		r := upstreamRefusal(err)
		ev.Outcome, ev.Reason, ev.Rule = OutcomeError, r.Sentence, r.Rule
		ev.Duration = g.opts.Now().Sub(start)
		if err := g.record(ctx, ev); err != nil {
			return nil, err
		}
		return textResult(params.Name != StatusToolName, r.Sentence), nil
	}
	if params.Name == StatusToolName {
		return textResult(false, "Scispot access is available on this workstation."), nil
	}
	var tool *mcp.Tool
	for _, t := range tools {
		if t.Name == params.Name {
			tool = t
			break
		}
	}
	v := Visibility{Reason: "not published by the Scispot workspace"}
	if tool != nil {
		v = g.judge(g.State().Policy, tool)
	}
	if !v.Visible {
		r := &Refusal{Rule: RuleToolHidden, Sentence: hiddenSentence(params.Name, v)}
		return deny(r, textResult(true, r.Sentence))
	}

	info := CallInfo{Session: ev.Session, Client: client, CanElicit: canElicit(req), Tool: params.Name, Args: params.Arguments, Policy: g.State().Policy}
	var beforeFlags []string
	if g.opts.Guards != nil {
		var r *Refusal
		if beforeFlags, r = g.opts.Guards.Before(ctx, info); r != nil {
			ev.Flags = beforeFlags
			return deny(r, textResult(true, r.Sentence))
		}
	}

	res, err := next(ctx, method, req)
	ev.Duration = g.opts.Now().Sub(start)
	out, _ := res.(*mcp.CallToolResult) // may be a typed nil
	switch {
	case err != nil:
		ev.Outcome, ev.Reason = OutcomeError, err.Error()
	case out == nil:
		ev.Outcome, ev.Reason = OutcomeError, "the upstream returned no result"
		res = textResult(true, "Scispot's MCP server returned an empty answer; try again.")
	default:
		ev.Outcome = OutcomeOK
		if out.IsError {
			ev.Outcome = OutcomeError
			ev.Reason = firstText(out)
		}
		if b, mErr := json.Marshal(out); mErr == nil {
			ev.ResultBytes = len(b)
		}
		ev.Flags = beforeFlags
		if g.opts.Guards != nil && !out.IsError {
			guarded, flags, r := g.opts.Guards.After(ctx, info, out, ev.ResultBytes)
			if r != nil {
				return deny(r, textResult(true, r.Sentence))
			}
			ev.Flags = append(beforeFlags, flags...)
			if guarded != nil {
				res = guarded
			}
		}
	}
	if rerr := g.record(ctx, ev); rerr != nil {
		return nil, rerr
	}
	return res, err
}

// forward is the one path from a client's call to the upstream.
func (g *Gateway) forward(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(g.stopCtx, func() { cancel(context.Cause(g.stopCtx)) })
	defer stop()

	params := &mcp.CallToolParams{Name: req.Params.Name}
	// "arguments": null is sent as no arguments: some servers (go-sdk
	// v1.8 among them) crash decoding null into a schema with defaults.
	if args := bytes.TrimSpace(req.Params.Arguments); len(args) > 0 && !bytes.Equal(args, []byte("null")) {
		params.Arguments = req.Params.Arguments
	}
	res, err := g.up.CallTool(ctx, params)
	if r, ok := context.Cause(ctx).(*Refusal); ok {
		return textResult(true, r.Sentence), nil
	}
	if err != nil {
		return textResult(true, upstreamRefusal(err).Sentence), nil
	}
	if res == nil {
		return textResult(true, "Scispot's MCP server returned an empty answer; try again."), nil
	}
	return res, nil
}

func (g *Gateway) statusHandler(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	if r := g.State().Refusal; r != nil {
		return textResult(false, r.Sentence), nil
	}
	return textResult(false, "Scispot access is available on this workstation."), nil
}

// upstreamRefusal turns an upstream failure into the sentence a scientist
// sees. The upstream package already words its errors that way; an outage
// (an error that says it is transient) also says what to do meanwhile.
func upstreamRefusal(err error) *Refusal {
	var r *Refusal
	if errors.As(err, &r) {
		return r
	}
	// Only a bare context error gets our wording: the upstream package's
	// errors also match context.DeadlineExceeded but say more.
	switch err {
	case context.DeadlineExceeded:
		return &Refusal{Rule: RuleUpstreamDown, Sentence: "Scispot did not answer in time; try again."}
	case context.Canceled:
		return &Refusal{Rule: RuleUpstream, Sentence: "The call was cancelled before Scispot answered."}
	}
	var t interface{ Transient() bool }
	if errors.As(err, &t) && t.Transient() {
		return &Refusal{Rule: RuleUpstreamDown, Sentence: fmt.Sprint(err) + " Your access is not blocked: try again in a few minutes, and check this workstation's network connection if it keeps happening."}
	}
	return &Refusal{Rule: RuleUpstream, Sentence: fmt.Sprint(err)}
}

func (g *Gateway) record(ctx context.Context, e Event) error {
	if g.opts.Recorder == nil {
		return nil
	}
	if err := g.opts.Recorder.Record(context.WithoutCancel(ctx), e); err != nil {
		g.opts.Logger.Error("audit record failed", "event", e.Kind, "err", err)
		return fmt.Errorf("the Scispot MCP audit trail could not be written, so the result is withheld (free disk space or fix the permissions of the audit folder that `scispot-mcp audit verify` names, then retry): %w", err)
	}
	return nil
}

func firstText(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			s := t.Text
			if len(s) > 300 {
				s = s[:300] + "…"
			}
			return s
		}
	}
	return ""
}
