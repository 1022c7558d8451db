package gateway

import (
	"context"
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
		case "subscriptions/listen":
			// A 2026-07-28 client over HTTP hears list_changed on this
			// stream's own session, which never lists: what it would list
			// now is its starting point.
			if ss := sessionOf(req); ss != nil {
				client := clientOf(req)
				sig := toolsSignature(g.viewFor(ctx, client).tools)
				g.mu.Lock()
				if _, ok := g.listed[ss]; !ok {
					g.listed[ss] = listing{client: client, signature: sig}
				}
				g.mu.Unlock()
				// The stream lasts until the client goes; a stateless
				// stream's session ends with it.
				defer func() {
					if ss.ID() == "" && ss.InitializeParams() == nil {
						g.Forget(ss)
					}
				}()
			}
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
				if !ok {
					return nil, nil
				}
				now := toolsSignature(g.viewFor(ctx, seen.client).tools)
				if seen.signature == now {
					return nil, nil
				}
				g.mu.Lock()
				g.listed[ss] = listing{client: seen.client, signature: now}
				g.mu.Unlock()
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
	for name, r := range g.registered {
		if name != dispatchTool {
			tools = append(tools, r.tool)
		}
	}
	return tools
}

func toolsSignature(tools []*mcp.Tool) string {
	parts := make([]string, 0, len(tools))
	for _, t := range tools {
		kind := "read"
		if a := t.Annotations; a != nil && !a.ReadOnlyHint {
			kind = "write"
			if a.DestructiveHint == nil || *a.DestructiveHint {
				kind = "destructive"
			}
		}
		parts = append(parts, t.Name+"\x00"+t.Title+"\x00"+t.Description+"\x00"+kind)
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
	default:
		lr.Tools = slices.DeleteFunc(lr.Tools, func(t *mcp.Tool) bool { return t.Name == dispatchTool })
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
