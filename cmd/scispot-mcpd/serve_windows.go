package main

import (
	"context"
	"net"

	"golang.org/x/sys/windows/svc"

	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// serviceName is the name the MSI installs the service under.
const serviceName = "ScispotMCP"

// serveService runs under the service control manager when it started us,
// in the foreground otherwise (a console, the tests).
func serveService(ctx context.Context, s *service.Service, ln net.Listener) error {
	inService, err := svc.IsWindowsService()
	if err != nil || !inService {
		return s.Serve(ctx, ln)
	}
	return svc.Run(serviceName, &handler{ctx: ctx, s: s, ln: ln})
}

type handler struct {
	ctx context.Context
	s   *service.Service
	ln  net.Listener
}

func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.s.Serve(ctx, h.ln) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				return false, 0
			}
		case err := <-done:
			if err != nil {
				return true, 1
			}
			return false, 0
		}
	}
}
