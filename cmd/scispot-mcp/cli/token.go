package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
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
	if !*noVerify {
		n, err := verifyToken(ctx, env, token)
		if err != nil {
			return fmt.Errorf("the token was not stored: %w", err)
		}
		fmt.Fprintf(env.Stdout, "Scispot accepted the token (%d tools published).\n", n)
	}
	ch, err := tokenChanger(env)
	if err != nil {
		return err
	}
	info, err := ch.Set(ctx, token)
	if info.Fingerprint == "" {
		return err
	}
	fmt.Fprintf(env.Stdout, "Token stored in the OS keychain (fingerprint %s).\n", info.Fingerprint)
	return err
}

// tokenChanger is the token logic the tray's token window uses too.
func tokenChanger(env Env) (apitoken.Changer, error) {
	state, err := env.stateDir()
	if err != nil {
		return apitoken.Changer{}, err
	}
	return apitoken.Changer{Keychain: env.Keychain, StateDir: state, Session: env.cliSessionInfo()}, nil
}

// verifyToken lists the upstream's tools with the token, which proves
// Scispot accepts it without touching any lab data.
func verifyToken(ctx context.Context, env Env, token string) (int, error) {
	snap := policy.Load(ctx, env.PolicyStores...)
	if snap.Err != nil {
		return 0, fmt.Errorf("the admin policy is invalid, so Scispot's address is unknown: %w (use --no-verify to store it anyway)", snap.Err)
	}
	v, err := apitoken.Verify(ctx, snap.Policy.UpstreamURL, token, &upstream.Options{Logger: env.Logger, Timeout: 20 * time.Second})
	if err != nil {
		return 0, fmt.Errorf("checking it with Scispot at %s: %w", snap.Policy.UpstreamURL, err)
	}
	return v.Tools, nil
}

func runTokenStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token status", "token status")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	token, err := env.Keychain.Get(ctx, keychain.AccountToken)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		fmt.Fprintln(env.Stdout, "No Scispot API token is stored on this workstation; run `scispot-mcp token set`.")
		return nil
	case err != nil:
		return fmt.Errorf("reading the keychain: %w", err)
	}
	fmt.Fprintf(env.Stdout, "A Scispot API token is stored in the OS keychain (fingerprint %s).\n", keychain.Fingerprint(token))
	return nil
}

func runTokenRemove(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "token remove", "token remove")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	ch, err := tokenChanger(env)
	if err != nil {
		return err
	}
	_, err = ch.Remove(ctx)
	switch {
	case errors.Is(err, keychain.ErrNotFound):
		fmt.Fprintln(env.Stdout, "No Scispot API token was stored; nothing to remove.")
		return nil
	case errors.Is(err, apitoken.ErrNotRecorded):
		fmt.Fprintln(env.Stdout, "The Scispot API token was removed from the OS keychain.")
		return err
	case err != nil:
		return err
	}
	fmt.Fprintln(env.Stdout, "The Scispot API token was removed from the OS keychain.")
	return nil
}
