package cli

import (
	"context"
	"fmt"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// directConnections are the client config entries that reach Scispot
// without the gateway (never nil, so JSON shows []). A file that cannot
// be read is said on stderr; the others are still checked.
func directConnections(ctx context.Context, env Env, st localapi.Status) []clients.Direct {
	found, err := clients.FindDirect(ctx, clients.FromOS(), clients.DirectOptions{Hosts: clients.UpstreamHost(st.Policy.Effective)})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Some client configs could not be checked for direct Scispot connections: %v\n", err)
	}
	if found == nil {
		found = []clients.Direct{}
	}
	return found
}

func printDirect(env Env, found []clients.Direct) {
	for _, d := range found {
		fmt.Fprintf(env.Stdout, "  ✗ direct entry     %s — %s\n", d, d.Remedy())
	}
}

// serviceHosts asks the service for the policy's upstream host; without a
// service only mcp.scispot.io counts.
func serviceHosts(ctx context.Context, env Env) []string {
	c, err := env.service(ctx, false)
	if err != nil {
		return nil
	}
	st, err := c.Status(ctx, localapi.StatusRequest{})
	if err != nil {
		return nil
	}
	return clients.UpstreamHost(st.Policy.Effective)
}

// setupDirect reports (and with migrate, replaces) the direct Scispot
// entries of the selected clients, after the plaintext-token migrations.
// skip names entries already reported by those (file and entry name).
func setupDirect(ctx context.Context, env Env, selected map[string]bool, skip map[string]bool, migrate bool, opts clients.Options) (migrated map[string]bool, failed int) {
	migrated = map[string]bool{}
	cenv := clients.FromOS()
	found, err := clients.FindDirect(ctx, cenv, clients.DirectOptions{Hosts: serviceHosts(ctx, env)})
	if err != nil {
		fmt.Fprintf(env.Stderr, "Some client configs could not be checked for direct Scispot connections: %v\n", err)
	}
	for _, d := range found {
		if !selected[d.Client] || skip[d.File+"\x00"+d.Entry] {
			continue
		}
		fmt.Fprintf(env.Stdout, "Direct Scispot connection (%s): %s.\n", d.Kind, d)
	}
	if !migrate {
		for _, d := range clients.Migratable(found) {
			if selected[d.Client] && !skip[d.File+"\x00"+d.Entry] {
				fmt.Fprintln(env.Stdout, "  Run the same command with --migrate to replace direct entries with the gateway (a token in them goes into the OS keychain).")
				break
			}
		}
		return migrated, 0
	}
	for _, d := range found {
		if selected[d.Client] && d.Machine {
			fmt.Fprintf(env.Stderr, "  Not migrated: %s is a machine-level file; ask your administrator.\n", d.File)
		}
	}
	for _, d := range clients.Migratable(found) {
		if !selected[d.Client] {
			continue
		}
		ch, err := clients.MigrateDirect(ctx, d, cenv, env.Keychain, opts)
		if err != nil {
			failed++
			fmt.Fprintf(env.Stderr, "  Not migrated: %v\n", err)
			continue
		}
		migrated[d.Client] = true
		sealStored(ctx, env)
		printChange(env, ch)
	}
	return migrated, failed
}
