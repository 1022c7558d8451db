package session

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
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
// nothing), result size and prompt-injection handling. Writes are signed
// by the person in a link of their own (approve.go). The current policy
// comes with every call, so a policy change applies to the next call.
type Guards struct {
	state  string
	budget *guard.HourlyBudget
	rate   *guard.RateLimiter
	now    func() time.Time
	user   func() string
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

// Before refuses a call over the account's rate, and a call when this
// hour's result budget is spent.
func (g *Guards) Before(ctx context.Context, c gateway.CallInfo) ([]string, *gateway.Refusal) {
	g.rate.SetLimit(c.Policy.MaxCallsPerMinute)
	if err := g.rate.Take(g.now()); err != nil {
		return nil, refusal(err)
	}
	g.budget.SetLimit(c.Policy.MaxBytesPerHour)
	if _, err := g.budget.Check(ctx); err != nil {
		return nil, refusal(err)
	}
	return nil, nil
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
