package clients

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/idna"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/keychain"
	secrets "github.com/scispot/mcp-desktop/mcpserver/redact"
)

// ScispotHost is Scispot's own MCP host; entries reaching it are direct
// connections whatever the policy's UpstreamURL says.
const ScispotHost = "mcp.scispot.io"

// Kinds of direct connection.
const (
	// KindURL: a remote entry (url, serverUrl, httpUrl) for Scispot's host.
	KindURL = "url"
	// KindBridge: a local command (mcp-remote through npx and the like)
	// whose arguments or environment name Scispot's host.
	KindBridge = "bridge"
	// KindToken: a Scispot token in the entry's env, args, headers or URL.
	KindToken = "token"
)

// Direct is one client config entry that reaches Scispot without the
// gateway. It never holds the token itself in a field that prints or
// encodes: a token found is kept for MigrateDirect only.
type Direct struct {
	Client string `json:"client"`
	File   string `json:"file"`
	Entry  string `json:"entry"`
	Kind   string `json:"kind"`
	// Project is the project folder of a Claude Code per-project entry.
	Project string `json:"project,omitempty"`
	// Machine is true for a machine-level file the person cannot change
	// (Claude Code's managed-mcp.json): reported, never migrated.
	Machine bool `json:"machine,omitempty"`

	f *Finding // the entry and, if any, its token, for MigrateDirect
}

func (d Direct) String() string {
	scope := ""
	if d.Project != "" {
		scope = fmt.Sprintf(" (project %s)", d.Project)
	}
	what := map[string]string{
		KindURL:    "connects to Scispot directly",
		KindBridge: "bridges to Scispot directly",
		KindToken:  "holds a Scispot API token",
	}[d.Kind]
	if what == "" {
		what = d.Kind
	}
	return fmt.Sprintf("%s: entry %q%s %s, without the gateway", d.File, d.Entry, scope, what)
}

// Remedy says what the person does about d, in one sentence: an entry in
// a machine-level file is the IT admin's to remove.
func (d Direct) Remedy() string {
	if d.Machine {
		return "It is in a machine-level file, which only your IT admin can change: ask them to remove it."
	}
	return "Replace it with the gateway: Replace with gateway in the Connect AI clients window, or `scispot-mcp setup " + d.Client + " --migrate`."
}

// Key identifies the finding across scans (for recording it once).
func (d Direct) Key() string {
	return strings.Join([]string{d.Client, d.File, d.Project, d.Entry, d.Kind}, "\x00")
}

// DirectOptions adjust FindDirect.
type DirectOptions struct {
	// Hosts are more hosts that count as Scispot (the policy's
	// UpstreamURL host); ScispotHost always does.
	Hosts []string
	// Read reads a config file (a host path) as it is on disk; machine
	// is true for a machine-level file (managed-mcp.json), which only an
	// administrator writes. Nil uses configfile.Read. The service passes a
	// reader that refuses links and files the account does not own (root's
	// for machine-level ones).
	Read func(path string, machine bool) ([]byte, error)
}

// maxScanBytes bounds a file the scanner reads through Read: a big
// ~/.claude.json holds project history, a few MB at most.
const maxScanBytes = 64 << 20

// FindDirect looks through every known client config — user level, the
// Claude Code per-project entries in ~/.claude.json, and the machine-level
// managed-mcp.json — for entries that reach Scispot without the gateway.
// Files that cannot be read are skipped and named in the joined error.
// The result is sorted and has each (entry, kind) once.
func FindDirect(ctx context.Context, env Env, opts DirectOptions) ([]Direct, error) {
	hosts := hostSet(opts.Hosts)
	var out []Direct
	var errs []error
	scan := func(c Client, p string, machine bool) []byte {
		content, err := readConfig(env.host(p), machine, opts.Read)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		found := directContent(c, p, content, hosts)
		for i := range found {
			found[i].Machine = machine
		}
		out = append(out, found...)
		return content
	}
	for _, c := range All() {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		paths, err := configPaths(c, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range paths {
			content := scan(c, p, false)
			if c.ID == ClaudeCode {
				// "claude mcp add --scope project" writes the project's
				// .mcp.json, which Claude Code reads in that folder.
				for _, dir := range claudeProjects(content, env) {
					scan(c, env.join(dir, ".mcp.json"), false)
				}
			}
		}
		for _, p := range machinePaths(c, env) {
			scan(c, p, true)
		}
	}
	return out, errors.Join(errs...)
}

func readConfig(path string, machine bool, read func(string, bool) ([]byte, error)) ([]byte, error) {
	if read == nil {
		return configfile.Read(path)
	}
	raw, err := read(path, machine)
	if err != nil {
		return nil, err
	}
	if len(raw) > maxScanBytes {
		return nil, fmt.Errorf("reading %s: larger than %d bytes", path, maxScanBytes)
	}
	std, err := configfile.Standardize(raw)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return std, nil
}

// machinePaths are the machine-level server lists a client reads beside
// the person's own: Claude Code's managed-mcp.json.
func machinePaths(c Client, env Env) []string {
	if c.ID != ClaudeCode {
		return nil
	}
	switch env.goos() {
	case "darwin":
		return []string{"/Library/Application Support/ClaudeCode/managed-mcp.json"}
	case "windows":
		return []string{`C:\Program Files\ClaudeCode\managed-mcp.json`}
	default:
		return []string{"/etc/claude-code/managed-mcp.json"}
	}
}

// hostSet normalises the Scispot hosts.
func hostSet(extra []string) map[string]bool {
	set := map[string]bool{ScispotHost: true}
	for _, h := range extra {
		if n := normalHost(h); n != "" {
			set[n] = true
		}
	}
	return set
}

// normalHost is the form hosts are compared in: ASCII (IDNA, which also
// folds full-width letters and case), no trailing dot, no brackets.
func normalHost(h string) string {
	h = strings.TrimSuffix(strings.TrimSpace(h), ".")
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		return ""
	}
	if a, err := idna.Lookup.ToASCII(h); err == nil {
		h = a
	} else if a, err := idna.Punycode.ToASCII(h); err == nil {
		h = a // not a valid IDN (an IP literal, "_"): compare it as it is
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// urlHost returns the host of a URL as a client would connect to it, or
// "". It reads the authority by hand, as browsers and Node do, rather than
// with net/url, which refuses forms those clients accept (a
// percent-encoded host, a backslash for a slash). A value without a scheme
// ("mcp.scispot.io/mcp") is read as a host and path.
func urlHost(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	} else if strings.HasPrefix(s, "-") || !strings.Contains(s, ".") {
		return ""
	}
	if i := strings.IndexAny(s, `/?#\`); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i >= 0 {
			s = s[:i+1]
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[:i]
	}
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return normalHost(s)
}

// reachesURL reports whether a URL value connects to one of hosts.
func reachesURL(s string, hosts map[string]bool) bool {
	h := urlHost(s)
	return h != "" && hosts[h]
}

// reaches reports whether any piece of s (split at spaces, quotes, "=",
// "," and ";", as in "--url=…" or "URL=…") is a URL or host among hosts:
// for the arguments and environment of a bridge.
func reaches(s string, hosts map[string]bool) bool {
	pieces := strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '"' || r == '\'' || r == '=' || r == ',' || r == ';' || r == '<' || r == '>'
	})
	for _, p := range pieces {
		if reachesURL(p, hosts) {
			return true
		}
	}
	return false
}

// directContent finds the direct connections in a config's standard JSON.
func directContent(c Client, path string, content []byte, hosts map[string]bool) []Direct {
	root, ok := decodeObject(content)
	if !ok {
		return nil
	}
	var out []Direct
	scanServers := func(servers map[string]any, prefix []string, project string) {
		for _, name := range sortedKeys(servers) {
			e, ok := servers[name].(map[string]any)
			if !ok {
				continue
			}
			kinds, token := entryDirect(name, e, hosts)
			for _, k := range kinds {
				f := &Finding{Client: c.ID, Path: path, Entry: name, Project: project,
					entryPath: append(slices.Clone(prefix), name), direct: true}
				if token != nil {
					f.Where, f.Key, f.Fingerprint = token.where, token.key, keychain.Fingerprint(token.token)
					f.secret = &secret{token: token.token}
				}
				out = append(out, Direct{Client: c.ID, File: path, Entry: name, Kind: k, Project: project, f: f})
			}
		}
	}
	key := c.Key
	if servers, ok := root[key].(map[string]any); ok {
		scanServers(servers, []string{key}, "")
	}
	if c.ID == ClaudeCode {
		if projects, ok := root["projects"].(map[string]any); ok {
			for _, dir := range sortedKeys(projects) {
				p, _ := projects[dir].(map[string]any)
				if servers, ok := p["mcpServers"].(map[string]any); ok {
					scanServers(servers, []string{"projects", dir, "mcpServers"}, dir)
				}
			}
		}
	}
	return out
}

// entryDirect returns the kinds of direct connection one entry is, and
// the first token it holds.
func entryDirect(name string, e map[string]any, hosts map[string]bool) ([]string, *tokenHit) {
	var kinds []string
	for _, k := range []string{"url", "serverUrl", "httpUrl", "uri"} {
		if s, ok := e[k].(string); ok && reachesURL(s, hosts) {
			kinds = append(kinds, KindURL)
			break
		}
	}
	bridge := false
	if s, ok := e["command"].(string); ok && reaches(s, hosts) {
		bridge = true
	}
	for _, a := range stringList(e["args"]) {
		if !bridge && reaches(a, hosts) {
			bridge = true
		}
	}
	if vars, ok := e["env"].(map[string]any); ok && !bridge {
		for _, k := range sortedKeys(vars) {
			if v, ok := vars[k].(string); ok && reaches(v, hosts) {
				bridge = true
				break
			}
		}
	}
	if bridge {
		kinds = append(kinds, KindBridge)
	}

	// A token: token-shaped anywhere in env, args, headers or URL; or a
	// credential in an entry that is about Scispot.
	var hit *tokenHit
	if len(kinds) > 0 || isScispotEntry(name, e) {
		if hits := entryTokens(e); len(hits) > 0 {
			hit = &hits[0]
		}
	}
	if hit == nil {
		hit = shapedToken(e)
	}
	if hit != nil {
		kinds = append(kinds, KindToken)
	}
	return kinds, hit
}

// shapedToken finds a Scispot-token-shaped word (package redact's Tokens) in the
// entry's env, args, headers or URLs.
func shapedToken(e map[string]any) *tokenHit {
	find := func(where, key, s string) *tokenHit {
		if toks := secrets.Tokens(s); len(toks) > 0 {
			return &tokenHit{where: where, key: key, token: toks[0]}
		}
		return nil
	}
	for _, part := range []string{"headers", "env"} {
		if m, ok := e[part].(map[string]any); ok {
			for _, k := range sortedKeys(m) {
				if v, ok := m[k].(string); ok {
					if h := find(part, k, v); h != nil {
						return h
					}
				}
			}
		}
	}
	for i, a := range stringList(e["args"]) {
		if h := find("args", fmt.Sprintf("#%d", i+1), a); h != nil {
			return h
		}
	}
	for _, k := range []string{"url", "serverUrl", "httpUrl", "uri"} {
		if s, ok := e[k].(string); ok {
			if h := find("url", k, s); h != nil {
				return h
			}
		}
	}
	return nil
}

// ErrMachineLevel means a direct connection is in a machine-level file,
// which only an administrator changes.
var ErrMachineLevel = errors.New("direct connection in a machine-level file")

// MigrateDirect replaces a direct connection's entry with the gateway
// entry, as Migrate does for a plaintext token: a token in the entry is
// moved into the keychain first (or the stored one kept), no backup of the
// file is kept, and older backups holding the token are deleted. An entry
// without a token is replaced the same way.
func MigrateDirect(ctx context.Context, d Direct, env Env, kc keychain.Store, opts Options) (Change, error) {
	if d.Machine {
		return Change{Client: d.Client, Path: d.File}, fmt.Errorf("%s: %w — ask your administrator to remove the %q entry", d.File, ErrMachineLevel, d.Entry)
	}
	if d.f == nil {
		return Change{Client: d.Client, Path: d.File}, fmt.Errorf("migrating %s: %w (use the findings from FindDirect)", d.File, ErrNoToken)
	}
	return Migrate(ctx, *d.f, env, kc, opts)
}

// Migratable returns one finding per entry (the one carrying its token,
// if any), leaving out machine-level ones: what MigrateDirect takes.
func Migratable(found []Direct) []Direct {
	var out []Direct
	index := map[string]int{}
	for _, d := range found {
		if d.Machine {
			continue
		}
		k := d.File + "\x00" + d.Project + "\x00" + d.Entry
		i, seen := index[k]
		switch {
		case !seen:
			index[k] = len(out)
			out = append(out, d)
		case d.Kind == KindToken:
			out[i] = d
		}
	}
	return out
}

// attachDirect fills each status's Direct. Unreadable files are already
// reported by the status itself.
func attachDirect(ctx context.Context, env Env, hosts []string, out []ClientStatus) {
	found, _ := FindDirect(ctx, env, DirectOptions{Hosts: hosts})
	for i := range out {
		for _, d := range found {
			if d.Client == out[i].Client {
				out[i].Direct = append(out[i].Direct, d)
			}
		}
	}
}

// UpstreamHost returns the host of the policy's UpstreamURL as a status
// reports it in its effective policy, for DirectOptions.Hosts.
func UpstreamHost(effective map[string]any) []string {
	s, _ := effective["UpstreamURL"].(string)
	return HostsOf(s)
}

// HostsOf is the host of an upstream URL as FindDirect's Hosts take it,
// or none.
func HostsOf(upstreamURL string) []string {
	if h := urlHost(upstreamURL); h != "" {
		return []string{h}
	}
	return nil
}

// sameStatus compares two statuses for the watcher, the direct
// connections by what they say (not by their hidden finding).
func sameStatus(a, b ClientStatus) bool {
	return a.Client == b.Client && a.Name == b.Name && a.Path == b.Path && a.State == b.State &&
		a.Detail == b.Detail && a.Command == b.Command && a.Demo == b.Demo &&
		slices.EqualFunc(a.Direct, b.Direct, func(x, y Direct) bool { return x.Key() == y.Key() && x.Machine == y.Machine })
}

// claudeProjects are the absolute project folders ~/.claude.json knows.
func claudeProjects(content []byte, env Env) []string {
	root, ok := decodeObject(content)
	if !ok {
		return nil
	}
	projects, _ := root["projects"].(map[string]any)
	var out []string
	for _, dir := range sortedKeys(projects) {
		if env.isAbs(dir) {
			out = append(out, dir)
		}
	}
	return out
}
