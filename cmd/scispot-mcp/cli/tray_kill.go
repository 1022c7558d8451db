package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

// trayClientName attributes the tray's own audit records.
const trayClientName = "scispot-mcp-tray"

// switchKill flips the user's kill switch and records who did it and from
// where (control.SourceCLI or control.SourceTray). Every running serve
// watches control.json and ends within milliseconds.
func switchKill(ctx context.Context, env Env, kill bool, reason, source string) error {
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
			s.Kill(reason, user, source, now)
		} else {
			s.Resume(user, source, now)
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
	client := cliClientName
	if source == control.SourceTray {
		client = trayClientName
	}
	info := env.cliSessionInfo()
	info.Client.Name = client
	return apitoken.Record(ctx, state, info, audit.Record{Event: ev, Outcome: audit.OutcomeOK, Reason: reason})
}
