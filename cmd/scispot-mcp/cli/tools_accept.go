package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

// runToolsAccept is `tools accept NAME`: it shows the definition Scispot
// publishes now beside the one approved on this workstation and, with the
// account password (checked by the service: a process running as the
// person cannot accept for them), accepts exactly the definition shown,
// for this account.
func runToolsAccept(ctx context.Context, env Env, args []string, demo bool) error {
	if len(args) != 1 {
		return usagef("expected one tool name: scispot-mcp tools accept NAME")
	}
	name := args[0]
	c, err := env.service(ctx, demo)
	if err != nil {
		return err
	}
	req := localapi.ToolsRequest{Demo: demo}
	if !demo {
		req.Token, req.TokenError = storedToken(ctx, env)
		req.LocalSecret = localSecret(ctx, env)
	}
	changes, err := c.ToolChanges(ctx, req)
	if err != nil {
		return apiError(err)
	}
	var ch *localapi.ToolChange
	for i := range changes {
		if changes[i].Tool == name {
			ch = &changes[i]
		}
	}
	if ch == nil {
		waiting := make([]string, 0, len(changes))
		for _, c := range changes {
			waiting = append(waiting, c.Tool)
		}
		msg := fmt.Sprintf("Scispot's definition of %q has not changed since it was approved for you on this workstation: there is nothing to accept", oneLine(name))
		if len(waiting) > 0 {
			msg += " (waiting: " + strings.Join(waiting, ", ") + ")"
		}
		return fmt.Errorf("%s.", msg)
	}
	printToolChange(env, *ch)
	st, err := c.Status(ctx, localapi.StatusRequest{})
	if err != nil {
		return apiError(err)
	}
	password := ""
	if st.Service.Mode == localapi.ModeSystem {
		if password, err = readPassword(env, st.User.Name); err != nil {
			return err
		}
	}
	err = c.AcceptTool(ctx, localapi.AcceptToolRequest{Demo: demo, Tool: name, SHA256: ch.New.SHA256, Password: password, Source: control.SourceCLI})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stdout, "The new definition of %s (sha256 %s) is accepted for %s on this workstation; AI clients are told their tool list changed and see it again.\n",
		name, pin.Short(ch.New.SHA256), st.User.Name)
	return nil
}

// printToolChange shows a change as a reviewer needs it: when, what, both
// hashes, the lines that differ, and what accepting it means.
func printToolChange(env Env, ch localapi.ToolChange) {
	w := env.Stdout
	day := func(d localapi.ToolDefinition) string { return d.Since.Local().Format("2006-01-02 15:04") }
	if ch.Old == nil {
		fmt.Fprintf(w, "No approved definition of %s is on record to compare with (the record was damaged); this is the definition Scispot publishes now:\n\n", pin.Printable(ch.Tool))
		fmt.Fprintln(w, pin.Pretty(ch.New.Definition))
	} else {
		fmt.Fprintf(w, "Scispot changed the definition of %s (%s).\n", pin.Printable(ch.Tool), pin.Printable(strings.Join(ch.What, ", ")))
		fmt.Fprintf(w, "  approved  sha256 %s, %s, %s\n", pin.Short(ch.Old.SHA256), day(*ch.Old), ch.Old.By)
		fmt.Fprintf(w, "  new       sha256 %s, first seen %s (withheld from AI clients)\n\n", pin.Short(ch.New.SHA256), day(ch.New))
		fmt.Fprintln(w, "--- approved")
		fmt.Fprintln(w, "+++ new")
		fmt.Fprint(w, pin.String(pin.Diff(pin.Pretty(ch.Old.Definition), pin.Pretty(ch.New.Definition))))
	}
	fmt.Fprintf(w, "\nAccepting it lets your AI clients use %s as defined above; other accounts on this workstation are not affected. Your Scispot admin can accept it for everyone with the policy's AcceptedToolDefinitions entry %q.\n",
		pin.Printable(ch.Tool), ch.PolicyEntry)
}
