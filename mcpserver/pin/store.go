package pin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FileName is the pin record in the service's state folder (root only).
const FileName = "tool-pins.json"

// maxFileBytes bounds what Open reads: a record of a few dozen tools is
// well under a megabyte; anything far larger is not one.
const maxFileBytes = 64 << 20

// How a definition came to be approved, for the record.
const (
	ByFirstUse = "first use on this workstation"
	ByPolicy   = "the admin policy (AcceptedToolDefinitions)"
)

// ErrNothingToAccept: the upstream's definition of the tool has not
// changed since it was approved (for this account), or no such tool was
// seen.
var ErrNothingToAccept = errors.New("nothing to accept")

// ErrChangedAgain: the definition the person reviewed is not the one the
// upstream publishes now.
var ErrChangedAgain = errors.New("changed again since it was reviewed")

// Options configure a Store.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Changed is told, outside the store's lock, when what an account may
	// see has changed: a change was first noticed for it, or accepted.
	// An empty owner means every account (the admin's acceptance).
	Changed func(owner string)
}

// Store is the record of approved tool definitions: one per workstation
// (FileName in the service's state), or one in memory for the demo
// workspace, whose definitions are part of this release. Safe for
// concurrent use; every change is on disk before the call returns.
type Store struct {
	path string // "" keeps the record in memory only
	opts Options

	mu sync.Mutex
	f  file
}

// file is FileName's content.
type file struct {
	V int `json:"v"`
	// Damaged says that a damaged record was set aside, when and why:
	// from then on no tool is pinned on first sight (the lost record may
	// have held a definition that has since changed), until an admin
	// deletes the file and restarts the service.
	Damaged *Damage `json:"damaged,omitempty"`
	// Upstreams are keyed by Scope.
	Upstreams map[string]*upstream `json:"upstreams,omitempty"`
}

// Damage describes a record that could not be read.
type Damage struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	// KeptAs is the file the damaged record was moved to.
	KeptAs string `json:"kept_as,omitempty"`
}

type upstream struct {
	// Tools are the approved definitions, for every account.
	Tools map[string]*pinned `json:"tools,omitempty"`
	// Changes are the latest definitions seen that differ from Tools.
	Changes map[string]*change `json:"changes,omitempty"`
	// Accepted are the people's own acceptances: owner, then tool.
	Accepted map[string]map[string]*acceptance `json:"accepted,omitempty"`
}

type pinned struct {
	SHA256     string          `json:"sha256,omitempty"`
	Definition json.RawMessage `json:"definition,omitempty"`
	// FirstSeen is when the tool was first seen here, Since when this
	// definition became the approved one, By how.
	FirstSeen time.Time `json:"first_seen"`
	Since     time.Time `json:"since"`
	By        string    `json:"by,omitempty"`
	// Damaged says why this entry could not be read: no definition of the
	// tool is on record, and the tool is withheld until one is accepted.
	Damaged string `json:"damaged,omitempty"`
}

type change struct {
	SHA256     string          `json:"sha256"`
	Definition json.RawMessage `json:"definition"`
	// Seen is when this definition was first seen.
	Seen time.Time `json:"seen"`
	// Noticed are the accounts whose sessions have withheld it (each is
	// told, and its trail records tool.changed, once).
	Noticed []string `json:"noticed,omitempty"`
}

type acceptance struct {
	SHA256 string    `json:"sha256"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
}

// Open reads the record at path. A record that cannot be read fails
// closed: it is moved aside to path+".damaged" (or, if even that fails,
// left alone) and the store starts empty but strict — no tool is pinned
// on first sight, so every allowed tool is withheld until its definition
// is accepted. A missing file is a fresh start.
func Open(path string, o Options) *Store {
	s := newStore(path, o)
	b, err := readFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s
	case err == nil:
		f, perr := parseFile(b)
		if perr == nil {
			s.f = f
			return s
		}
		err = perr
	}
	s.opts.Logger.Error("the record of approved tool definitions is damaged; every tool is withheld until its definition is accepted", "path", path, "err", err)
	d := &Damage{At: s.opts.Now().UTC(), Reason: err.Error()}
	if rerr := os.Rename(path, path+".damaged"); rerr == nil {
		d.KeptAs = filepath.Base(path) + ".damaged"
	}
	s.f = file{V: 1, Damaged: d}
	if d.KeptAs != "" {
		if err := s.save(); err != nil {
			s.opts.Logger.Error("the new record of approved tool definitions could not be written", "path", path, "err", err)
		}
	}
	return s
}

// Memory is a store that keeps its record in memory: for the demo
// workspace, whose tools come with this release. It records no
// tool.pinned events.
func Memory(o Options) *Store { return newStore("", o) }

func newStore(path string, o Options) *Store {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Changed == nil {
		o.Changed = func(string) {}
	}
	return &Store{path: path, opts: o, f: file{V: 1}}
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("it is larger than %d bytes", maxFileBytes)
	}
	return b, nil
}

// parseFile reads a record. The whole file fails only when it is not one
// (not JSON, another version); an entry that does not match its own hash
// is kept as damaged, which withholds that tool alone.
func parseFile(b []byte) (file, error) {
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return file{}, fmt.Errorf("it is not a record of tool definitions: %w", err)
	}
	if f.V != 1 {
		return file{}, fmt.Errorf("it has version %d, which this release does not read", f.V)
	}
	for scope, up := range f.Upstreams {
		if up == nil {
			delete(f.Upstreams, scope)
			continue
		}
		for name, p := range up.Tools {
			if p == nil {
				p = &pinned{}
				up.Tools[name] = p
			}
			if p.Damaged != "" {
				p.SHA256, p.Definition = "", nil
				continue
			}
			if why := checkDefinition(p.SHA256, p.Definition); why != "" {
				*p = pinned{FirstSeen: p.FirstSeen, Damaged: why}
			}
		}
		// A damaged change or acceptance is forgotten: the tool then
		// stays withheld until it is noticed and accepted again.
		maps.DeleteFunc(up.Changes, func(_ string, c *change) bool {
			return c == nil || checkDefinition(c.SHA256, c.Definition) != ""
		})
		for owner, acc := range up.Accepted {
			maps.DeleteFunc(acc, func(_ string, a *acceptance) bool { return a == nil || !validHash(a.SHA256) })
			if len(acc) == 0 {
				delete(up.Accepted, owner)
			}
		}
	}
	return f, nil
}

// checkDefinition says what is wrong with a recorded definition, "" when
// it is canonical JSON whose hash is sha.
func checkDefinition(sha string, def json.RawMessage) string {
	if !validHash(sha) {
		return "its entry has no valid sha256"
	}
	canon, err := Recanonical(def)
	if err != nil {
		return "its recorded definition cannot be read: " + err.Error()
	}
	if Hash(canon) != sha {
		return "its recorded definition does not match its recorded sha256"
	}
	return ""
}

func validHash(s string) bool {
	return len(s) == 64 && strings.TrimFunc(s, func(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' }) == ""
}

// save writes the record: to a temporary file in the same folder (0600),
// synced, renamed over the record, and the folder synced, so a reader or
// a crash sees the old record or the new one, never a mix.
func (s *Store) save() error {
	if s.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.f, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(s.path, append(b, '\n'))
}

func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // some file systems cannot sync a folder; the data is synced
		d.Close()
	}
	return nil
}

// Definition is one definition of a tool as recorded.
type Definition struct {
	SHA256 string `json:"sha256"`
	// Definition is its canonical JSON (Canonical).
	Definition json.RawMessage `json:"definition"`
	// Since is when it was first seen (a change) or approved (a pin); By
	// says how it was approved.
	Since time.Time `json:"since"`
	By    string    `json:"by,omitempty"`
}

// Event is what a check or an acceptance must put in the audit trail.
type Event struct {
	// Kind is EventPinned, EventChanged or EventAccepted.
	Kind string
	Tool string
	// Before is the approved definition (nil when none is on record),
	// After the upstream's.
	Before, After *Definition
	// What names the parts that changed (Changed).
	What []string
	// By is who accepted (Accepted).
	By string
	// Sentence says what happened, with the hashes, for the record's
	// reason.
	Sentence string
}

// Verdict is the pins' verdict on one published definition.
type Verdict struct {
	// Approved: the definition is the one on record, or one the admin or
	// this account's person accepted.
	Approved bool
	// SHA256 is the published definition's hash.
	SHA256 string
	// Rule (RuleChanged, RuleUnverified), Reason (for `tools --all`:
	// "withheld: definition changed since …") and Sentence (the refusal
	// an AI client gets) say why a definition is withheld.
	Rule, Reason, Sentence string
	// Since is when the withheld definition was first seen; What names
	// what changed.
	Since time.Time
	What  []string
	// Events are what this check must record.
	Events []Event
}

// View is the store as one account's sessions of one upstream see it.
type View struct {
	s            *Store
	scope, owner string
}

// View returns the pins of scope (Scope) as the account owner sees them.
func (s *Store) View(scope, owner string) *View { return &View{s: s, scope: scope, owner: owner} }

// Scope is the upstream the view belongs to.
func (v *View) Scope() string { return v.scope }

// Check judges t, a definition the upstream publishes for a tool the
// policy allows: the first definition seen on this workstation is pinned;
// the pinned one, or one the admin (accepted, the policy's
// AcceptedToolDefinitions) or this account's person accepted, is
// approved; any other is withheld. It never fails open: a definition it
// cannot read or record is withheld.
func (v *View) Check(t *mcp.Tool, accepted []string) Verdict {
	canon, err := Canonical(t)
	if err != nil {
		return unverified(t.Name, "", "its definition cannot be read ("+err.Error()+")")
	}
	return v.check(t.Name, canon, Hash(canon), accepted)
}

func (v *View) check(name string, canon json.RawMessage, hash string, accepted []string) Verdict {
	s := v.s
	s.mu.Lock()
	now := s.opts.Now().UTC()
	var before []byte // the record before this check changed it
	mutate := func() {
		if before == nil {
			before, _ = json.Marshal(s.f)
		}
	}
	up := s.f.upstream(v.scope)
	p := up.Tools[name]
	out := Verdict{SHA256: hash}
	// notify: tell the accounts of whom (every one when "") afterwards.
	notify, whom := false, ""
	switch {
	case p != nil && p.Damaged == "" && p.SHA256 == hash:
		out.Approved = true
		if up.Changes[name] != nil {
			// The upstream went back to the approved definition.
			mutate()
			delete(up.Changes, name)
			notify = true
		}
	case acceptedBy(accepted, name, hash):
		mutate()
		old := p.definition()
		np := &pinned{SHA256: hash, Definition: canon, FirstSeen: now, Since: now, By: ByPolicy}
		if p != nil && !p.FirstSeen.IsZero() {
			np.FirstSeen = p.FirstSeen
		}
		up.Tools[name] = np
		delete(up.Changes, name)
		for owner, acc := range up.Accepted {
			delete(acc, name)
			if len(acc) == 0 {
				delete(up.Accepted, owner)
			}
		}
		out.Approved, notify = true, true
		out.Events = append(out.Events, Event{Kind: EventAccepted, Tool: name, Before: old, After: np.definition(), By: ByPolicy,
			What:     whatChanged(old, canon),
			Sentence: fmt.Sprintf("The changed definition of %s (sha256 %s) was accepted by %s, for every account on this workstation%s.", name, Short(hash), ByPolicy, wasClause(old))})
	case p == nil && s.f.Damaged == nil:
		mutate()
		np := &pinned{SHA256: hash, Definition: canon, FirstSeen: now, Since: now, By: ByFirstUse}
		up.Tools[name] = np
		out.Approved = true
		if s.path != "" {
			out.Events = append(out.Events, Event{Kind: EventPinned, Tool: name, After: np.definition(),
				Sentence: fmt.Sprintf("The definition of %s was seen on this workstation for the first time and pinned (sha256 %s).", name, Short(hash))})
		}
	case up.Accepted[v.owner][name] != nil && up.Accepted[v.owner][name].SHA256 == hash:
		out.Approved = true
	default:
		ch := up.Changes[name]
		if ch == nil || ch.SHA256 != hash {
			mutate()
			ch = &change{SHA256: hash, Definition: canon, Seen: now}
			up.Changes[name] = ch
		}
		old := p.definition()
		out.Since, out.What = ch.Seen, whatChanged(old, canon)
		out.Rule, out.Reason, out.Sentence = withheldWords(name, p, s.f.Damaged, ch.Seen, out.What)
		if !slices.Contains(ch.Noticed, v.owner) {
			mutate()
			ch.Noticed = append(ch.Noticed, v.owner)
			notify, whom = true, v.owner
			out.Events = append(out.Events, Event{Kind: EventChanged, Tool: name, Before: old,
				After: &Definition{SHA256: hash, Definition: canon, Since: ch.Seen}, What: out.What,
				Sentence: changedSentence(name, old, hash, out.What)})
		}
	}
	if before != nil {
		if err := s.save(); err != nil {
			// Not on disk, so not decided: back to the record as it was,
			// and the tool is withheld (a restart must not see a first
			// sight where there was a pin).
			var f file
			if json.Unmarshal(before, &f) == nil {
				s.f = f
			}
			s.mu.Unlock()
			s.opts.Logger.Error("the record of approved tool definitions could not be written", "path", s.path, "err", err)
			return unverified(name, hash, "the Scispot MCP service could not record its definition ("+err.Error()+")")
		}
	}
	s.mu.Unlock()
	if notify {
		s.opts.Changed(whom)
	}
	return out
}

func unverified(name, hash, why string) Verdict {
	return Verdict{SHA256: hash, Rule: RuleUnverified, Reason: "withheld: " + why,
		Sentence: fmt.Sprintf("The tool %q is withheld on this workstation: %s; ask your IT admin to look at the Scispot MCP service's log.", name, why)}
}

func acceptedBy(entries []string, name, hash string) bool {
	return slices.ContainsFunc(entries, func(e string) bool { return Matches(e, name, hash) })
}

func (f *file) upstream(scope string) *upstream {
	if f.Upstreams == nil {
		f.Upstreams = map[string]*upstream{}
	}
	up := f.Upstreams[scope]
	if up == nil {
		up = &upstream{}
		f.Upstreams[scope] = up
	}
	if up.Tools == nil {
		up.Tools = map[string]*pinned{}
	}
	if up.Changes == nil {
		up.Changes = map[string]*change{}
	}
	if up.Accepted == nil {
		up.Accepted = map[string]map[string]*acceptance{}
	}
	return up
}

// definition is the approved definition, nil when none is on record.
func (p *pinned) definition() *Definition {
	if p == nil || p.Damaged != "" {
		return nil
	}
	return &Definition{SHA256: p.SHA256, Definition: p.Definition, Since: p.Since, By: p.By}
}

func whatChanged(old *Definition, canon json.RawMessage) []string {
	if old == nil {
		return nil
	}
	return Changed(old.Definition, canon)
}

func wasClause(old *Definition) string {
	if old == nil {
		return " (no earlier definition was on record)"
	}
	return " (it was sha256 " + Short(old.SHA256) + ")"
}

// Accept records that the person of account owner accepts the definition
// of name that the upstream publishes now, the one whose hash starts with
// hash (at least ShortLen hex digits: what they were shown). It counts for
// that account only. The caller has checked that the person is present.
func (s *Store) Accept(scope, owner, name, hash, by string) (Event, error) {
	hash = strings.ToLower(hash)
	s.mu.Lock()
	up := s.f.Upstreams[scope]
	var ch *change
	if up != nil {
		ch = up.Changes[name]
	}
	switch {
	case ch == nil || (up.Accepted[owner][name] != nil && up.Accepted[owner][name].SHA256 == ch.SHA256):
		s.mu.Unlock()
		return Event{}, ErrNothingToAccept
	case len(hash) < ShortLen || !strings.HasPrefix(ch.SHA256, hash):
		s.mu.Unlock()
		return Event{}, ErrChangedAgain
	}
	before, _ := json.Marshal(s.f)
	if up.Accepted[owner] == nil {
		up.Accepted[owner] = map[string]*acceptance{}
	}
	now := s.opts.Now().UTC()
	up.Accepted[owner][name] = &acceptance{SHA256: ch.SHA256, At: now, By: by}
	if err := s.save(); err != nil {
		var f file
		if json.Unmarshal(before, &f) == nil {
			s.f = f
		}
		s.mu.Unlock()
		return Event{}, fmt.Errorf("recording the acceptance: %w", err)
	}
	old := up.Tools[name].definition()
	ev := Event{Kind: EventAccepted, Tool: name, Before: old,
		After: &Definition{SHA256: ch.SHA256, Definition: ch.Definition, Since: ch.Seen, By: by}, By: by,
		What:     whatChanged(old, ch.Definition),
		Sentence: fmt.Sprintf("The changed definition of %s (sha256 %s) was accepted by %s, for this account%s.", name, Short(ch.SHA256), by, wasClause(old))}
	s.mu.Unlock()
	s.opts.Changed(owner)
	return ev, nil
}

// Change is a definition the upstream publishes that an account has not
// accepted.
type Change struct {
	Tool string
	// Before is the approved definition, nil when none is on record.
	Before *Definition
	After  Definition
	What   []string
	// Rule is RuleChanged, or RuleUnverified when no definition is on
	// record to compare with.
	Rule string
}

// Changes lists, by tool name, the definitions of scope that account
// owner has not accepted.
func (s *Store) Changes(scope, owner string) []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.f.Upstreams[scope]
	if up == nil {
		return nil
	}
	var out []Change
	for _, name := range slices.Sorted(maps.Keys(up.Changes)) {
		ch := up.Changes[name]
		if a := up.Accepted[owner][name]; a != nil && a.SHA256 == ch.SHA256 {
			continue
		}
		old := up.Tools[name].definition()
		c := Change{Tool: name, Before: old, What: whatChanged(old, ch.Definition), Rule: RuleChanged,
			After: Definition{SHA256: ch.SHA256, Definition: bytes.Clone(ch.Definition), Since: ch.Seen}}
		if old == nil {
			c.Rule = RuleUnverified
		} else {
			c.Before.Definition = bytes.Clone(old.Definition)
		}
		out = append(out, c)
	}
	return out
}

// Damaged says whether the record was found damaged and set aside (then
// no tool is pinned on first sight), and why.
func (s *Store) Damaged() *Damage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f.Damaged == nil {
		return nil
	}
	d := *s.f.Damaged
	return &d
}

// withheldWords are the rule, the `tools --all` reason and the refusal
// sentence of a withheld definition.
func withheldWords(name string, p *pinned, damaged *Damage, seen time.Time, what []string) (rule, reason, sentence string) {
	review := fmt.Sprintf("ask the person at this workstation to review it with `scispot-mcp tools accept %s` (or Review tool changes… in the Scispot MCP tray), or your Scispot admin to accept it in the policy's AcceptedToolDefinitions", name)
	date := seen.UTC().Format("2006-01-02")
	if p != nil && p.Damaged == "" {
		changed := ""
		if len(what) > 0 {
			changed = " (" + strings.Join(what, ", ") + ")"
		}
		return RuleChanged,
			fmt.Sprintf("withheld: definition changed since %s%s; review it with `scispot-mcp tools accept %s`", date, changed, name),
			fmt.Sprintf("The tool %q is withheld on this workstation: Scispot changed its definition%s on %s after it was approved here, and a changed definition reaches AI clients only once it is reviewed; %s.", name, changed, date, review)
	}
	why := "no approved definition of it is on record"
	switch {
	case p != nil:
		why += " (its entry in the record was damaged: " + p.Damaged + ")"
	case damaged != nil:
		why += fmt.Sprintf(" (the record of approved tool definitions was found damaged on %s and set aside)", damaged.At.UTC().Format("2006-01-02"))
	}
	return RuleUnverified,
		fmt.Sprintf("withheld: %s; review it with `scispot-mcp tools accept %s`", why, name),
		fmt.Sprintf("The tool %q is withheld on this workstation: %s, so its definition cannot be checked against the approved one; %s.", name, why, review)
}

func changedSentence(name string, old *Definition, hash string, what []string) string {
	if old == nil {
		return fmt.Sprintf("The definition of %s (sha256 %s) is withheld: no approved definition of it is on record to compare with.", name, Short(hash))
	}
	return fmt.Sprintf("Scispot changed the definition of %s (%s): sha256 %s, approved on %s, is now %s; the tool is withheld until the change is accepted.",
		name, strings.Join(what, ", "), Short(old.SHA256), old.Since.UTC().Format("2006-01-02"), Short(hash))
}
