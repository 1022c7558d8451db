package main

import (
	"context"
	"fmt"

	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/app/validationrun"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// validateRun is the Diagnostics window's "Run validation…": what
// `scispot-mcp validate` does (cli/validate.go), with the operator, the
// folder and the account password from the tray's window instead of
// flags and the terminal.
func validateRun(host *cli.TrayHost, b cli.Build) validationrun.RunFunc {
	return func(ctx context.Context, req validationrun.Request, progress func(int, int, validation.Case)) (validationrun.Result, error) {
		// The system service, as the CLI's validate: a lab qualifies the
		// installation, never this account's demo instance.
		c, err := host.Service(ctx, false)
		if err != nil {
			return validationrun.Result{}, fmt.Errorf("%w: %v", localapi.ErrNoService, err)
		}
		token, tokenErr := host.StoredToken(ctx)
		st, err := c.Status(ctx, localapi.StatusRequest{})
		if err != nil {
			return validationrun.Result{}, fmt.Errorf("asking the Scispot MCP service for its status: %w", err)
		}
		opts := validation.Options{
			Service: c, Version: b.Version, Commit: b.Commit, Operator: req.Operator, Source: "tray",
			Token: token, TokenError: tokenErr,
			SumsFile: validation.DefaultSums, SumsRoot: "/",
			Progress: progress,
		}
		if st.Service.Mode == localapi.ModeSystem {
			// Lifting the kill switch after its OQ case needs the person.
			opts.Password = func() (string, error) { return req.Password(st.User.Name) }
		}
		rep, err := validation.Run(ctx, opts)
		if err != nil {
			return validationrun.Result{}, err
		}
		// A cancelled run's later cases failed because of the
		// cancellation: filing it would record a validation that was not
		// done.
		if err := ctx.Err(); err != nil {
			return validationrun.Result{}, err
		}
		filed, err := validation.File(ctx, c, rep, req.Folder, token, "tray")
		return validationrun.Result{DocID: rep.DocID, Summary: rep.Summary, Files: filed.Files}, err
	}
}
