package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scispot/mcp-desktop/app/validation"
	validationreport "github.com/scispot/mcp-desktop/app/validation/report"
	"github.com/scispot/mcp-desktop/device/codesign"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/identity"
	"github.com/scispot/mcp-desktop/device/osauth"
	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/clientpolicy"
	"github.com/scispot/mcp-desktop/mcpserver/devicekey"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("scispot-mcpd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	userDemo := fs.Bool("user-demo", false, "run unprivileged for this account, serving the demo workspace only (started by scispot-mcp where no service is installed)")
	socket := fs.String("socket", "", "the local API's socket or pipe (default: the system path, or the account's demo path with --user-demo)")
	state := fs.String("state", "", "the service's state folder (default: the system path, or the account's demo folder with --user-demo)")
	idle := fs.Duration("idle-exit", 0, "exit after this long with no connection (default 10m with --user-demo, never otherwise)")
	clientRoot := fs.String("client-settings-root", "", "keep the AI clients' managed settings (policy BlockDirectConnections) under this folder instead of their system paths (tests)")
	release := fs.Bool("release-client-settings", false, "take the service's own deny entries out of the AI clients' managed settings and exit (uninstallers)")
	verbose := fs.Bool("v", false, "log to stderr")
	directEvery := fs.Duration("direct-every", 0, "how often to look through the accounts' AI client configs for direct Scispot connections (default 1m)")
	printKey := fs.Bool("print-device-key", false, "print the device's checkpoint verifier key (making the key if there is none yet) and exit: for MDM scripts that register it")
	if len(args) > 0 && args[0] == "version" {
		fmt.Fprintf(os.Stdout, "scispot-mcpd %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logLevel := slog.LevelWarn
	if *verbose {
		logLevel = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	if err := harden(); err != nil {
		log.Warn("could not make the service undumpable", "err", err)
	}

	mode := localapi.ModeSystem
	if *userDemo {
		mode = localapi.ModeUserDemo
		if *socket == "" {
			*socket = localsock.UserDemoPath(os.Getenv)
		}
		if *state == "" {
			dir, err := statedir.Dir(statedir.FromOS())
			if err != nil {
				fmt.Fprintf(stderr, "scispot-mcpd: %v\n", err)
				return 1
			}
			*state = statedir.DemoServiceDir(dir)
		}
		if *idle == 0 {
			*idle = 10 * time.Minute
		}
	}
	if *socket == "" {
		*socket = localsock.DefaultPath()
	}
	if *state == "" {
		*state = statedir.ServiceDir()
	}

	device, err := identity.DeviceID()
	if err != nil {
		log.Warn("no device id for the audit trail", "err", err)
	}
	if *printKey {
		if *userDemo {
			fmt.Fprintln(stderr, "scispot-mcpd: the demo instance has no device key; only the workstation service signs checkpoints")
			return 2
		}
		if err := statedir.Ensure(*state); err != nil {
			fmt.Fprintf(stderr, "scispot-mcpd: preparing the service's state folder %s: %v\n", *state, err)
			return 1
		}
		k, err := devicekey.LoadOrCreate(devicekey.Path(*state), device)
		if err != nil {
			fmt.Fprintf(stderr, "scispot-mcpd: %v\n", err)
			return 1
		}
		fmt.Fprintln(os.Stdout, k.VerifierKey())
		return 0
	}
	if *release {
		if *userDemo {
			fmt.Fprintln(stderr, "scispot-mcpd: the demo instance keeps no managed settings")
			return 2
		}
		return releaseClientSettings(ctx, *clientRoot, *state, stderr)
	}
	cfg := service.Config{
		Mode:           mode,
		Socket:         *socket,
		StateDir:       *state,
		Policy:         policy.DefaultStores(),
		Enroll:         access.Enrollment(enroll.Options{}),
		DeviceID:       device,
		Version:        version,
		Logger:         log,
		Identity:       peercred.Get,
		ProcessExe:     peercred.ProcessExe,
		ParentPID:      peercred.ParentPID,
		Signer:         codesign.NewCache(codesign.Signer).Signer,
		CheckPassword:  osauth.CheckPassword,
		FullName:       osauth.FullName,
		DirectEvery:    *directEvery,
		FileReport:     validationreport.Filer(validation.DefaultSums, "/"),
		Validators:     validators(),
		ProcessArgs:    peercred.ProcessArgs,
		ProcessExeFile: peercred.ProcessExeFile,
	}
	if mode == localapi.ModeSystem {
		cfg.ClientSettings = &clientpolicy.Keeper{
			Targets:   clientpolicy.Targets(*clientRoot),
			StateFile: filepath.Join(*state, "client-settings.json"),
		}
	}
	svc, err := service.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "scispot-mcpd: %v\n", err)
		return 1
	}
	ln, err := localsock.Listen(*socket)
	if err != nil {
		if errors.Is(err, localsock.ErrInUse) && *userDemo {
			return 0 // another demo instance of this account won the race
		}
		fmt.Fprintf(stderr, "scispot-mcpd: %v\n", err)
		return 1
	}
	log.Info("serving", "mode", mode, "socket", *socket, "state", *state)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *idle > 0 {
		ln = exitWhenIdle(ctx, ln, *idle, cancel)
	}
	if err := serveService(ctx, svc, ln); err != nil {
		fmt.Fprintf(stderr, "scispot-mcpd: %v\n", err)
		return 1
	}
	return 0
}

// exitWhenIdle cancels the service once no connection has been open for d:
// the demo instance goes away when its person stops using it.
func exitWhenIdle(ctx context.Context, ln net.Listener, d time.Duration, cancel func()) net.Listener {
	il := &idleListener{Listener: ln, last: time.Now()}
	go func() {
		t := time.NewTicker(d / 10)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if il.idleFor() >= d {
					cancel()
					return
				}
			}
		}
	}()
	return il
}

type idleListener struct {
	net.Listener
	open atomic.Int64
	mu   sync.Mutex
	last time.Time
}

func (l *idleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

func (l *idleListener) idleFor() time.Duration {
	if l.open.Load() > 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Since(l.last)
}

type countedConn struct {
	net.Conn
	l    *idleListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.last = time.Now()
		c.l.mu.Unlock()
		c.l.open.Add(-1)
	})
	return c.Conn.Close()
}

// NetConn lets peercred look through the counting wrapper.
func (c *countedConn) NetConn() net.Conn { return c.Conn }

// releaseClientSettings takes the service's deny entries out of the AI
// clients' managed settings, as when BlockDirectConnections is false, and
// leaves everything else in them: the uninstallers run it before the
// program goes.
func releaseClientSettings(ctx context.Context, root, state string, stderr io.Writer) int {
	k := clientpolicy.Keeper{Targets: clientpolicy.Targets(root), StateFile: filepath.Join(state, "client-settings.json")}
	p := policy.Default()
	p.BlockDirectConnections = false
	code := 0
	for _, st := range k.Keep(ctx, p) {
		if st.Error != "" {
			fmt.Fprintf(stderr, "scispot-mcpd: %s: %s\n", st.File, st.Error)
			code = 1
		}
	}
	return code
}

// validators are the scispot-mcp and scispot-mcp-tray installed beside
// this program, as the kernel names a running executable (symlinks
// resolved); none when this program's own path cannot be read.
func validators() service.Validators {
	self, err := os.Executable()
	if err != nil {
		return service.Validators{}
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	dir, ext := filepath.Dir(self), filepath.Ext(self)
	return service.Validators{
		CLI:  filepath.Join(dir, "scispot-mcp"+ext),
		Tray: filepath.Join(dir, "scispot-mcp-tray"+ext),
	}
}
