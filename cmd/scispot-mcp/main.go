// Command scispot-mcp is Scispot MCP Desktop's command line: the local MCP
// gateway that AI clients launch (`scispot-mcp serve`) and the admin CLI.
// The tray app is scispot-mcp-tray, installed beside it; tray command
// lines (no command, --window, demo) are handed to it. Everything lives in
// package cli; this file only wires the process in.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
)

// Stamped by the linker: -X main.version=… -X main.commit=… -X main.date=…
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	// No stop(): os.Exit ends the process, and stopping signal delivery
	// first costs a killed serve milliseconds it does not have.
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.SystemEnv(cli.Build{Version: version, Commit: commit, Date: date})
	env.Tray = cli.HandOffTray
	code := cli.Run(ctx, os.Args[1:], env)
	os.Exit(code)
}
