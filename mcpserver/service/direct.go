package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// defaultDirectEvery is how often the service looks through the client
// configs of the accounts it knows for direct Scispot connections.
const defaultDirectEvery = time.Minute

// directSeenFile, in an account's service folder, holds digests of the
// direct connections already recorded, so that each is recorded once
// while it stays (and again if it comes back after being removed).
const directSeenFile = "direct-seen.json"

// maxConfigBytes bounds a client config the service reads for a person.
const maxConfigBytes = 64 << 20

// watchDirect runs the periodic check until ctx ends. Only the system
// service does it: it reads every account's files, the demo instance
// only its own, where "scispot-mcp status" already looks.
func (s *Service) watchDirect(ctx context.Context) {
	every := s.cfg.DirectEvery
	if every <= 0 {
		every = defaultDirectEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.checkDirect(ctx)
		}
	}
}

// checkDirect looks through the client configs of every account that has
// a folder in the service's state (every account that ever used it) and
// records each new direct connection as bypass.found.
func (s *Service) checkDirect(ctx context.Context) {
	var hosts []string
	if snap := policy.Load(ctx, s.cfg.Policy...); snap.Err == nil {
		hosts = clients.HostsOf(snap.Policy.UpstreamURL)
	}
	entries, err := os.ReadDir(filepath.Join(s.cfg.StateDir, "users"))
	if err != nil {
		return
	}
	for _, e := range entries {
		who, ok := folderAccount(e.Name())
		if !e.IsDir() || !ok {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if err := s.checkAccount(ctx, who, filepath.Join(s.cfg.StateDir, "users", e.Name()), hosts); err != nil {
			s.log.Warn("checking an account's AI client configs for direct Scispot connections", "account", who, "err", err)
		}
	}
}

func (s *Service) checkAccount(ctx context.Context, who stateAccount, dir string, hosts []string) error {
	// The home comes from the account database (the registry's profile
	// list on Windows), never from the person's environment, which an
	// agent could point at an empty folder.
	home, name, err := accountHome(who)
	if err != nil {
		return err
	}
	env := clients.Env{GOOS: runtime.GOOS, Home: home}
	found, scanErr := clients.FindDirect(ctx, env, clients.DirectOptions{Hosts: hosts, Read: ownedReader(who)})
	if scanErr != nil {
		s.log.Debug("some client configs were not checked", "account", who, "err", scanErr)
	}
	return s.recordDirect(ctx, dir, name, found)
}

// recordDirect writes bypass.found for each finding not recorded before
// and remembers the current set.
func (s *Service) recordDirect(ctx context.Context, dir, account string, found []clients.Direct) error {
	seenPath := filepath.Join(dir, directSeenFile)
	var seen []string
	if b, err := os.ReadFile(seenPath); err == nil {
		if json.Unmarshal(b, &seen) != nil {
			seen = nil // damaged: record again rather than never
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", seenPath, err)
	}
	now := make([]string, 0, len(found))
	var errs []error
	for _, d := range found {
		sum := sha256.Sum256([]byte(d.Key()))
		key := hex.EncodeToString(sum[:])
		now = append(now, key)
		if slices.Contains(seen, key) {
			continue
		}
		args, _ := json.Marshal(d)
		info := audit.SessionInfo{User: account, Device: s.cfg.DeviceID, Transport: audit.TransportCLI,
			Client: audit.Client{Name: d.Client}}
		rec := audit.Record{Event: audit.EventBypassFound, Reason: d.String(), Args: args}
		if err := apitoken.Record(ctx, dir, info, rec); err != nil {
			errs = append(errs, err)
			now = now[:len(now)-1] // try again next time
		}
	}
	slices.Sort(now)
	slices.Sort(seen)
	if !slices.Equal(now, seen) {
		b, _ := json.Marshal(now)
		if err := writeAtomic(seenPath, b); err != nil {
			errs = append(errs, fmt.Errorf("remembering the recorded direct connections: %w", err))
		}
	}
	return errors.Join(errs...)
}

func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".direct-seen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
