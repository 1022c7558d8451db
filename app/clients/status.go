package clients

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
)

// State is a client's setup state, as the tray shows it.
type State string

// States, from worst to best news for the person.
const (
	// Unreadable: the config file cannot be parsed or read.
	Unreadable State = "unreadable"
	// PlaintextToken: a Scispot entry in the client's config holds a
	// plaintext API token (see Scan and Migrate).
	PlaintextToken State = "plaintext-token"
	// Removed: this app wrote the entry (per the state file) and it is gone
	// now — Claude Desktop updates sometimes wipe mcpServers.
	Removed State = "removed"
	// Stale: the entry exists but does not launch the current app (the
	// command is another path or no longer exists, or it is not a stdio
	// "serve" entry).
	Stale State = "stale"
	// Configured: the entry launches the current app.
	Configured State = "configured"
	// NoConfig: the client is installed but has no entry.
	NoConfig State = "no-config"
	// NotInstalled: the client does not seem to be installed.
	NotInstalled State = "not-installed"
)

// ClientStatus is one client's state.
type ClientStatus struct {
	Client string // client ID
	Name   string // client product name
	Path   string // the config file the client reads ("" if unknown)
	State  State
	// Detail is one plain sentence about the state, for the tray.
	Detail string
	// Command is what the entry launches, when there is one.
	Command string
	// Demo is true when the entry runs the demo workspace.
	Demo bool
	// Direct are the client's config entries that reach Scispot without
	// the gateway (FindDirect), whatever State says about this app's entry.
	Direct []Direct
}

// StatusOptions adjust Status.
type StatusOptions struct {
	// Executable is the current app's path; an entry launching anything
	// else is Stale. Empty skips that comparison.
	Executable string
	// StateFile is the record Apply keeps (Options.StateFile); without it
	// a missing entry is NoConfig, never Removed.
	StateFile string
	// Hosts are more hosts that count as Scispot for ClientStatus.Direct
	// (the policy's UpstreamURL host).
	Hosts []string
}

// Status returns every client's state, in All's order. It reads files and
// never writes.
func Status(ctx context.Context, env Env, opts StatusOptions) []ClientStatus {
	records, err := readState(opts.StateFile)
	if err != nil {
		records = nil // a damaged record only loses the Removed state
	}
	exe := opts.Executable
	if exe != "" && env.native() {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
	}
	var out []ClientStatus
	for _, c := range All() {
		if ctx.Err() != nil {
			break
		}
		out = append(out, clientStatus(c, env, exe, records))
	}
	attachDirect(ctx, env, opts.Hosts, out)
	return out
}

func clientStatus(c Client, env Env, exe string, records map[string]record) ClientStatus {
	st := ClientStatus{Client: c.ID, Name: c.Name}
	paths, err := configPaths(c, env)
	if err != nil {
		st.State, st.Detail = Unreadable, err.Error()
		return st
	}
	st.Path = paths[0]

	// A plaintext token anywhere the client reads, or read before, comes first.
	var content []byte
	for i, p := range paths {
		b, err := configfile.Read(env.host(p))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil && i == 0:
			st.State, st.Detail = Unreadable, err.Error()
			return st
		case err != nil:
			continue
		}
		if i == 0 {
			content = b
		}
		if found := scanContent(c, p, b); len(found) > 0 {
			st.State = PlaintextToken
			st.Detail = fmt.Sprintf("%s has a plaintext Scispot API token in %s (fingerprint %s) — move it into the keychain with \"scispot-mcp setup %s --migrate\".",
				c.Name, p, found[0].Fingerprint, c.ID)
			return st
		}
	}

	root, _ := decodeObject(content)
	servers, _ := root[c.Key].(map[string]any)
	if e, ok := servers[EntryName].(map[string]any); ok {
		st.Command, _ = e["command"].(string)
		a := stringList(e["args"])
		st.Demo = len(a) > 1 && a[1] == "--demo"
		st.State, st.Detail = entryState(c, env, exe, st.Command, a)
		return st
	}

	if rec, ok := records[c.ID]; ok && rec.Path == st.Path {
		st.State = Removed
		st.Detail = fmt.Sprintf("The %q entry written on %s is gone from %s — reconnect to put it back.",
			EntryName, rec.Written.Local().Format("2 Jan 2006"), st.Path)
		return st
	}
	if content != nil || Installed(c, env) {
		st.State = NoConfig
		st.Detail = fmt.Sprintf("%s is not connected to Scispot.", c.Name)
		return st
	}
	st.State = NotInstalled
	st.Detail = fmt.Sprintf("%s does not seem to be installed.", c.Name)
	return st
}

// entryState tells Configured from Stale for an existing entry.
func entryState(c Client, env Env, exe, command string, a []string) (State, string) {
	switch {
	case command == "":
		return Stale, fmt.Sprintf("The %q entry in %s does not launch this app (it has no command) — reconnect to replace it.", EntryName, c.Name)
	case len(a) == 0 || a[0] != "serve":
		return Stale, fmt.Sprintf("The %q entry in %s does not run \"serve\" — reconnect to replace it.", EntryName, c.Name)
	case !env.isAbs(command) || !env.exists(command):
		return Stale, fmt.Sprintf("The %q entry in %s launches %s, which does not exist — reconnect to point it at this app.", EntryName, c.Name, command)
	case exe != "" && !samePath(env, command, exe):
		return Stale, fmt.Sprintf("The %q entry in %s launches %s, not this app (%s) — reconnect to point it at this app.", EntryName, c.Name, command, exe)
	}
	return Configured, fmt.Sprintf("%s is connected to Scispot.", c.Name)
}

func samePath(env Env, a, b string) bool {
	if env.windows() || env.goos() == "darwin" {
		// Both normally use case-insensitive file systems.
		return strings.EqualFold(a, b)
	}
	return a == b
}
