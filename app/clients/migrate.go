package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
)

// Migrate moves the plaintext token of a Finding (from Scan) into the
// keychain and replaces the entry that held it with this app's gateway
// entry:
//
//   - The token is stored as keychain.AccountToken unless a token is
//     already stored; then the stored one is kept and the Note says which
//     fingerprint was kept. A keychain that cannot be read or written stops
//     the migration before the file is touched, so the token is never lost.
//   - The old entry is removed (whatever its name) and the "scispot" gateway
//     entry is written; both in one locked, atomic write.
//   - No copy of the token is left: no backup is made of the file (it would
//     hold the token), and older Scispot backups beside it that hold the
//     token are deleted. If the token still appears elsewhere in the file,
//     the error matches ErrTokenRemains and says on which line.
//
// A finding in Claude Desktop's classic Windows file while the Store app
// reads another one is removed there, and the gateway entry goes into the
// file the app reads. In a dry run nothing is stored or written and the
// diff shows the token as its fingerprint.
func Migrate(ctx context.Context, f Finding, env Env, kc keychain.Store, opts Options) (Change, error) {
	ch := Change{Client: f.Client, Path: f.Path, Action: ActionNone, DryRun: opts.DryRun, TokenFingerprint: f.Fingerprint}
	token := ""
	switch {
	case f.secret != nil && f.secret.token != "":
		token = f.secret.token
	case !f.direct:
		return ch, fmt.Errorf("migrating %s: %w (use the findings from Scan)", f.Path, ErrNoToken)
	}
	c, err := Lookup(f.Client)
	if err != nil {
		return ch, err
	}
	active, err := ConfigPath(c, env)
	if err != nil {
		return ch, err
	}
	exe, err := checkExecutable(env, opts.Executable)
	if err != nil {
		return ch, err
	}

	// The keychain first: if it fails, the file keeps the token.
	var notes []string
	stored, err := kc.Get(ctx, keychain.AccountToken)
	switch {
	case token == "":
		// A direct entry without a token: only the entry changes.
	case err == nil && stored == token:
		notes = append(notes, fmt.Sprintf("The keychain already holds this token (fingerprint %s).", f.Fingerprint))
	case err == nil && seal.IsSealed(stored):
		// Sealed to the service: only the service can tell its fingerprint.
		notes = append(notes, fmt.Sprintf("The keychain already holds a token sealed to the Scispot MCP service; it was kept. The plaintext token (fingerprint %s) was not stored — save it in the tray's token window (or run \"scispot-mcp token set\") if it is the one to use.",
			f.Fingerprint))
	case err == nil:
		notes = append(notes, fmt.Sprintf("The keychain already holds a token (fingerprint %s); it was kept. The plaintext token (fingerprint %s) was not stored — run \"scispot-mcp token set\" if it is the one to use.",
			keychain.Fingerprint(stored), f.Fingerprint))
	case errors.Is(err, keychain.ErrNotFound):
		if !opts.DryRun {
			if err := kc.Set(ctx, keychain.AccountToken, token); err != nil {
				return ch, fmt.Errorf("migrating the token in %s: %w; the file was left unchanged", f.Path, err)
			}
		}
		notes = append(notes, fmt.Sprintf("The token (fingerprint %s) is now in the keychain.", f.Fingerprint))
	default:
		return ch, fmt.Errorf("migrating the token in %s: %w; the file was left unchanged", f.Path, err)
	}

	gateway := entryPath(c)
	var edits []configfile.Edit
	if !slices.Equal(f.entryPath, gateway) {
		edits = append(edits, configfile.Edit{Path: f.entryPath})
	}
	if f.Path == active {
		edits = append(edits, configfile.Edit{Path: gateway, Value: entry(c, env, exe, opts.Demo)})
	} else if len(edits) == 0 {
		edits = append(edits, configfile.Edit{Path: gateway}) // the old file gets no gateway entry
	}

	res, err := configfile.Apply(ctx, env.host(f.Path), edits, configfile.Options{DryRun: opts.DryRun, NoBackup: true})
	ch.fill(env, f.Path, res)
	if token != "" {
		ch.Diff = redact(ch.Diff, token, f.Fingerprint)
	}
	if err != nil {
		return ch, fmt.Errorf("migrating the token in %s: %w", f.Path, err)
	}
	if res.Changed {
		ch.Action = ActionMigrate
		if token != "" {
			notes = append(notes, fmt.Sprintf("The %q entry was replaced by the %q gateway entry; no backup of %s was kept because it would hold the token.", f.Entry, EntryName, f.Path))
		} else {
			notes = append(notes, fmt.Sprintf("The %q entry, which reached Scispot without the gateway, was replaced by the %q gateway entry.", f.Entry, EntryName))
		}
	}

	if !opts.DryRun && token != "" {
		if n, err := purgeBackups(env.host(f.Path), token); err != nil {
			return ch, err
		} else if n > 0 {
			notes = append(notes, fmt.Sprintf("Deleted %d older backup(s) of %s that held the token.", n, f.Path))
		}
		if err := tokenGone(env.host(f.Path), token, f); err != nil {
			ch.Note = strings.Join(notes, " ")
			return ch, err
		}
	}

	if f.Path != active {
		sub := opts
		sub.Record = nil // recorded below as one change
		applied, err := Apply(ctx, c, env, sub)
		if err != nil {
			ch.Note = strings.Join(notes, " ")
			return ch, err
		}
		if applied.Changed {
			ch.Changed = true
			ch.Action = ActionMigrate
			notes = append(notes, fmt.Sprintf("The gateway entry was written to %s, the file %s reads.", applied.Path, c.Name))
			if token != "" {
				applied.Diff = redact(applied.Diff, token, f.Fingerprint)
			}
			ch.Diff += applied.Diff
		}
	}

	if opts.DryRun {
		notes = append([]string{"Dry run: nothing was stored or written."}, notes...)
	}
	if ch.Changed {
		notes = append(notes, c.Restart)
	}
	ch.Note = strings.Join(notes, " ")
	if !ch.Changed || opts.DryRun {
		return ch, nil
	}
	rec := &record{Path: active, Command: exe, Args: args(opts.Demo), Written: opts.now().UTC()}
	if err := writeRecord(ctx, opts.StateFile, c.ID, rec); err != nil {
		return ch, err
	}
	return ch, audit(ctx, opts, ch)
}

// tokenForms are the ways a token can be spelled in a JSON file.
func tokenForms(token string) [][]byte {
	forms := [][]byte{[]byte(token)}
	if b, err := json.Marshal(token); err == nil {
		if esc := b[1 : len(b)-1]; !bytes.Equal(esc, forms[0]) {
			forms = append(forms, esc)
		}
	}
	return forms
}

func containsToken(content []byte, token string) int {
	for _, form := range tokenForms(token) {
		if i := bytes.Index(content, form); i >= 0 {
			return i
		}
	}
	return -1
}

// redact replaces the token in a diff by its fingerprint.
func redact(diff, token, fingerprint string) string {
	for _, form := range tokenForms(token) {
		diff = strings.ReplaceAll(diff, string(form), "[token "+fingerprint+"]")
	}
	return diff
}

// purgeBackups deletes the backups of path that contain the token.
func purgeBackups(path, token string) (int, error) {
	backups, err := configfile.Backups(path)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, b := range backups {
		content, err := os.ReadFile(b)
		if err != nil {
			return n, fmt.Errorf("checking the backup %s for the token: %w", b, err)
		}
		if containsToken(content, token) < 0 {
			continue
		}
		if err := os.Remove(b); err != nil {
			return n, fmt.Errorf("deleting the backup %s, which holds the token: %w", b, err)
		}
		n++
	}
	return n, nil
}

// tokenGone checks that the file no longer holds the token.
func tokenGone(path, token string, f Finding) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("checking %s for the token: %w", path, err)
	}
	i := containsToken(content, token)
	if i < 0 {
		return nil
	}
	line := 1 + bytes.Count(content[:i], []byte("\n"))
	return fmt.Errorf("%s:%d: %w (fingerprint %s) outside the migrated entry — remove it by hand", f.Path, line, ErrTokenRemains, f.Fingerprint)
}
