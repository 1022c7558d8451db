package guard

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// ResultCheck is what the result guards need for one call: the policy's
// limits, the secrets to keep out, and the account's hourly budget.
type ResultCheck struct {
	// MaxResultBytes is the policy's limit for one result.
	MaxResultBytes int64
	// InjectionAction is the policy's flag, redact or block.
	InjectionAction string
	// Secrets are removed wherever text can reach the model.
	Secrets redact.Redactor
	// Budget is charged with what reaches the client; its limit is the
	// caller's to set. Nil charges nothing.
	Budget *HourlyBudget
}

// Passed is a result that passed every guard.
type Passed struct {
	// Result is what goes to the client.
	Result *mcp.CallToolResult
	// Size is the size of Result, what Budget was charged.
	Size int64
	// InjectionSuspect: instruction-like text was found (the audit
	// record's injection-suspect flag).
	InjectionSuspect bool
	// SecretsRemoved: a secret or token-shaped word was redacted.
	SecretsRemoved bool
}

// Check passes one tool result through every result guard. It is the one
// place their order is defined, and every result takes it — ok or error,
// Scispot's or the gateway's own sentence, any content type, structured
// content and metadata:
//
//  1. size: a result larger than MaxResultBytes (size, as received) is
//     refused before any work is spent on it;
//  2. secrets: the token, the local secret and token-shaped words are
//     redacted everywhere (RedactSecrets);
//  3. prompt injection everywhere (ApplyInjection): flag, redact, or
//     refuse with RuleInjectionBlock;
//  4. budget: charged with the size of what reaches the client, after the
//     notice or redactions; a result that does not fit is refused and not
//     charged. Refused results are never charged.
//
// A refusal is a *Refusal (its Rule names the guard); Passed then still
// says what was found, for the audit record. Any other error also means:
// refuse (fail closed). res is never modified.
func (rc ResultCheck) Check(ctx context.Context, res *mcp.CallToolResult, size int64) (Passed, error) {
	if err := CheckResultSize(size, rc.MaxResultBytes); err != nil {
		return Passed{}, err
	}
	out, removed, err := RedactSecrets(res, rc.Secrets)
	if err != nil {
		return Passed{}, err
	}
	cleaned, ins, err := applyInjection(out, rc.InjectionAction)
	if err != nil {
		return Passed{}, err
	}
	p := Passed{Result: cleaned, Size: size, InjectionSuspect: ins.found, SecretsRemoved: removed}
	if ins.found && rc.InjectionAction == ActionBlock {
		return p, &Refusal{Rule: RuleInjectionBlock, Sentence: blockSentence(ins.records), err: ErrInjectionBlocked}
	}
	if removed || ins.found {
		if p.Size, err = ResultSize(cleaned); err != nil {
			return Passed{}, err
		}
	}
	if rc.Budget != nil {
		if err := rc.Budget.Add(ctx, p.Size); err != nil {
			return p, err
		}
	}
	return p, nil
}
