package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// Write approvals as electronic signatures (21 CFR 11.50, 11.70; EU GMP
// Annex 11 §9). For every write with ConfirmWrites on, the person is asked
// — in the AI client when it can ask (MCP elicitation before protocol
// 2026-07-28, an input_required result from it on), otherwise in the tray,
// where the service checks their password — to sign it with a meaning and
// a reason. The signature record is written before the write reaches
// Scispot and the call's record links it; the previous and the new value
// of an overwriting write go into the call's record whether or not
// approvals are on.
//
//	Approve ─▶ read the value now ─▶ ask ─┬─ elicitation (2025 clients)
//	                                       ├─ input_required (2026-07-28 clients): answer now, signed on retry
//	                                       └─ tray (the service checks the password)
//	        ─▶ signature record ─▶ read again: unchanged? ─▶ forward ─▶ read the value after

// Rules of the refusals this file gives.
const (
	RuleWriteDeclined    = "write-declined"
	RuleWriteUnconfirmed = "write-unconfirmed"
	RuleReasonRequired   = "reason-required"
	RuleSignatureInvalid = "signature-invalid"
	RuleChangedWhileAsk  = "changed-while-asked"
	RuleAudit            = "audit"
)

// approver is a host's gateway.Approver.
type approver struct {
	h *Host
	// ask puts a write to the person in the tray; nil asks through the
	// state folder's confirm files (no password is checked there).
	ask func(ctx context.Context, req confirm.Request) (confirm.Answer, error)
	// fullName gives an account's printed name; nil prints the account.
	fullName func(account string) (string, error)
	now      func() time.Time
	inputs   inputStates
}

var _ gateway.Approver = (*approver)(nil)

// answer is a signature as the person gave it, before it is recorded.
type answer struct {
	meaning, reason string
	method          string
	verified        bool
	name, account   string // printed name and account, when the tray's answer says
	at              time.Time
	// shown is the value the person was shown when asked.
	shown *audit.Value
}

func (a *approver) Approve(ctx context.Context, c *gateway.Call) (func(context.Context, *mcp.CallToolResult), error) {
	// The gateway's verdict, not the name: a tool this release does not
	// know is a write, and Scispot's destructiveHint makes it destructive.
	if !c.Class.Write {
		return nil, nil
	}
	t := catalog.Tool{Name: c.Tool, Kind: catalog.Write, Destructive: c.Class.Destructive}
	rd, planErr := readFor(ctx, a.h.gw, c.Tool, c.Args)
	var before *audit.Value
	var beforeText string
	if rd != nil || planErr != nil {
		c.Change = &audit.Change{}
		err := planErr
		if err == nil {
			before, beforeText, err = rd.read(ctx, a.h.gw, a.h.secret)
		}
		if err != nil {
			c.Change.Error = "the previous value could not be read: " + err.Error()
		}
		c.Change.Before = recorded(c, rd, before)
	}
	var after func(context.Context, *mcp.CallToolResult)
	if rd != nil {
		after = func(ctx context.Context, res *mcp.CallToolResult) {
			if res == nil || res.IsError {
				return
			}
			v, _, err := rd.read(ctx, a.h.gw, a.h.secret)
			if err != nil {
				c.Change.Error = strings.TrimPrefix(c.Change.Error+"; ", "; ") + "the value after the write could not be read: " + err.Error()
				return
			}
			c.Change.After = recorded(c, rd, v)
		}
	}
	if !c.Policy.ConfirmWrites {
		return after, nil
	}

	current := currentShown(c, rd, before, beforeText)
	q := newQuestion(c.Client, t, c.Args, c.Policy, current)
	ans, err := a.askPerson(ctx, c, q, before)
	if err != nil {
		return nil, err
	}
	if r := a.sign(ctx, c, q, ans); r != nil {
		return nil, r
	}
	if !policy.MeaningAuthorises(ans.meaning) {
		return nil, &gateway.Refusal{Rule: RuleWriteDeclined, Sentence: fmt.Sprintf("The write %s on %s was not made: it was signed %q (%s).", c.Tool, q.target, ans.meaning, where(ans.method, q.client))}
	}
	// The signature is for the value the person was shown.
	if ans.shown != nil {
		now, _, err := rd.read(ctx, a.h.gw, a.h.secret)
		if err == nil && !now.Same(ans.shown) {
			return nil, &gateway.Refusal{Rule: RuleChangedWhileAsk, Sentence: fmt.Sprintf("The write %s on %s was not made: the record changed in Scispot while the person was deciding, so the value they signed for is no longer the one it would overwrite; try again to be asked with the value now.", c.Tool, q.target)}
		}
	}
	return after, nil
}

// currentShown is the value a question shows: none for a write that
// changes no existing value, and not the value itself when the policy
// hides the read tool from this client (the person's answer goes through
// the AI client).
func currentShown(c *gateway.Call, rd *valueRead, before *audit.Value, text string) string {
	switch {
	case c.Change == nil:
		return ""
	case before == nil:
		return "(" + c.Change.Error + ")"
	case rd != nil && !gateway.Decide(c.Policy, rd.tool).Visible:
		return fmt.Sprintf("(not shown: the admin policy hides %s; %d bytes, SHA-256 %s)", rd.tool, before.Bytes, before.SHA256[:12])
	}
	return shownValue(before, text)
}

// recorded is a value as the call's record keeps it: by digest and size
// only when the policy hides the read tool from this client, because the
// account reads its own trail (`audit export`) and must not read through
// it what the policy hides.
func recorded(c *gateway.Call, rd *valueRead, v *audit.Value) *audit.Value {
	if v == nil || rd == nil || gateway.Decide(c.Policy, rd.tool).Visible {
		return v
	}
	out := *v
	out.Value = nil
	return &out
}

func where(method, client string) string {
	switch method {
	case audit.MethodTrayPassword, audit.MethodTray:
		return "in the Scispot MCP tray"
	}
	return "in " + client
}

// askPerson gets the person's signature by the path the client allows.
// The error is a *gateway.Refusal, or a *gateway.InputRequired that
// answers the call for now.
func (a *approver) askPerson(ctx context.Context, c *gateway.Call, q question, before *audit.Value) (answer, error) {
	var ans answer
	var r *gateway.Refusal
	switch {
	case c.RequestState != "":
		ans, r = a.fromRetry(ctx, c, q)
	case c.MultiRoundTrip && c.CanElicit:
		return answer{}, a.inputRequired(ctx, c, q, before)
	case !c.MultiRoundTrip && c.CanElicit && c.Session != nil:
		var asked bool
		ans, r, asked = a.elicit(ctx, c, q)
		if !asked {
			// The client declared elicitation but could not ask: the tray.
			ans, r = a.tray(ctx, c, q)
		}
	default:
		ans, r = a.tray(ctx, c, q)
	}
	if r != nil {
		return answer{}, r
	}
	if c.RequestState == "" {
		ans.shown = before
	}
	return ans, nil
}

// elicit asks through MCP elicitation (protocol 2025 revisions). asked is
// false when the client could not be asked at all.
func (a *approver) elicit(ctx context.Context, c *gateway.Call, q question) (answer, *gateway.Refusal, bool) {
	res, err := c.Session.Elicit(ctx, q.elicitParams())
	if err != nil {
		// The go-sdk checks the answer against the form and says so in
		// words only; an answer that is not a signature is a refusal, not
		// a reason to ask the tray.
		if msg := err.Error(); strings.Contains(msg, "does not match requested schema") {
			if q.needsReason && strings.Contains(msg, `"`+fieldReason+`"`) {
				return answer{}, a.noReason(c, q), true
			}
			return answer{}, a.invalid(c, q, "the answer given in "+q.client+" was not a signature ("+msg+")"), true
		}
		return answer{}, nil, false
	}
	ans, r := a.fromForm(c, q, res, audit.MethodElicitation)
	return ans, r, true
}

// inputRequired answers a 2026-07-28 client's call with the question;
// its retry carries the answer and the request state named here.
func (a *approver) inputRequired(ctx context.Context, c *gateway.Call, q question, before *audit.Value) error {
	trail, err := a.h.trailOf(ctx, c.Session, c.Client)
	if err != nil {
		return &gateway.Refusal{Rule: RuleAudit, Sentence: fmt.Sprintf("The write %s on %s was not made: its audit trail could not be opened (%v).", c.Tool, q.target, err)}
	}
	st := inputState{id: newInputStateID(), trail: trail, call: audit.CallDigest(c.Tool, c.Args), before: before, expires: a.now().Add(inputStateTTL)}
	a.inputs.put(st, a.now())
	res := &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{inputSignature: q.elicitParams()},
		RequestState:  st.id,
	}
	return &gateway.InputRequired{Result: res}
}

// fromRetry takes the answer a 2026-07-28 client sends back with the
// request state of inputRequired.
func (a *approver) fromRetry(ctx context.Context, c *gateway.Call, q question) (answer, *gateway.Refusal) {
	st, ok := a.inputs.take(c.RequestState, a.now())
	if !ok {
		return answer{}, a.invalid(c, q, "its approval request is unknown, already answered or older than "+inputStateTTL.String()+"; call the tool again to be asked anew")
	}
	trail, err := a.h.trailOf(ctx, c.Session, c.Client)
	if err != nil || trail != st.trail || st.call != audit.CallDigest(c.Tool, c.Args) {
		return answer{}, a.invalid(c, q, "the answer was given for another call or session")
	}
	res, _ := c.InputResponses[inputSignature].(*mcp.ElicitResult)
	if res == nil {
		return answer{}, a.invalid(c, q, "the retry carried no answer to the signature request")
	}
	ans, r := a.fromForm(c, q, res, audit.MethodInputRequired)
	ans.shown = st.before
	return ans, r
}

// fromForm reads a signature out of an answered form.
func (a *approver) fromForm(c *gateway.Call, q question, res *mcp.ElicitResult, method string) (answer, *gateway.Refusal) {
	if res.Action != "accept" {
		return answer{}, &gateway.Refusal{Rule: RuleWriteDeclined, Sentence: fmt.Sprintf("The write %s on %s was not made: the person did not approve it (%s in %s).", c.Tool, q.target, res.Action, q.client)}
	}
	meaning, _ := res.Content[fieldMeaning].(string)
	reason, _ := res.Content[fieldReason].(string)
	ans := answer{meaning: meaning, reason: strings.TrimSpace(reason), method: method, at: a.now()}
	return ans, a.check(c, q, ans)
}

// tray asks in the person's tray, through the workstation service.
func (a *approver) tray(ctx context.Context, c *gateway.Call, q question) (answer, *gateway.Refusal) {
	ctx, cancel := context.WithTimeout(ctx, confirm.Timeout)
	defer cancel()
	req := confirm.Request{Tool: c.Tool, Target: q.target, Change: q.change, Destructive: q.tool.Destructive, Time: a.now().UTC(),
		Current: q.current, Meanings: q.meanings, ReasonRequired: q.needsReason}
	if c.Client != nil {
		req.ClientName, req.ClientVersion = c.Client.Name, c.Client.Version
	}
	ask := a.ask
	if ask == nil {
		ask = func(ctx context.Context, req confirm.Request) (confirm.Answer, error) {
			return confirm.Ask(ctx, confirm.Dir(a.h.cfg.StateDir), req)
		}
	}
	ans, err := ask(ctx, req)
	switch {
	case err == nil && ans.Approved:
		out := answer{meaning: ans.Meaning, reason: strings.TrimSpace(ans.Reason), method: audit.MethodTray,
			verified: ans.Verified, name: ans.Name, account: ans.By, at: ans.At}
		if ans.Verified {
			out.method = audit.MethodTrayPassword
		}
		if len(q.meanings) > 0 && out.meaning == "" {
			out.meaning = q.meanings[0]
		}
		return out, a.check(c, q, out)
	case err == nil:
		return answer{}, &gateway.Refusal{Rule: RuleWriteDeclined, Sentence: fmt.Sprintf("The write %s on %s was not made: %s denied it in the Scispot MCP tray.", c.Tool, q.target, orSomeone(ans.By))}
	case errors.Is(err, confirm.ErrNoAnswer) || ans.TimedOut:
		if r, ok := context.Cause(ctx).(*gateway.Refusal); ok {
			return answer{}, r // the kill switch ended the wait
		}
		return answer{}, &gateway.Refusal{Rule: RuleWriteUnconfirmed, Sentence: fmt.Sprintf("The write %s on %s was not made: writes need the person's signature, %s cannot ask for it, and nobody signed it in the Scispot MCP tray within %d s; open the tray (run scispot-mcp) and try again.", c.Tool, q.target, q.client, int(confirm.Timeout.Seconds()))}
	default:
		return answer{}, &gateway.Refusal{Rule: RuleWriteUnconfirmed, Sentence: fmt.Sprintf("The write %s on %s was not made: the signature could not be asked for (%v).", c.Tool, q.target, err)}
	}
}

// check refuses an answer that is not a complete signature.
func (a *approver) check(c *gateway.Call, q question, ans answer) *gateway.Refusal {
	known := false
	for _, m := range q.meanings {
		known = known || m == ans.meaning
	}
	if !known {
		return a.invalid(c, q, fmt.Sprintf("the signature's meaning %q is not one of %s", ans.meaning, strings.Join(q.meanings, ", ")))
	}
	if q.needsReason && ans.reason == "" {
		return a.noReason(c, q)
	}
	return nil
}

func (a *approver) noReason(c *gateway.Call, q question) *gateway.Refusal {
	return &gateway.Refusal{Rule: RuleReasonRequired, Sentence: fmt.Sprintf("The write %s on %s was not made: the signature carried no reason for the change, which the admin policy requires (RequireReasonForChange); sign it again with the reason.", c.Tool, q.target)}
}

func (a *approver) invalid(c *gateway.Call, q question, why string) *gateway.Refusal {
	return &gateway.Refusal{Rule: RuleSignatureInvalid, Sentence: fmt.Sprintf("The write %s on %s was not made: %s.", c.Tool, q.target, why)}
}

// sign writes the signature record before anything reaches Scispot and
// links it from the call's record.
func (a *approver) sign(ctx context.Context, c *gateway.Call, q question, ans answer) *gateway.Refusal {
	account := a.h.Facts().User.Name
	if ans.account != "" {
		account = ans.account
	}
	name := ans.name
	if name == "" {
		name = account
		if a.fullName != nil {
			if n, err := a.fullName(account); err == nil && n != "" {
				name = n
			}
		}
	}
	if ans.at.IsZero() {
		ans.at = a.now()
	}
	sig := audit.Signature{
		ID: audit.NewSignatureID(), Name: name, Account: account, Time: ans.at.UTC(), Meaning: ans.meaning,
		Approves: policy.MeaningAuthorises(ans.meaning), Reason: ans.reason, Method: ans.method,
		Verified: ans.verified && ans.method == audit.MethodTrayPassword, Target: q.target, Call: audit.CallDigest(c.Tool, c.Args),
	}
	rec, err := a.h.appendRecord(ctx, c.Session, c.Client, audit.Record{Event: audit.EventSignature, Tool: c.Tool, Args: c.Args, Signature: &sig})
	if err != nil {
		return &gateway.Refusal{Rule: RuleAudit, Sentence: fmt.Sprintf("The write %s on %s was not made: its signature could not be written to the audit trail (%v).", c.Tool, q.target, err)}
	}
	c.Signature = &audit.Signature{ID: sig.ID, Call: sig.Call, Record: rec.Hash}
	// A flag too, so lists of calls (audit tail, the activity window) show it.
	c.Flags = append(c.Flags, "signed:"+sig.Meaning+":"+sig.Method)
	return nil
}

func orSomeone(by string) string {
	if by == "" {
		return "someone"
	}
	return by
}
