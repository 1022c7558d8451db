package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strings"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/keychain"
)

// Finding is a plaintext Scispot API token in a client config. It names
// the token only by fingerprint; the token itself is kept where printing,
// logging or encoding a Finding cannot reach it, for Migrate alone.
type Finding struct {
	Client string // client ID
	Path   string // config file
	Entry  string // the server entry's name
	// Project is the project folder of a Claude Code project-scoped entry
	// ("projects" in ~/.claude.json); empty for user-level entries.
	Project string
	// Where is the part of the entry holding the token: "env", "args",
	// "headers" or "url".
	Where string
	// Key is the variable, header, flag or URL parameter holding it.
	Key string
	// Fingerprint identifies the token (keychain.Fingerprint).
	Fingerprint string

	entryPath []string // JSON path of the entry in the file
	// direct marks a finding made by FindDirect: Migrate replaces the
	// entry even when it holds no token.
	direct bool
	// secret is a pointer so that fmt prints an address, not the token,
	// even for %+v and %#v; encoding/json skips unexported fields.
	secret *secret
}

type secret struct{ token string }

func (f Finding) String() string {
	where := f.Where
	if f.Key != "" {
		where += " " + f.Key
	}
	scope := ""
	if f.Project != "" {
		scope = fmt.Sprintf(" (project %s)", f.Project)
	}
	return fmt.Sprintf("%s: entry %q%s holds a plaintext Scispot API token in %s (fingerprint %s)",
		f.Path, f.Entry, scope, where, f.Fingerprint)
}

// Scan looks through every known client config (for Claude Desktop on
// Windows, both the Store app's file and the classic one) for Scispot
// entries holding a plaintext token: an entry whose name, url, command or
// args mention Scispot (such as a remote entry for https://mcp.scispot.io/)
// with an Authorization header, a token-like env variable, a
// `--header "Authorization: Bearer …"` argument and the like. Files that
// cannot be read are skipped and reported in the joined error; the
// findings from the others are still returned.
func Scan(ctx context.Context, env Env) ([]Finding, error) {
	var findings []Finding
	var errs []error
	for _, c := range All() {
		if err := ctx.Err(); err != nil {
			return findings, err
		}
		paths, err := configPaths(c, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range paths {
			content, err := configfile.Read(env.host(p))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			findings = append(findings, scanContent(c, p, content)...)
		}
	}
	return findings, errors.Join(errs...)
}

// scanContent finds tokens in the standard-JSON content of a config file.
func scanContent(c Client, path string, content []byte) []Finding {
	root, ok := decodeObject(content)
	if !ok {
		return nil
	}
	var out []Finding
	scanServers := func(servers map[string]any, prefix []string, project string) {
		for _, name := range sortedKeys(servers) {
			e, ok := servers[name].(map[string]any)
			if !ok || !isScispotEntry(name, e) {
				continue
			}
			for _, h := range entryTokens(e) {
				out = append(out, Finding{
					Client: c.ID, Path: path, Entry: name, Project: project,
					Where: h.where, Key: h.key, Fingerprint: keychain.Fingerprint(h.token),
					entryPath: append(slices.Clone(prefix), name),
					secret:    &secret{token: h.token},
				})
			}
		}
	}
	if servers, ok := root[c.Key].(map[string]any); ok {
		scanServers(servers, []string{c.Key}, "")
	}
	if c.ID == ClaudeCode {
		// Claude Code keeps "local"-scope servers per project.
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

func decodeObject(content []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(content))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return nil, false
	}
	return root, root != nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isScispotEntry reports whether a server entry is about Scispot: its name,
// URL, command or arguments mention it.
func isScispotEntry(name string, e map[string]any) bool {
	mentions := func(s string) bool { return strings.Contains(strings.ToLower(s), "scispot") }
	if mentions(name) {
		return true
	}
	for _, k := range []string{"url", "serverUrl", "httpUrl", "command"} {
		if s, ok := e[k].(string); ok && mentions(s) {
			return true
		}
	}
	for _, a := range stringList(e["args"]) {
		if mentions(a) {
			return true
		}
	}
	return false
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// tokenHit is one place in an entry that holds a token.
type tokenHit struct {
	where, key, token string
}

// entryTokens returns the plaintext tokens in a Scispot entry, each once.
func entryTokens(e map[string]any) []tokenHit {
	var hits []tokenHit
	add := func(where, key, raw string) {
		tok, ok := tokenValue(raw)
		if !ok {
			return
		}
		for _, h := range hits {
			if h.token == tok && h.where == where {
				return
			}
		}
		hits = append(hits, tokenHit{where: where, key: key, token: tok})
	}

	if headers, ok := e["headers"].(map[string]any); ok {
		for _, k := range sortedKeys(headers) {
			if v, ok := headers[k].(string); ok && (secretName(k) || isBearer(v)) {
				add("headers", k, v)
			}
		}
	}
	if vars, ok := e["env"].(map[string]any); ok {
		for _, k := range sortedKeys(vars) {
			if v, ok := vars[k].(string); ok && (secretName(k) || isBearer(v)) {
				add("env", k, v)
			}
		}
	}
	args := stringList(e["args"])
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := ""
		if i+1 < len(args) {
			next = args[i+1]
		}
		flag, value, hasValue := strings.Cut(a, "=")
		switch {
		case isHeaderFlag(a) && next != "":
			if k, v, ok := headerSecret(next); ok {
				add("args", k, v)
				i++
			}
		case hasValue && isHeaderFlag(flag):
			if k, v, ok := headerSecret(value); ok {
				add("args", k, v)
			}
		case strings.HasPrefix(a, "-") && secretName(strings.TrimLeft(flag, "-")):
			if hasValue {
				add("args", flag, value)
			} else if next != "" {
				add("args", a, next)
				i++
			}
		case hasValue && !strings.HasPrefix(a, "-") && secretName(flag):
			add("args", flag, value) // SCISPOT_API_TOKEN=… (as with "env")
		case isBearer(a):
			add("args", "Bearer", a)
		default:
			if k, v, ok := headerSecret(a); ok {
				add("args", k, v)
			}
		}
	}
	for _, k := range []string{"url", "serverUrl", "httpUrl"} {
		s, _ := e[k].(string)
		u, err := url.Parse(s)
		if s == "" || err != nil {
			continue
		}
		for p, vals := range u.Query() {
			if secretName(p) {
				for _, v := range vals {
					add("url", p, v)
				}
			}
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				add("url", "password", pw)
			}
		}
	}
	return hits
}

// secretName reports whether a variable, header, flag or parameter name is
// one that carries a credential.
func secretName(name string) bool {
	n := strings.ToLower(name)
	n = strings.NewReplacer("-", "", "_", "", ".", "").Replace(n)
	if n == "authorization" || n == "auth" || n == "bearer" {
		return true
	}
	for _, w := range []string{"token", "apikey", "secret", "password", "accesskey", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func isHeaderFlag(a string) bool { return a == "--header" || a == "-H" || a == "--headers" }

func isBearer(v string) bool {
	v = strings.TrimSpace(v)
	return len(v) > len("bearer ") && strings.EqualFold(v[:len("bearer ")], "bearer ")
}

// headerSecret parses "Name: value" and returns it when Name carries a
// credential.
func headerSecret(h string) (name, value string, ok bool) {
	name, value, found := strings.Cut(h, ":")
	name = strings.TrimSpace(name)
	if !found || name == "" || strings.ContainsAny(name, " /") || !secretName(name) {
		return "", "", false
	}
	return name, strings.TrimSpace(value), true
}

// tokenValue returns the token in a credential value ("Bearer " removed),
// or false for values that are not one: empty, references to variables
// ("${input:token}", "$TOKEN", "%TOKEN%", "{env:TOKEN}") and placeholders.
func tokenValue(raw string) (string, bool) {
	v := strings.TrimSpace(raw)
	if isBearer(v) {
		v = strings.TrimSpace(v[len("bearer "):])
	}
	switch {
	case v == "",
		strings.Contains(v, "${"),
		strings.HasPrefix(v, "$"),
		strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%"),
		strings.HasPrefix(v, "{env:"),
		strings.ContainsAny(v, "<>"),
		len(v) < 8:
		return "", false
	}
	tok, err := keychain.CleanToken(v)
	if err != nil {
		return "", false
	}
	if lower := strings.ToLower(tok); strings.Contains(lower, "your") && (strings.Contains(lower, "token") || strings.Contains(lower, "key")) {
		return "", false // "YOUR_API_TOKEN"
	}
	return tok, true
}

// entryHasToken reports the first plaintext token in the entry at path of
// content, for refusing to overwrite it.
func entryHasToken(content []byte, path []string) (tokenHit, bool) {
	root, ok := decodeObject(content)
	if !ok {
		return tokenHit{}, false
	}
	var v any = root
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return tokenHit{}, false
		}
		v = m[k]
	}
	e, ok := v.(map[string]any)
	if !ok {
		return tokenHit{}, false
	}
	hits := entryTokens(e)
	if len(hits) == 0 {
		return tokenHit{}, false
	}
	return hits[0], true
}
