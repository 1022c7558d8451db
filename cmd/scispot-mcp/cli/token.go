package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

const tokenUsage = "token set [--no-verify] | token status | token remove"

func runToken(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usagef("say what to do: set, status or remove")
	}
	switch args[0] {
	case "set":
		return runTokenSet(ctx, env, args[1:])
	case "status":
		return runTokenStatus(ctx, env, args[1:])
	case "remove":
		return runTokenRemove(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(env.Stderr, "usage: scispot-mcp %s\n", tokenUsage)
		fmt.Fprintln(env.Stderr, "  set     read a personal Scispot API token from stdin (no echo on a terminal), check it with Scispot, store it in the OS keychain")
		fmt.Fprintln(env.Stderr, "  status  say whether a token is stored, with its fingerprint (never the token)")
		fmt.Fprintln(env.Stderr, "  remove  delete the token from the keychain")
		return nil
	}
	return usagef("unknown token command %q", args[0])
}

// maxTokenInput bounds what `token set` reads, so a mistaken pipe of a big
// file is rejected rather than read into memory.
const maxTokenInput = 8 << 10

func runTokenSet(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token set", "token set [--no-verify]")
	noVerify := fs.Bool("no-verify", false, "store the token without asking Scispot whether it works")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("the token is read from stdin, never from the command line")
	}
	var raw string
	if env.StdinIsTerminal != nil && env.StdinIsTerminal() {
		fmt.Fprint(env.Stderr, "Paste your personal Scispot API token (input is hidden) and press Enter: ")
		s, err := env.ReadSecret()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return fmt.Errorf("reading the token: %w", err)
		}
		raw = s
	} else {
		b, err := io.ReadAll(io.LimitReader(env.Stdin, maxTokenInput+1))
		if err != nil {
			return fmt.Errorf("reading the token from stdin: %w", err)
		}
		if len(b) > maxTokenInput {
			return fmt.Errorf("the input on stdin is far longer than any Scispot token; nothing was stored")
		}
		raw = string(b)
	}
	token, err := keychain.CleanToken(raw)
	if err != nil {
		return fmt.Errorf("%w; nothing was stored", err)
	}
	c, err := env.service(ctx, false)
	if err != nil {
		return err
	}
	info, err := c.SealToken(ctx, localapi.SealRequest{Token: token, Verify: !*noVerify})
	if err != nil {
		var e *localapi.Error
		if errors.As(err, &e) && e.Rule == localapi.RuleTokenRejected {
			return fmt.Errorf("the token was not stored: %s (use --no-verify to store it anyway)", e.Sentence)
		}
		return fmt.Errorf("the token was not stored: %w", apiError(err))
	}
	if info.Verified {
		fmt.Fprintf(env.Stdout, "Scispot accepted the token (answered in %s).\n", info.Latency.Round(time.Millisecond))
	}
	if err := env.Keychain.Set(ctx, keychain.AccountToken, info.Sealed); err != nil {
		return fmt.Errorf("storing the sealed token in the keychain: %w", err)
	}
	if state, err := env.stateDir(); err == nil {
		apitoken.WriteInfo(state, apitoken.Info{Fingerprint: info.Fingerprint, SetAt: time.Now().UTC()})
	}
	fmt.Fprintf(env.Stdout, "Token stored in the OS keychain, sealed to this workstation's Scispot MCP service (fingerprint %s).\n", info.Fingerprint)
	return nil
}

func runTokenStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token status", "token status")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	stored, err := env.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		fmt.Fprintln(env.Stdout, "No Scispot API token is stored on this workstation; run `scispot-mcp token set`.")
		return nil
	case err != nil:
		return fmt.Errorf("reading the keychain: %w", err)
	}
	c, err := env.service(ctx, false)
	if err != nil {
		return err
	}
	info, err := c.TokenStatus(ctx, stored)
	if err != nil {
		return apiError(err)
	}
	resealed(ctx, env, info.Sealed)
	fmt.Fprintf(env.Stdout, "A Scispot API token is stored in the OS keychain, sealed to this workstation's service (fingerprint %s).\n", info.Fingerprint)
	return nil
}

func runTokenRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token remove", "token remove")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	stored, err := env.Keychain.Get(ctx, keychain.AccountToken)
	if errors.Is(err, keychain.ErrNotFound) {
		fmt.Fprintln(env.Stdout, "No Scispot API token was stored; nothing to remove.")
		return nil
	}
	if err := env.Keychain.Delete(ctx, keychain.AccountToken); err != nil {
		return fmt.Errorf("removing the token from the keychain: %w", err)
	}
	if state, err := env.stateDir(); err == nil {
		apitoken.RemoveInfo(state)
	}
	fmt.Fprintln(env.Stdout, "The Scispot API token was removed from the OS keychain.")
	if c, err := env.service(ctx, false); err == nil {
		if err := c.TokenRemoved(ctx, stored); err != nil {
			return fmt.Errorf("the token is removed, but the audit trail did not record it: %w", apiError(err))
		}
	}
	return nil
}
