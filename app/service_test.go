package app_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// TestReconnect: calls fail with ErrNotRunning while nothing answers,
// work once the service is there, and find it again after a restart.
func TestReconnect(t *testing.T) {
	ctx := context.Background()
	var svc atomic.Pointer[apptest.Service]
	var dials atomic.Int32
	down := errors.New("the Scispot MCP service (scispot-mcpd) is not running on this workstation")
	s := app.Reconnect(func(context.Context) (app.Service, error) {
		dials.Add(1)
		if p := svc.Load(); p != nil {
			return p.Client, nil
		}
		return nil, down
	}, nil)

	_, err := s.Status(ctx, localapi.StatusRequest{})
	if !errors.Is(err, app.ErrNotRunning) || !app.Unreachable(err) || err.Error() != down.Error() {
		t.Fatalf("without a service: %v", err)
	}
	first := apptest.NewService(t, apptest.ServiceOptions{})
	svc.Store(first)
	if _, err := s.Status(ctx, localapi.StatusRequest{}); err != nil {
		t.Fatalf("with a service: %v", err)
	}
	if _, err := s.Status(ctx, localapi.StatusRequest{}); err != nil || dials.Load() != 2 {
		t.Fatalf("second call: %v, %d dials", err, dials.Load())
	}
	// A refusal of the service is no reason to reconnect.
	if err := s.StopSession(ctx, "nope"); err == nil || app.Unreachable(err) || dials.Load() != 2 {
		t.Fatalf("StopSession of nothing: %v, %d dials", err, dials.Load())
	}

	first.Stop(t)
	if _, err := s.Status(ctx, localapi.StatusRequest{}); !app.Unreachable(err) {
		t.Fatalf("after the service stopped: %v", err)
	}
	svc.Store(apptest.NewService(t, apptest.ServiceOptions{Mode: localapi.ModeUserDemo}))
	st, err := s.Status(ctx, localapi.StatusRequest{})
	if err != nil || st.Service.Mode != localapi.ModeUserDemo || dials.Load() != 3 {
		t.Fatalf("after the restart: %+v, %v, %d dials", st.Service, err, dials.Load())
	}
}

// TestFollow: a stream that ends (the service restarted) is opened again
// with Connected; the outage is reported once.
func TestFollow(t *testing.T) {
	first := apptest.NewService(t, apptest.ServiceOptions{})
	connected := make(chan struct{}, 4)
	downs := make(chan error, 4)
	events := make(chan localapi.Event, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.Follow(ctx, first.Client, app.Follower{
			Connected: func(context.Context) { connected <- struct{}{} },
			Event:     func(_ context.Context, e localapi.Event) { events <- e },
			Down:      func(err error) { downs <- err },
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-connected
	if err := first.Kill(context.Background(), localapi.KillRequest{Source: "tray"}); err != nil {
		t.Fatal(err)
	}
	for e := range events {
		if e.Kind == localapi.EventStatus {
			break
		}
	}
	first.Stop(t)
	if err := <-downs; !app.Unreachable(err) {
		t.Errorf("Down(%v)", err)
	}
	apptest.NewService(t, apptest.ServiceOptions{Socket: first.Socket})
	<-connected
	if len(downs) != 0 {
		t.Errorf("%d more outages", len(downs))
	}
}

// TestStatusRequest: the keychain's item goes to the system service only;
// another service is asked without it.
func TestStatusRequest(t *testing.T) {
	ctx := context.Background()
	kc := keychain.NewMemory()
	if req := app.StatusRequestFor(ctx, kc, false); req != (localapi.StatusRequest{}) {
		t.Errorf("no token: %+v", req)
	}
	kc.Set(ctx, keychain.AccountToken, "scispot-sealed:v1:abc")
	if req := app.StatusRequestFor(ctx, kc, false); req.Token != "scispot-sealed:v1:abc" {
		t.Errorf("token: %+v", req)
	}
	if req := app.StatusRequestFor(ctx, kc, true); req != (localapi.StatusRequest{}) {
		t.Errorf("the demo sends %+v", req)
	}
	kc.FailWith(keychain.ErrLocked)
	if req := app.StatusRequestFor(ctx, kc, false); req.Token != "" || req.TokenError == "" {
		t.Errorf("locked keychain: %+v", req)
	}

	svc := apptest.NewService(t, apptest.ServiceOptions{})
	notRoot := &localapi.Client{Socket: svc.Socket, Dial: svc.Dial,
		Identity: func(net.Conn) (peercred.Cred, error) { return peercred.Cred{UID: 1000, Account: "mallory"}, nil }}
	st, err := app.ReadStatus(ctx, notRoot, localapi.StatusRequest{Token: "scispot-sealed:v1:abc"})
	if err != nil || !strings.Contains(st.Token.Error, "not sent") {
		t.Errorf("status from a service that is not the system's: %+v, %v", st.Token, err)
	}
}
