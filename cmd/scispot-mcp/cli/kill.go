package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/statedir"
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

// setKill flips the user's kill switch and records who did it. Every
// running serve watches control.json and ends within milliseconds.
func setKill(ctx context.Context, env Env, kill bool, reason string) error {
	state, err := env.stateDir()
	if err != nil {
		return err
	}
	user := ""
	if a, err := env.User(); err == nil {
		user = a.Name
	}
	now := time.Now().UTC()
	err = control.Update(statedir.ControlFile(state), func(s *control.State) error {
		if kill {
			s.Kill(reason, user, control.SourceCLI, now)
		} else {
			s.Resume(user, control.SourceCLI, now)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the kill switch: %w", err)
	}
	ev := audit.EventResume
	if kill {
		ev = audit.EventKill
	}
	if err := recordOnce(ctx, env, state, audit.Record{Event: ev, Outcome: audit.OutcomeOK, Reason: reason}); err != nil {
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
