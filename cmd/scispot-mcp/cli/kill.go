package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

func runKill(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "kill", "kill [--reason TEXT]")
	reason := fs.String("reason", "", "why access is stopped; shown to AI clients and recorded in the audit trail")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q (quote a reason: --reason \"…\")", pos[0])
	}
	return setKill(ctx, env, true, strings.TrimSpace(*reason))
}

func runResume(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "resume", "resume")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return setKill(ctx, env, false, "")
}

// setKill flips the user's kill switch from the CLI and says what
// happens next.
func setKill(ctx context.Context, env Env, kill bool, reason string) error {
	if err := switchKill(ctx, env, kill, reason, control.SourceCLI); err != nil {
		return err
	}
	if kill {
		fmt.Fprintln(env.Stdout, "AI access to Scispot is stopped on this workstation; running sessions are ending now. Run `scispot-mcp resume` to allow it again.")
	} else {
		fmt.Fprintln(env.Stdout, "AI access to Scispot is allowed again on this workstation; AI clients reconnect on their next conversation.")
	}
	return nil
}

// cliSessionInfo attributes the CLI's own one-record audit sessions.
func (env Env) cliSessionInfo() audit.SessionInfo {
	info := audit.SessionInfo{Device: env.deviceID(), Transport: audit.TransportCLI, Client: audit.Client{Name: cliClientName, Version: env.Build.Version}}
	if a, err := env.User(); err == nil {
		info.User = a.Name
	}
	return info
}

// recordOnce writes a one-record audit session for a CLI action.
func recordOnce(ctx context.Context, env Env, state string, r audit.Record) error {
	return apitoken.Record(ctx, state, env.cliSessionInfo(), r)
}
