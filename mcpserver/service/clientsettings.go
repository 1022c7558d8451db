package service

import (
	"context"
	"slices"
	"time"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// keepClientSettings keeps the AI clients' managed settings in line with
// the policy's BlockDirectConnections: at start, after every policy
// change, and every ClientSettingsEvery, so that an entry someone took
// out comes back. An invalid policy changes nothing: what was in place
// stays (failing closed).
func (s *Service) keepClientSettings(ctx context.Context) {
	every := s.cfg.ClientSettingsEvery
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if snap := policy.Load(ctx, s.cfg.Policy...); snap.Err == nil {
			states := s.cfg.ClientSettings.Keep(ctx, snap.Policy)
			for _, st := range states {
				if st.Error != "" {
					s.log.Warn("the AI client's managed settings could not be kept", "client", st.Client, "file", st.File, "err", st.Error)
				}
			}
			s.mu.Lock()
			changed := !slices.Equal(s.clientSettings, states)
			s.clientSettings = states
			if changed {
				for _, u := range s.users {
					u.hub.publish(localapi.Event{Kind: localapi.EventStatus})
				}
			}
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.clientSettingsPoke:
		}
	}
}

// clientSettingsStatus is where each client's managed settings stand, for
// status.
func (s *Service) clientSettingsStatus() []localapi.ClientSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []localapi.ClientSettings{}
	for _, st := range s.clientSettings {
		out = append(out, localapi.ClientSettings{Client: st.Client, Name: st.Name, File: st.File, Blocked: st.Blocked, Error: st.Error})
	}
	return out
}
