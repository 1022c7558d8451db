// Command scispot-mcpd is the Scispot MCP workstation service: it holds
// the policy, the sealed tokens, the guards, the kill switch and the audit
// trail, out of reach of the AI agents that run as the person (see package
// mcpserver/service). The service manager (systemd, launchd, the Windows
// service control manager) starts it with no arguments; `--user-demo`
// starts the unprivileged demo instance that scispot-mcp starts on demand
// where no service is installed.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Stamped by the linker: -X main.version=… -X main.commit=… -X main.date=…
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}
