package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/stdio"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "serve", "serve [--demo]")
	useDemo := fs.Bool("demo", false, "serve the built-in demo workspace instead of Scispot")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	s, err := startSession(ctx, env, *useDemo, audit.TransportStdio)
	if err != nil {
		return err
	}
	if r := s.Gateway().State().Refusal; r != nil {
		// Clients show a server's stderr in their logs: say it there too.
		fmt.Fprintf(env.Stderr, "scispot-mcp serve: access blocked: %s\n", r.Sentence)
	}
	if err := s.Serve(ctx, &stdio.Transport{In: env.Stdin, Out: env.Stdout}); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serving MCP on stdio: %w", err)
	}
	return nil
}
