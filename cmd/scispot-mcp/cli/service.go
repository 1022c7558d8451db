package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/gofrs/flock"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
)

// ServiceBinary is the workstation service, installed beside scispot-mcp.
const ServiceBinary = "scispot-mcpd"

// SocketEnv names another socket for the service, for tests and
// development. Pointing it elsewhere cannot weaken a control: only the
// system service can open sealed tokens, and nothing secret (a password,
// a token) is sent to a service that does not run as root.
const SocketEnv = "SCISPOT_MCPD_SOCKET"

// RuleNoService is the refusal when scispot-mcpd does not answer.
const RuleNoService = "no-service"

// noService is what the person sees when scispot-mcpd does not answer.
func noService(err error) *gateway.Refusal {
	return &gateway.Refusal{Rule: RuleNoService, Sentence: fmt.Sprintf(
		"The Scispot MCP service (scispot-mcpd) is not running on this workstation, so AI access to Scispot is off; ask your IT admin to install or start it (%v).", err)}
}

// SystemService finds the workstation service: the system service at its
// socket, or, for the demo workspace where none answers, this account's
// unprivileged demo instance, started on demand.
func SystemService(getenv func(string) string) func(ctx context.Context, demo bool) (*localapi.Client, error) {
	return func(ctx context.Context, demo bool) (*localapi.Client, error) {
		sock := getenv(SocketEnv)
		if sock == "" {
			sock = localsock.DefaultPath()
		}
		c := &localapi.Client{Socket: sock, Dial: localsock.Dial, Identity: peercred.Get}
		err := reachable(ctx, c)
		if err == nil || !demo || getenv(SocketEnv) != "" {
			return c, err
		}
		dc := &localapi.Client{Socket: localsock.UserDemoPath(getenv), Dial: localsock.Dial, Identity: peercred.Get}
		if reachable(ctx, dc) == nil {
			return dc, nil
		}
		if err := startDemoService(ctx, dc); err != nil {
			return nil, err
		}
		return dc, nil
	}
}

func reachable(ctx context.Context, c *localapi.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := c.Dial(ctx, c.Socket)
	if err != nil {
		return fmt.Errorf("%w: %w", localapi.ErrNoService, err)
	}
	conn.Close()
	return nil
}

// startDemoService starts this account's demo instance beside this
// binary and waits until it answers. A lock keeps two clients that start
// at once from starting two.
func startDemoService(ctx context.Context, c *localapi.Client) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the demo service: %w", err)
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	name := ServiceBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	mcpd := filepath.Join(filepath.Dir(exe), name)
	state, err := statedir.Dir(statedir.FromOS())
	if err != nil {
		return err
	}
	if err := statedir.Ensure(state); err != nil {
		return err
	}
	lock := flock.New(filepath.Join(state, "demo-service.lock"))
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if ok, err := lock.TryLockContext(lctx, 20*time.Millisecond); err != nil || !ok {
		return fmt.Errorf("waiting for another start of the demo service: %v", err)
	}
	defer lock.Unlock()
	if reachable(ctx, c) == nil {
		return nil
	}
	// A command's instance goes soon after its last client; the tray keeps
	// its event stream open, so the instance lives as long as the tray.
	cmd := exec.Command(mcpd, "--user-demo", "--socket", c.Socket, "--state", statedir.DemoServiceDir(state), "--idle-exit", "1m")
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the demo service %s: %w", mcpd, err)
	}
	go cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if reachable(ctx, c) == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the demo service %s did not start answering on %s", mcpd, c.Socket)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// service connects to the service for a command, or says why it cannot.
func (env Env) service(ctx context.Context, demo bool) (*localapi.Client, error) {
	if env.Service == nil {
		return nil, &refusedError{r: noService(localapi.ErrNoService)}
	}
	c, err := env.Service(ctx, demo)
	if err != nil {
		if errors.Is(err, localapi.ErrNoService) {
			return nil, &refusedError{r: noService(err)}
		}
		return nil, err
	}
	return c, nil
}

// apiError turns a service refusal into the CLI's exit codes.
func apiError(err error) error {
	var e *localapi.Error
	if errors.As(err, &e) && e.Refused() {
		return &refusedError{r: &gateway.Refusal{Rule: e.Rule, Sentence: e.Sentence}}
	}
	if errors.Is(err, localapi.ErrNoService) {
		return &refusedError{r: noService(err)}
	}
	return err
}
