// Command scispot-mcp is Scispot MCP Desktop: the tray app, the local MCP
// gateway that AI clients launch (`scispot-mcp serve`) and the admin CLI.
// Everything lives in package cli; this file only wires the process in.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/quietstart"
)

// Stamped by the linker: -X main.version=… -X main.commit=… -X main.date=…
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	quietstart.Restore()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.SystemEnv(cli.Build{Version: version, Commit: commit, Date: date})
	env.NewApp = newApp()
	code := cli.Run(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}
