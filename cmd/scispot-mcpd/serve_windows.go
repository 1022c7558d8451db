package main

import (
	"context"
	"net"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

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
	setRecovery()
	return svc.Run(serviceName, &handler{ctx: ctx, s: s, ln: ln})
}

// setRecovery has the service control manager restart the service after a
// crash, as systemd's Restart=on-failure and launchd's KeepAlive do: while
// it is down AI access is refused, so it must come back. The MSI (wixl)
// cannot write recovery actions, so the service sets them when none are
// set; failing to is not a reason not to run.
func setRecovery() {
	m, err := mgr.Connect()
	if err != nil {
		return
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return
	}
	defer s.Close()
	// An admin's own recovery actions stay.
	if have, err := s.RecoveryActions(); err != nil || len(have) > 0 {
		return
	}
	_ = s.SetRecoveryActions([]mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: time.Second},
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
	}, uint32((24 * time.Hour).Seconds()))
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
