package apptest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	validationreport "github.com/scispot/mcp-desktop/app/validation/report"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/osauth"
	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/service"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Password is the account password the test service accepts; any other
// is wrong.
const Password = "right"

// ServiceOptions describe a test service; the zero value is a system
// service with the default policy.
type ServiceOptions struct {
	// Mode is localapi.ModeSystem (when empty) or localapi.ModeUserDemo.
	Mode string
	// Policy are the admin's policy stores; nil means the defaults.
	Policy []policy.Store
	// Enroll checks enrollment; nil means not checked.
	Enroll func(ctx context.Context, managedBy string) (enroll.Result, error)
	// Upstream tunes the service's upstream client (timeouts).
	Upstream *upstream.Options
	// Socket is where to listen; empty means a new socket of its own. A
	// second service on the socket of a stopped one is that service
	// restarted.
	Socket string
}

// Service is a real workstation service (scispot-mcpd's package service)
// running in the test's process on a socket of its own, and a client of
// it. It stops when the test ends.
type Service struct {
	// Client talks to it. Identity is nil: a test service does not run as
	// root, and the client must still send it passwords and tokens.
	*localapi.Client
	// StateDir is the service's state folder.
	StateDir string

	cancel context.CancelFunc
	done   chan error
}

// NewService starts a service for the test.
func NewService(t testing.TB, o ServiceOptions) *Service {
	t.Helper()
	if o.Mode == "" {
		o.Mode = localapi.ModeSystem
	}
	// Socket paths are limited to about 100 bytes: keep it short, not
	// under the test's (long) temporary folder.
	sock := o.Socket
	if sock == "" {
		sockDir, err := os.MkdirTemp("", "sst")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(sockDir) })
		sock = filepath.Join(sockDir, "s.sock")
	}
	// Not t.TempDir: a session's last records may still be landing when
	// the service has stopped, and removing the folder is best effort.
	state, err := os.MkdirTemp("", "sst-state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 100 {
			if os.RemoveAll(state) == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	svc, err := service.New(service.Config{
		Mode:     o.Mode,
		Socket:   sock,
		StateDir: state,
		Policy:   o.Policy,
		Enroll:   o.Enroll,
		DeviceID: "test-device",
		Version:  "test",
		Identity: peercred.Get,
		CheckPassword: func(_ context.Context, _, pw string) error {
			if pw == Password {
				return nil
			}
			return osauth.ErrWrongPassword
		},
		Upstream:   o.Upstream,
		FileReport: validationreport.Filer("", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localsock.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		Client:   &localapi.Client{Socket: sock, Dial: localsock.Dial, Approves: true},
		StateDir: state,
		cancel:   cancel,
		done:     make(chan error, 1),
	}
	go func() { s.done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop ends the service (its sessions end, its socket goes away), as a
// restart or a crash would for the tray. Stopping twice is fine.
func (s *Service) Stop(t testing.TB) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("test service: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the test service did not stop")
	}
}

// OpenDemoSession opens an MCP session on the demo workspace through the
// service, as `scispot-mcp serve --demo` does for an AI client named
// client. It closes when the test ends.
func (s *Service) OpenDemoSession(t testing.TB, client string) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := s.OpenMCP(ctx, localapi.MCPOptions{Demo: true, Transport: "stdio"})
	if err != nil {
		t.Fatalf("opening an MCP session: %v", err)
	}
	cl := mcp.NewClient(&mcp.Implementation{Name: client, Version: "1.0"}, nil)
	cs, err := cl.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		t.Fatalf("MCP handshake: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// Eventually waits for cond, which other goroutines make true, for up to
// 20 s.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// MustStatus is the account's status, failing the test if it cannot be read.
func (s *Service) MustStatus(t testing.TB) localapi.Status {
	t.Helper()
	st, err := s.Status(context.Background(), localapi.StatusRequest{})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st
}

// IsStatus reports whether err is a service error with HTTP status code.
func IsStatus(err error, code int) bool {
	var e *localapi.Error
	return errors.As(err, &e) && e.Status == code
}

// Policy is an admin policy store with these values (policy key names),
// as MDM would set them.
type Policy map[string]any

// Name implements policy.Store.
func (Policy) Name() string { return "test policy" }

// Read implements policy.Store.
func (p Policy) Read(context.Context) (policy.Settings, error) { return policy.FromValues(p) }
