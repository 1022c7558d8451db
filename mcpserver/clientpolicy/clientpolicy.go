// Package clientpolicy keeps the AI clients' own machine-level managed
// settings denying direct connections to Scispot, so that a Scispot entry a
// person (or an AI agent with a shell) adds to a client, bypassing the
// gateway, is refused by the client itself.
//
// Claude Code and GitHub Copilot read an admin's managed-settings.json from
// a system folder the user cannot write (Targets); its deniedMcpServers
// list takes entries such as {"serverUrl": "https://mcp.scispot.io/*"}
// (checked against Claude Code 2.1.332 and its documentation, "Control MCP
// server access for your organization"). The service, as root, merges its
// entries (Patterns) into whatever else the file holds, through package
// configfile (atomic, locked, with a backup, everything else kept byte for
// byte), and takes out again only the entries it added itself, which it
// remembers in its own state file: an entry the admin wrote is never
// removed, even when it is the same pattern.
package clientpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/policy"
)

// Client IDs of the clients whose managed settings are kept.
const (
	ClaudeCode    = "claude-code"
	GitHubCopilot = "github-copilot"
)

// Key is the managed-settings member holding the deny list.
const Key = "deniedMcpServers"

// ScispotPattern denies Scispot's own endpoint, whatever the policy's
// UpstreamURL says.
const ScispotPattern = "https://mcp.scispot.io/*"

// Target is one client's managed-settings file.
type Target struct {
	Client string // ClaudeCode or GitHubCopilot
	Name   string // the client's name, for people
	Path   string
}

// Targets are this system's managed-settings files, under root when it is
// not "" (tests; the service's --client-settings-root).
func Targets(root string) []Target {
	out := targets()
	if root != "" {
		for i := range out {
			out[i].Path = filepath.Join(root, strings.TrimPrefix(out[i].Path, filepath.VolumeName(out[i].Path)))
		}
	}
	return out
}

// Patterns are the serverUrl globs that deny Scispot: its own endpoint,
// and the policy's UpstreamURL host when that is another (a regional or
// on-premises endpoint, or a test's loopback stand-in). '*' matches any
// run of characters in Claude Code's serverUrl matching.
func Patterns(upstreamURL string) []string {
	out := []string{ScispotPattern}
	u, err := url.Parse(upstreamURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return out
	}
	if p := strings.ToLower(u.Scheme + "://" + u.Host + "/*"); !slices.Contains(out, p) {
		out = append(out, p)
	}
	return out
}

// State is what the service knows about one client's file after Keep.
type State struct {
	Client string `json:"client"`
	Name   string `json:"name"`
	File   string `json:"file"`
	// Blocked: every pattern is in the file's deniedMcpServers.
	Blocked bool `json:"blocked"`
	// Error says why the file could not be kept (it is then left as it
	// was).
	Error string `json:"error,omitempty"`
}

// Keeper keeps the targets' files in line with the policy. It is safe for
// concurrent use; Keep calls are serialised.
type Keeper struct {
	// Targets are the files to keep (Targets).
	Targets []Target
	// StateFile remembers which entries the service added to which file,
	// so that it removes only those.
	StateFile string

	mu sync.Mutex
}

// added is the state file's record for one managed-settings file.
type added struct {
	// Patterns the service put into deniedMcpServers.
	Patterns []string `json:"patterns"`
	// CreatedKey: the file had no deniedMcpServers before, so an empty
	// list left by removing ours is removed too.
	CreatedKey bool `json:"created_key,omitempty"`
}

// Keep puts the patterns of p into every target (BlockDirectConnections)
// or takes out the ones it put there (not BlockDirectConnections), and
// says where each file stands. An error with one file leaves that file
// untouched and does not stop the others.
func (k *Keeper) Keep(ctx context.Context, p policy.Policy) []State {
	k.mu.Lock()
	defer k.mu.Unlock()
	record, recErr := k.load()
	var want []string
	if p.BlockDirectConnections {
		want = Patterns(p.UpstreamURL)
	}
	out := make([]State, 0, len(k.Targets))
	dirty := false
	for _, t := range k.Targets {
		st := State{Client: t.Client, Name: t.Name, File: t.Path}
		if recErr != nil {
			st.Error = recErr.Error()
			out = append(out, st)
			continue
		}
		rec, changed, blocked, err := keepFile(ctx, t.Path, want, record[t.Path])
		st.Blocked = blocked
		if err != nil {
			st.Error = err.Error()
		}
		if changed {
			dirty = true
			if len(rec.Patterns) == 0 {
				delete(record, t.Path)
			} else {
				record[t.Path] = rec
			}
		}
		out = append(out, st)
	}
	if dirty {
		if err := k.save(record); err != nil {
			for i := range out {
				if out[i].Error == "" {
					out[i].Error = err.Error()
				}
			}
		}
	}
	return out
}

// keepFile brings one file's deniedMcpServers to hold want, adding and
// removing only the service's own entries (rec).
func keepFile(ctx context.Context, path string, want []string, rec added) (added, bool, bool, error) {
	content, err := configfile.Read(path)
	missing := errors.Is(err, fs.ErrNotExist)
	switch {
	case missing && len(want) == 0:
		// Nothing to take out of a file that is not there.
		return added{}, len(rec.Patterns) > 0, false, nil
	case err != nil && !missing:
		return rec, false, false, fmt.Errorf("reading %s: %w", path, err)
	}
	var list []json.RawMessage
	hadKey := false
	if !missing {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(content, &doc); err != nil {
			return rec, false, false, fmt.Errorf("reading %s: %w", path, err)
		}
		var raw json.RawMessage
		if raw, hadKey = doc[Key]; hadKey {
			if err := json.Unmarshal(raw, &list); err != nil {
				return rec, false, false, fmt.Errorf("%s: %s is not a list, so it is left as it is", path, Key)
			}
		}
	}
	present := func(l []json.RawMessage, p string) bool {
		return slices.ContainsFunc(l, func(e json.RawMessage) bool { return serverURL(e) == p })
	}
	// Take out ours that are no longer wanted; keep everything else.
	var next []json.RawMessage
	var ours []string
	for _, e := range list {
		u := serverURL(e)
		if u != "" && slices.Contains(rec.Patterns, u) && !slices.Contains(want, u) {
			continue
		}
		next = append(next, e)
	}
	for _, p := range rec.Patterns {
		if slices.Contains(want, p) && present(next, p) {
			ours = append(ours, p)
		}
	}
	for _, p := range want {
		if !present(next, p) {
			e, _ := json.Marshal(map[string]string{"serverUrl": p})
			next = append(next, e)
			ours = append(ours, p)
		}
	}
	newRec := added{Patterns: ours, CreatedKey: rec.CreatedKey || (!hadKey && len(ours) > 0)}
	changedRec := !slices.Equal(newRec.Patterns, rec.Patterns) || newRec.CreatedKey != rec.CreatedKey
	blocked := len(want) > 0
	for _, p := range want {
		blocked = blocked && present(next, p)
	}
	if len(next) == len(list) && slices.EqualFunc(next, list, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
		return newRec, changedRec, blocked, nil
	}
	if missing {
		if err := createEmpty(path); err != nil {
			return rec, false, false, err
		}
	}
	edit := configfile.Edit{Path: []string{Key}}
	if len(next) > 0 || !newRec.CreatedKey {
		if next == nil {
			next = []json.RawMessage{}
		}
		edit.Value, _ = json.Marshal(next)
	} else {
		newRec.CreatedKey = false
	}
	if _, err := configfile.Apply(ctx, path, []configfile.Edit{edit}, configfile.Options{}); err != nil {
		return rec, false, false, err
	}
	return newRec, true, blocked, nil
}

// serverURL is the serverUrl of a deny entry that has nothing else (an
// entry naming a serverName or serverCommand too is the admin's).
func serverURL(e json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(e, &m) != nil || len(m) != 1 {
		return ""
	}
	s, _ := m["serverUrl"].(string)
	return s
}

// createEmpty makes a managed-settings file holding {}, readable by every
// account (the clients run as the person) and writable by root only, in
// a folder made the same way.
func createEmpty(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".managed-settings-*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString("{}\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	// Link, not rename: a file another writer created meanwhile wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return nil
}

func (k *Keeper) load() (map[string]added, error) {
	record := map[string]added{}
	b, err := os.ReadFile(k.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return record, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the record of the clients' managed settings: %w", err)
	}
	if err := json.Unmarshal(b, &record); err != nil {
		return nil, fmt.Errorf("the record of the clients' managed settings %s is damaged (%v); the files are left as they are", k.StateFile, err)
	}
	return record, nil
}

func (k *Keeper) save(record map[string]added) error {
	b, err := json.MarshalIndent(record, "", "  ")
	if err != nil {
		return err
	}
	tmp := k.StateFile + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("recording the clients' managed settings: %w", err)
	}
	if err := os.Rename(tmp, k.StateFile); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recording the clients' managed settings: %w", err)
	}
	return nil
}
