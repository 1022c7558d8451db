package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
)

// UsageFileName is the hourly result budget's shared record in the state
// folder: per OS account (the folder is per user) and device.
const UsageFileName = "usage.json"

// Guards are the policy guards of design.md on the gateway's one
// forwarding path: calls per minute and bytes per hour for one OS account
// on this device, across every session it runs (the workstation service
// shares one Guards among an account's sessions, so reconnecting resets
// nothing), result size, prompt-injection handling and confirmed writes.
// The current policy comes with every call, so a policy change applies to
// the next call.
type Guards struct {
	state  string
	budget *guard.HourlyBudget
	rate   *guard.RateLimiter
	now    func() time.Time
	user   func() string
	// Ask puts a write to the person when the AI client cannot ask them
	// itself; nil asks the tray through the state folder (confirm.Ask).
	Ask func(ctx context.Context, req confirm.Request) (confirm.Answer, error)
}

var _ gateway.Guards = (*Guards)(nil)

// NewGuards opens the shared hourly budget in the state folder.
func NewGuards(state string, user func() string) (*Guards, error) {
	b, err := guard.OpenHourlyBudget(filepath.Join(state, UsageFileName), 1, nil)
	if err != nil {
		return nil, fmt.Errorf("opening the hourly result budget: %w", err)
	}
	if user == nil {
		user = func() string { return "" }
	}
	return &Guards{state: state, budget: b, rate: guard.NewRateLimiter(60), now: time.Now, user: user}, nil
}

func refusal(err error) *gateway.Refusal {
	var r *guard.Refusal
	if errors.As(err, &r) {
		return &gateway.Refusal{Rule: r.Rule, Sentence: r.Sentence}
	}
	return &gateway.Refusal{Rule: "guard", Sentence: err.Error()}
}

// Before refuses a call over the account's rate, a call when this hour's
// result budget is spent, and a write the person did not confirm. What
// counts as a write, and as destructive, is the gateway's verdict on the
// tool (gateway.Classify), not its name.
func (g *Guards) Before(ctx context.Context, c gateway.CallInfo) ([]string, *gateway.Refusal) {
	g.rate.SetLimit(c.Policy.MaxCallsPerMinute)
	if err := g.rate.Take(g.now()); err != nil {
		return nil, refusal(err)
	}
	g.budget.SetLimit(c.Policy.MaxBytesPerHour)
	if _, err := g.budget.Check(ctx); err != nil {
		return nil, refusal(err)
	}
	if !c.Class.Write || !c.Policy.ConfirmWrites {
		return nil, nil
	}
	return g.confirmWrite(ctx, c, catalog.Tool{Name: c.Tool, Kind: catalog.Write, Destructive: c.Class.Destructive})
}

// After passes every result through the result guards in their one order
// (guard.ResultCheck): size, secrets, prompt injection, then the hourly
// budget charged with what reaches the client.
func (g *Guards) After(ctx context.Context, c gateway.CallInfo, res *mcp.CallToolResult, size int) (*mcp.CallToolResult, []string, *gateway.Refusal) {
	g.budget.SetLimit(c.Policy.MaxBytesPerHour)
	check := guard.ResultCheck{
		MaxResultBytes:  c.Policy.MaxResultBytes,
		InjectionAction: c.Policy.InjectionAction,
		Secrets:         c.Secrets,
		Budget:          g.budget,
	}
	p, err := check.Check(ctx, res, int64(size))
	var flags []string
	if p.InjectionSuspect {
		flags = append(flags, audit.FlagInjectionSuspect)
	}
	if p.SecretsRemoved {
		flags = append(flags, audit.FlagSecretRedacted)
	}
	if err != nil {
		return nil, flags, refusal(err)
	}
	return p.Result, flags, nil
}

// confirmWrite asks the person before a write runs: through the AI client
// (MCP elicitation) when it can ask, otherwise through the tray.
func (g *Guards) confirmWrite(ctx context.Context, c gateway.CallInfo, t catalog.Tool) ([]string, *gateway.Refusal) {
	target, change := describeWrite(c.Args)
	client := "The AI client"
	if c.Client != nil && c.Client.Name != "" {
		client = c.Client.Name
	}
	kind := "write"
	if t.Destructive {
		kind = "DESTRUCTIVE write (it overwrites existing values)"
	}
	if c.CanElicit && c.Session != nil {
		msg := fmt.Sprintf("%s wants to make a %s in Scispot: %s on %s. %s Approve it?", client, kind, c.Tool, target, change)
		res, err := c.Session.Elicit(ctx, &mcp.ElicitParams{
			Message: msg,
			RequestedSchema: map[string]any{
				"type": "object",
				"properties": map[string]any{
					"approve": map[string]any{"type": "boolean", "title": "Approve this write", "description": msg},
				},
				"required": []string{"approve"},
			},
		})
		if err == nil {
			if res.Action == "accept" && res.Content["approve"] == true {
				return []string{"write-confirmed:client"}, nil
			}
			return nil, &gateway.Refusal{Rule: "write-declined", Sentence: fmt.Sprintf("The write %s on %s was not made: the person did not approve it.", c.Tool, target)}
		}
		// The client declared elicitation but could not ask: use the tray.
	}
	ctx, cancel := context.WithTimeout(ctx, confirm.Timeout)
	defer cancel()
	req := confirm.Request{Tool: c.Tool, Target: target, Change: change, Destructive: t.Destructive, Time: g.now().UTC()}
	if c.Client != nil {
		req.ClientName, req.ClientVersion = c.Client.Name, c.Client.Version
	}
	ask := g.Ask
	if ask == nil {
		ask = func(ctx context.Context, req confirm.Request) (confirm.Answer, error) {
			return confirm.Ask(ctx, confirm.Dir(g.state), req)
		}
	}
	ans, err := ask(ctx, req)
	switch {
	case err == nil && ans.Approved:
		return []string{"write-confirmed:tray:" + ans.By}, nil
	case err == nil:
		return nil, &gateway.Refusal{Rule: "write-declined", Sentence: fmt.Sprintf("The write %s on %s was not made: %s denied it in the Scispot MCP tray.", c.Tool, target, orSomeone(ans.By))}
	case errors.Is(err, confirm.ErrNoAnswer) || ans.TimedOut:
		return nil, &gateway.Refusal{Rule: "write-unconfirmed", Sentence: fmt.Sprintf("The write %s on %s was not made: writes need the person's confirmation, %s cannot ask for it, and nobody approved it in the Scispot MCP tray within %d s; open the tray (run scispot-mcp) and try again.", c.Tool, target, client, int(confirm.Timeout.Seconds()))}
	default:
		return nil, &gateway.Refusal{Rule: "write-unconfirmed", Sentence: fmt.Sprintf("The write %s on %s was not made: the confirmation could not be asked (%v).", c.Tool, target, err)}
	}
}

func orSomeone(by string) string {
	if by == "" {
		return "someone"
	}
	return by
}

// describeWrite names what a write touches and summarises the change from
// its arguments, for the person who must approve it.
func describeWrite(raw json.RawMessage) (target, change string) {
	var args map[string]any
	if json.Unmarshal(raw, &args) != nil || len(args) == 0 {
		return "(no arguments)", ""
	}
	var targets, parts []string
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := args[k]
		switch x := v.(type) {
		case string:
			if strings.Contains(k, "labsheet") || strings.Contains(k, "experiment") || strings.Contains(k, "protocol") ||
				strings.Contains(k, "documentation") || strings.HasSuffix(k, "id") || k == "hrid" || k == "location" || k == "name" || k == "title" {
				targets = append(targets, fmt.Sprintf("%s %q", k, clip(x, 60)))
			} else {
				parts = append(parts, fmt.Sprintf("%s: %q", k, clip(x, 80)))
			}
		case []any:
			parts = append(parts, fmt.Sprintf("%s: %d item(s)", k, len(x)))
		default:
			b, _ := json.Marshal(x)
			parts = append(parts, fmt.Sprintf("%s: %s", k, clip(string(b), 80)))
		}
	}
	target = strings.Join(targets, ", ")
	if target == "" {
		target = "the workspace"
	}
	if len(parts) > 0 {
		change = "Change — " + strings.Join(parts, "; ") + "."
	}
	return target, change
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
