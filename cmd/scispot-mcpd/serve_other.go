//go:build !windows

package main

import (
	"context"
	"net"

	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// serveService runs in the foreground, as systemd and launchd expect.
func serveService(ctx context.Context, svc *service.Service, ln net.Listener) error {
	return svc.Serve(ctx, ln)
}
