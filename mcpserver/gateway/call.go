package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// Every tools/call runs through one chain, inside an SDK tool handler so
// that whatever it answers (a result, a refusal, an upstream error) gets
// the SDK's normalisation for the negotiated protocol, such as the
// resultType a 2026-07-28 client requires:
//
//	record ─▶ access ─▶ results ─▶ visibility ─▶ checks ─▶ approval ─▶ forward ─▶ upstream
//	(audit: exactly one record per call, outermost; approval: approval.go)
//
// access refuses everything while access is refused and answers the
// status tool; results passes every result that comes back from below it
// — Scispot's, ok or error, and the gateway's own sentences about an
// outage — through Guards.After; visibility refuses tools the policy
// hides; checks runs Guards.Before, so nothing it refuses reaches Scispot;
// approval asks the person to sign a write (approval.go).
//
// A link refuses by returning a *Refusal as its error; record turns it
// into the tool error the client sees and a tool.denied record with the
// rule. The policy is read once per call (Call.Policy).
//
// Tools that are not registered — hidden, unknown, or the status tool
// while access is allowed — reach the chain through dispatchTool, an
// internal tool that no tools/list ever shows.

// Call is one tools/call on its way through the chain.
type Call struct {
	Session *mcp.ServerSession
	Client  *mcp.Implementation
	// CanElicit says the client declared MCP elicitation.
	CanElicit bool
	Tool      string
	Args      json.RawMessage
	// Policy is the snapshot every link of this call judges by.
	Policy policy.Policy
	Start  time.Time
	// MultiRoundTrip says the client takes input_required results
	// (protocol 2026-07-28 and later); InputResponses and RequestState
	// are what its retry of such a result carries.
	MultiRoundTrip bool
	InputResponses mcp.InputResponseMap
	RequestState   string

	// Class is the verdict's classification of the tool, once visibility
	// has judged it.
	Class Class

	// Filled by links, for the record.
	Flags []string
	// ResultBytes is the size of the result as it came back to the
	// results link, before the guards.
	ResultBytes int
	// Rule names why the result is an error, when a link answered with
	// one without refusing (Scispot unreachable).
	Rule string
	// Signature links the signature record that authorised (or refused)
	// the call; Change holds what a write changed.
	Signature *audit.Signature
	Change    *audit.Change
}

// CallHandler answers a call; Link wraps one (the go-sdk Middleware shape,
// for one method).
type (
	CallHandler func(ctx context.Context, c *Call) (*mcp.CallToolResult, error)
	Link        func(next CallHandler) CallHandler
)

// dispatchTool carries calls to tools that are not registered into the
// chain. Its name cannot collide with Scispot's snake_case tool names.
const dispatchTool = "scispot.dispatch"

// calledName is the context key for the tool a dispatched call named.
type calledName struct{}

func (g *Gateway) chain() CallHandler {
	h := g.forward
	for _, l := range []Link{g.approvalLink, g.checkLink, g.visibilityLink, g.resultLink, g.accessLink, g.recordLink} {
		h = l(h)
	}
	return h
}

// toolHandler is the SDK tool handler of every registered tool and of
// dispatchTool.
func (g *Gateway) toolHandler(ctx context.Context, req *mcp.CallToolRequest, chain CallHandler) (*mcp.CallToolResult, error) {
	g.inflight.Add(1)
	defer g.inflight.Done()
	c := &Call{
		Session:   req.Session,
		Client:    clientOf(req),
		CanElicit: canElicit(req),
		Tool:      req.Params.Name,
		Args:      req.Params.Arguments,
		Policy:    g.State().Policy,
		Start:     g.opts.Now(),

		MultiRoundTrip: multiRoundTrip(req.Session),
	}
	if req.Params != nil {
		c.InputResponses, c.RequestState = req.Params.InputResponses, req.Params.RequestState
	}
	if name, ok := ctx.Value(calledName{}).(string); ok {
		c.Tool = name
	}
	return chain(ctx, c)
}

// callTool sends tools/call for a tool the SDK does not know (hidden,
// unknown, the status tool while allowed) through dispatchTool.
func (g *Gateway) callTool(ctx context.Context, method string, req mcp.Request, next mcp.MethodHandler) (mcp.Result, error) {
	params, _ := req.GetParams().(*mcp.CallToolParamsRaw)
	if params == nil {
		return next(ctx, method, req)
	}
	name := params.Name
	if !g.isRegistered(name) || name == dispatchTool {
		ctx = context.WithValue(ctx, calledName{}, name)
		params.Name = dispatchTool
	}
	return next(ctx, method, req)
}

func (g *Gateway) isRegistered(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.registered[name]
	return ok
}

// recordLink writes the call's one audit record before its result goes
// back, and turns a refusal into the tool error the client shows.
func (g *Gateway) recordLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		var ir *InputRequired
		if errors.As(err, &ir) {
			// Not the call yet: the client's retry with the answer is.
			return ir.Result, nil
		}
		ev := Event{Kind: EventToolCall, Session: c.Session, Client: c.Client, Tool: c.Tool, Args: c.Args,
			Duration: g.opts.Now().Sub(c.Start), ResultBytes: c.ResultBytes, Flags: c.Flags, Rule: c.Rule,
			Signature: c.Signature, Change: c.Change}
		var r *Refusal
		switch {
		case errors.As(err, &r):
			ev.Kind, ev.Outcome, ev.Reason, ev.Rule = EventToolDenied, OutcomeDenied, r.Sentence, r.Rule
			// The status tool's answer is the reason, not a failure.
			res, err = textResult(c.Tool != StatusToolName, r.Sentence), nil
		case err != nil:
			ev.Outcome, ev.Reason = OutcomeError, err.Error()
		case res == nil:
			ev.Outcome, ev.Reason = OutcomeError, "the upstream returned no result"
			res = textResult(true, "Scispot's MCP server returned an empty answer; try again.")
		case res.IsError:
			ev.Outcome, ev.Reason = OutcomeError, firstText(res)
		default:
			ev.Outcome = OutcomeOK
		}
		if c.Tool == StatusToolName && ev.Kind == EventToolCall && ev.Outcome == OutcomeOK {
			return res, err // asking whether access is available changes nothing
		}
		if rerr := g.record(ctx, ev); rerr != nil {
			return nil, rerr
		}
		return res, err
	}
}

// accessLink refuses every call while access is refused for this client,
// and answers the status tool.
func (g *Gateway) accessLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if r := g.refusalFor(c.Client); r != nil {
			return nil, r
		}
		if c.Tool == StatusToolName {
			if _, err := g.upstreamTools(ctx); err != nil {
				return textResult(false, upstreamRefusal(err).Sentence), nil
			}
			return textResult(false, "Scispot access is available on this workstation."), nil
		}
		return next(ctx, c)
	}
}

// resultLink passes every result from below through the result guards:
// none skips them, whatever it is.
func (g *Gateway) resultLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		res, err := next(ctx, c)
		if err != nil || res == nil {
			return res, err
		}
		b, err := json.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("the result cannot be sent to the AI client: %w", err)
		}
		c.ResultBytes = len(b)
		if g.opts.Guards == nil {
			return res, nil
		}
		out, flags, r := g.opts.Guards.After(ctx, c.info(g.opts.Secrets), res, c.ResultBytes)
		c.Flags = append(c.Flags, flags...)
		if r != nil {
			return nil, r
		}
		if out != nil {
			res = out
		}
		return res, nil
	}
}

// visibilityLink refuses tools the policy hides, judged on the upstream's
// own definition. While the upstream cannot be listed, a tool hidden by
// its name alone is refused as hidden; so is a tool the catalogue does not
// know, because only its definition can say whether Scispot publishes it
// and what it does; a catalogue tool the policy allows gets the outage.
func (g *Gateway) visibilityLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		tools, err := g.upstreamTools(ctx)
		if err != nil {
			outage := upstreamRefusal(err)
			v := Decide(c.Policy, c.Tool)
			switch {
			case !v.Visible:
				return nil, hiddenRefusal(c.Tool, v)
			case catalog.Lookup(c.Tool).Kind == catalog.Unknown:
				return nil, &Refusal{Rule: RuleToolHidden, Sentence: fmt.Sprintf(
					"The tool %q is not available on this workstation right now: it is not in this release's catalogue, so only Scispot's own definition of it can say what it does, and Scispot's tool list cannot be read (%s)", c.Tool, outage.Sentence)}
			}
			c.Rule = outage.Rule
			return textResult(true, outage.Sentence), nil
		}
		v := Visibility{Reason: "not published by the Scispot workspace", Rule: RuleToolHidden}
		for _, t := range tools {
			if t.tool.Name == c.Tool {
				v = g.judge(ctx, t, c.Policy)
				break
			}
		}
		if !v.Visible {
			return nil, hiddenRefusal(c.Tool, v)
		}
		c.Class = v.Class
		return next(ctx, c)
	}
}

// checkLink runs the guards that decide before anything reaches the
// upstream (rate, budget, write confirmation).
func (g *Gateway) checkLink(next CallHandler) CallHandler {
	return func(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
		if g.opts.Guards == nil {
			return next(ctx, c)
		}
		flags, r := g.opts.Guards.Before(ctx, c.info(g.opts.Secrets))
		c.Flags = append(c.Flags, flags...)
		if r != nil {
			return nil, r
		}
		return next(ctx, c)
	}
}

// info is what the guards see of a call.
func (c *Call) info(secrets redact.Redactor) CallInfo {
	return CallInfo{Session: c.Session, Client: c.Client, CanElicit: c.CanElicit, Tool: c.Tool, Args: c.Args,
		Policy: c.Policy, Class: c.Class, Secrets: secrets}
}

// forward is the one path from a client's call to the upstream. The
// kill switch and the policy end it through stopCtx.
func (g *Gateway) forward(ctx context.Context, c *Call) (*mcp.CallToolResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(g.stopCtx, func() { cancel(context.Cause(g.stopCtx)) })
	defer stop()

	params := &mcp.CallToolParams{Name: c.Tool}
	// "arguments": null is sent as no arguments: some servers (go-sdk
	// v1.8 among them) crash decoding null into a schema with defaults.
	if args := bytes.TrimSpace(c.Args); len(args) > 0 && !bytes.Equal(args, []byte("null")) {
		params.Arguments = c.Args
	}
	res, err := g.up.CallTool(ctx, params)
	if r, ok := context.Cause(ctx).(*Refusal); ok {
		c.Rule = r.Rule
		return textResult(true, r.Sentence), nil
	}
	if err != nil {
		r := upstreamRefusal(err)
		c.Rule = r.Rule
		return textResult(true, r.Sentence), nil
	}
	return res, nil
}
