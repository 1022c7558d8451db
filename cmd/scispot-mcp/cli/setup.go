package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// sealStored replaces a plain token in the keychain (one a migration just
// moved there) with its form sealed to the service.
func sealStored(ctx context.Context, env Env) {
	stored, err := env.Keychain.Get(ctx, keychain.AccountToken)
	if err != nil {
		return
	}
	if svc, err := env.service(ctx, false); err == nil {
		if info, err := svc.TokenStatus(ctx, stored); err == nil {
			resealed(ctx, env, info.Sealed)
		}
	}
}

const setupUsage = "setup CLIENT [--demo] [--remove] [--dry-run] [--migrate]   (CLIENT: claude-desktop, cursor, claude-code, vscode, windsurf, all)"

func runSetup(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "setup", setupUsage)
	useDemo := fs.Bool("demo", false, "launch the built-in demo workspace (serve --demo)")
	remove := fs.Bool("remove", false, "remove this app's entry instead of writing it")
	dryRun := fs.Bool("dry-run", false, "print the change as a unified diff and write nothing")
	migrate := fs.Bool("migrate", false, "replace client config entries that reach Scispot directly (or hold a plaintext token) with the gateway, moving the token into the keychain")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("name one client, or all")
	}
	cenv := clients.FromOS()
	var targets []clients.Client
	if pos[0] == "all" {
		for _, c := range clients.All() {
			if clients.Installed(c, cenv) {
				targets = append(targets, c)
			}
		}
		if len(targets) == 0 {
			fmt.Fprintln(env.Stdout, "No AI client was found on this workstation (no config folder for Claude Desktop, Cursor, Claude Code, VS Code or Windsurf).")
			return nil
		}
	} else {
		c, err := clients.Lookup(pos[0])
		if err != nil {
			return usagef("unknown client %q", pos[0])
		}
		targets = []clients.Client{c}
	}
	state, err := env.stateDir()
	if err != nil {
		return err
	}
	opts := clients.Options{
		Demo:      *useDemo,
		DryRun:    *dryRun,
		Remove:    *remove,
		StateFile: filepath.Join(state, "clients.json"),
		Record: func(ctx context.Context, c clients.Change) error {
			svc, err := env.service(ctx, true)
			if err != nil {
				return err
			}
			return apiError(svc.Record(ctx, localapi.RecordRequest{
				Event: audit.EventSetupWrite, Tool: c.Client,
				Reason: fmt.Sprintf("%s %s", c.Action, c.Path), Token: c.TokenFingerprint,
			}))
		},
	}
	if !*remove {
		if opts.Executable, err = env.cliExecutable(); err != nil {
			return fmt.Errorf("finding this program's path for the client configs: %w", err)
		}
	}

	findings, scanErr := clients.Scan(ctx, cenv)
	if scanErr != nil {
		fmt.Fprintf(env.Stderr, "Some client configs could not be checked for plaintext tokens: %v\n", scanErr)
	}
	selected := map[string]bool{}
	for _, c := range targets {
		selected[c.ID] = true
	}
	migrated := map[string]bool{}
	failed := 0
	reported := map[string]bool{}
	for _, f := range findings {
		if !selected[f.Client] {
			continue
		}
		reported[f.Path+"\x00"+f.Entry] = true
		fmt.Fprintf(env.Stdout, "Plaintext Scispot token (fingerprint %s) in %s, entry %q (%s %s).\n", f.Fingerprint, f.Path, f.Entry, f.Where, f.Key)
		if !*migrate {
			fmt.Fprintln(env.Stdout, "  Run the same command with --migrate to move it into the OS keychain and replace the entry with the gateway.")
			continue
		}
		ch, err := clients.Migrate(ctx, f, cenv, env.Keychain, opts)
		if err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "  Not migrated: %v\n", err)
			continue
		}
		migrated[f.Client] = true
		sealStored(ctx, env)
		printChange(env, ch)
	}
	directMigrated, directFailed := setupDirect(ctx, env, selected, reported, *migrate, opts)
	failed += directFailed
	for id := range directMigrated {
		migrated[id] = true
	}
	for _, c := range targets {
		ch, err := clients.Apply(ctx, c, cenv, opts)
		if err != nil {
			failed++
			if errors.Is(err, clients.ErrPlaintextToken) {
				fmt.Fprintf(env.Stderr, "%s: left alone: its scispot entry holds a plaintext token; run `scispot-mcp setup %s --migrate`.\n", c.Name, c.ID)
				continue
			}
			fmt.Fprintf(env.Stderr, "%s: %v\n", c.Name, err)
			continue
		}
		if !ch.Changed && migrated[c.ID] {
			continue
		}
		printChange(env, ch)
	}
	if failed > 0 {
		return fmt.Errorf("%d client config(s) were not changed; see above", failed)
	}
	return nil
}

func printChange(env Env, ch clients.Change) {
	name := ch.Client
	if c, err := clients.Lookup(ch.Client); err == nil {
		name = c.Name
	}
	switch {
	case ch.DryRun && ch.Changed:
		fmt.Fprintf(env.Stdout, "%s: would %s %s:\n%s", name, ch.Action, ch.Path, ch.Diff)
		if !strings.HasSuffix(ch.Diff, "\n") {
			fmt.Fprintln(env.Stdout)
		}
	case !ch.Changed:
		fmt.Fprintf(env.Stdout, "%s: %s already as wanted; nothing changed.\n", name, ch.Path)
		return
	default:
		fmt.Fprintf(env.Stdout, "%s: %s %s", name, ch.Action, ch.Path)
		if ch.Backup != "" {
			fmt.Fprintf(env.Stdout, " (previous version kept as %s)", filepath.Base(ch.Backup))
		}
		fmt.Fprintln(env.Stdout, ".")
	}
	if ch.Note != "" && !ch.DryRun {
		fmt.Fprintf(env.Stdout, "  %s\n", ch.Note)
	}
}
