package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func runKill(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "kill", "kill [--reason TEXT]")
	reason := fs.String("reason", "", "why access is stopped; shown to AI clients and recorded in the audit trail")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q (quote a reason: --reason \"…\")", pos[0])
	}
	c, err := env.service(ctx, false)
	if err != nil {
		return err
	}
	if err := c.Kill(ctx, localapi.KillRequest{Reason: strings.TrimSpace(*reason), Source: control.SourceCLI}); err != nil {
		return apiError(err)
	}
	fmt.Fprintln(env.Stdout, "AI access to Scispot is stopped on this workstation; running sessions are ending now. Run `scispot-mcp resume` to allow it again.")
	return nil
}

func runResume(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "resume", "resume")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := env.service(ctx, false)
	if err != nil {
		return err
	}
	st, err := c.Status(ctx, localapi.StatusRequest{})
	if err != nil {
		return apiError(err)
	}
	password := ""
	if st.Service.Mode == localapi.ModeSystem {
		// The service checks the password itself: lifting the kill switch
		// needs the person, not a process running as them.
		if password, err = readPassword(env, st.User.Name); err != nil {
			return err
		}
	}
	if err := c.Resume(ctx, localapi.KillRequest{Source: control.SourceCLI, Password: password}); err != nil {
		return apiError(err)
	}
	fmt.Fprintln(env.Stdout, "AI access to Scispot is allowed again on this workstation; AI clients reconnect on their next conversation.")
	return nil
}

// readPassword asks for the account password without echo on a terminal,
// or reads one line from stdin.
func readPassword(env Env, account string) (string, error) {
	if env.StdinIsTerminal != nil && env.StdinIsTerminal() {
		fmt.Fprintf(env.Stderr, "Password of %s (checked by the Scispot MCP service): ", account)
		p, err := env.ReadSecret()
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return p, nil
	}
	b, err := io.ReadAll(io.LimitReader(env.Stdin, 4096))
	if err != nil {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
