package clients

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/keychain"
)

// Options adjust Apply and Migrate.
type Options struct {
	// Executable is the absolute path of scispot-mcp that the entry
	// launches (see Executable). On this machine it is resolved through
	// symbolic links and must exist. Not needed for Remove.
	Executable string
	// Demo adds "--demo" to the entry's args: the built-in demo workspace.
	Demo bool
	// DryRun computes the change and its diff without writing anything.
	DryRun bool
	// Remove takes this app's entry out instead of writing it.
	Remove bool
	// Now is the clock for backup names and the state record; nil means
	// time.Now.
	Now func() time.Time
	// StateFile, if set, is where Apply remembers what it wrote (for
	// example <state>/clients.json), so Status can report Removed.
	StateFile string
	// Record, if set, is called after every write to a client config, for
	// the "setup.write" audit record. It is never called for a dry run or
	// when nothing changed, and its Change never carries a token or a
	// diff. An error from it is returned after the write.
	Record func(ctx context.Context, c Change) error
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Action names what a Change does.
type Action string

// Actions.
const (
	ActionNone    Action = "none"    // the file already said so
	ActionAdd     Action = "add"     // the entry was added
	ActionUpdate  Action = "update"  // an existing entry was replaced
	ActionRemove  Action = "remove"  // the entry was removed
	ActionMigrate Action = "migrate" // a plaintext-token entry became the gateway entry
)

// Change is what Apply or Migrate did to one client's config, for the
// person (Note), the audit trail (Record) and the CLI (Diff in a dry run).
type Change struct {
	Client string // client ID
	Path   string // the config file, in Env.GOOS's syntax
	// Target is the file actually written when Path is a symbolic link.
	Target  string
	Action  Action
	Changed bool // false: nothing was (or, in a dry run, would be) written
	DryRun  bool
	// Diff is a unified diff of the change, in a dry run only. For a
	// migration the token in it is replaced by its fingerprint.
	Diff string
	// Backup is the copy of the old file kept beside it, if any.
	Backup string
	// Note is plain sentences for the person: what to do next (restart the
	// client) and anything unusual (a token kept, a backup not made).
	Note string
	// TokenFingerprint is set by Migrate: the fingerprint of the token it
	// moved (never the token).
	TokenFingerprint string
}

// Apply writes this app's gateway entry into the client's config (or
// removes it with opts.Remove), keeping everything else in the file as it
// was; see package configfile for how files are edited. A "scispot" entry
// that holds a plaintext token is left alone with ErrPlaintextToken: Scan
// and Migrate move the token to the keychain first.
func Apply(ctx context.Context, c Client, env Env, opts Options) (Change, error) {
	path, err := ConfigPath(c, env)
	if err != nil {
		return Change{Client: c.ID}, err
	}
	ch := Change{Client: c.ID, Path: path, Action: ActionNone, DryRun: opts.DryRun}

	var exe string
	edit := configfile.Edit{Path: entryPath(c)}
	if !opts.Remove {
		if exe, err = checkExecutable(env, opts.Executable); err != nil {
			return ch, err
		}
		edit.Value = entry(c, env, exe, opts.Demo)
	}

	existed, err := guardEntry(env, c, path)
	if err != nil {
		return ch, err
	}

	res, err := configfile.Apply(ctx, env.host(path), []configfile.Edit{edit}, configfile.Options{
		DryRun:     opts.DryRun,
		CreateDirs: !opts.Remove,
		Now:        opts.Now,
	})
	ch.fill(env, path, res)
	if err != nil {
		return ch, fmt.Errorf("setting up %s: %w", c.Name, err)
	}
	if !res.Changed {
		if opts.Remove {
			ch.Note = fmt.Sprintf("%s has no %q entry; nothing to remove.", c.Name, EntryName)
		} else {
			ch.Note = fmt.Sprintf("%s is already set up; nothing changed.", c.Name)
		}
		return ch, nil
	}
	switch {
	case opts.Remove:
		ch.Action = ActionRemove
	case existed:
		ch.Action = ActionUpdate
	default:
		ch.Action = ActionAdd
	}
	ch.Note = c.Restart
	if opts.DryRun {
		ch.Note = "Dry run: nothing was written. " + ch.Note
		return ch, nil
	}

	var rec *record
	if !opts.Remove {
		rec = &record{Path: path, Command: exe, Args: args(opts.Demo), Written: opts.now().UTC()}
	}
	if err := writeRecord(ctx, opts.StateFile, c.ID, rec); err != nil {
		return ch, err
	}
	return ch, audit(ctx, opts, ch)
}

// guardEntry reports whether the client's config already has our entry,
// and refuses when that entry holds a plaintext token.
func guardEntry(env Env, c Client, path string) (existed bool, err error) {
	content, err := configfile.Read(env.host(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("setting up %s: %w", c.Name, err)
	}
	if hit, ok := entryHasToken(content, entryPath(c)); ok {
		return true, fmt.Errorf("%s: the %q entry holds a %w (fingerprint %s, in %s) — run \"scispot-mcp setup %s --migrate\" to move it into the keychain first",
			path, EntryName, ErrPlaintextToken, keychain.Fingerprint(hit.token), hit.where, c.ID)
	}
	root, _ := decodeObject(content)
	servers, _ := root[c.Key].(map[string]any)
	_, existed = servers[EntryName]
	return existed, nil
}

// fill copies what configfile reports into the change.
func (ch *Change) fill(env Env, path string, res configfile.Result) {
	ch.Changed = res.Changed
	ch.Diff = res.Diff
	ch.Backup = res.Backup
	if res.Path != "" && res.Path != env.host(path) {
		ch.Target = res.Path
	}
}

// audit hands a written change to the audit hook, without the diff.
func audit(ctx context.Context, opts Options, ch Change) error {
	if opts.Record == nil || !ch.Changed || ch.DryRun {
		return nil
	}
	ch.Diff = ""
	if err := opts.Record(ctx, ch); err != nil {
		return fmt.Errorf("recording the change to %s in the audit trail: %w", ch.Path, err)
	}
	return nil
}
