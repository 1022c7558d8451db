// Command scispot-mcp-tray is Scispot MCP Desktop's tray app: the activity
// view, the kill switch button, client setup, the token window and write
// confirmations. It is the only program that loads the GUI toolkit (Fyne,
// cgo); scispot-mcp hands tray command lines to it. It also runs every
// scispot-mcp command, so either binary answers `status` or `kill`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/scispot/mcp-desktop/cmd/scispot-mcp-tray/quietstart"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
)

// Stamped by the linker: -X main.version=… -X main.commit=… -X main.date=…
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	quietstart.Restore()
	// No stop(): os.Exit ends the process and the signal handling with it.
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := cli.SystemEnv(cli.Build{Version: version, Commit: commit, Date: date})
	env.Tray = runTray
	var reportFailure func(code int)
	env.Stderr, reportFailure = errorOutput()
	code := cli.Run(ctx, os.Args[1:], env)
	reportFailure(code)
	os.Exit(code)
}
