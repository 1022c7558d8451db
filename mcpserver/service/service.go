// Package service is scispot-mcpd, the workstation service: the only
// process that reads the managed policy, opens the person's token, talks
// to Scispot, decides every call and writes the audit trail. It runs as
// root (LocalSystem on Windows); everything in the person's session (the
// serve relay, the CLI, the tray) reaches it over the local API and is
// told who it is by the kernel, never by itself.
//
//	local socket ──▶ Serve ─┬─ peer credentials ─▶ caller (uid, account, launching program)
//	                        ├─ /localapi/v0/mcp (Upgrade) ─▶ session.Host ─▶ gateway ─▶ Scispot
//	                        └─ status, kill, resume, token, audit, events, confirm
//	state: <StateDir>/users/<uid>/  control.json (kill switch), usage.json (budget), audit/,
//	                                 direct-seen.json (direct connections already recorded)
//	       <StateDir>/keys/seal.key  (the service key that seals tokens)
//	       <StateDir>/tool-pins.json (the approved definition of every allowed tool, package pin)
//	       <StateDir>/forward/<destination>/<trail>.cursor  (what each audit destination has)
//	       <StateDir>/keys/device.key (the device key that signs trail checkpoints)
//
// Per account: one kill switch, one hourly budget and one rate limiter
// across all of its sessions; its trail in a folder only the service can
// write. A user-demo instance (Mode ModeUserDemo) is the same code run as
// the person, for the demo workspace only, where no service is installed.
package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/scispot/mcp-desktop/device/account"
	"github.com/scispot/mcp-desktop/device/enroll"
	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/clientpolicy"
	"github.com/scispot/mcp-desktop/mcpserver/devicekey"
	"github.com/scispot/mcp-desktop/mcpserver/forward"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// Config describes one service instance. Every dependency comes in here.
type Config struct {
	// Mode is localapi.ModeSystem or localapi.ModeUserDemo.
	Mode string
	// Socket is where Serve's listener listens (for status output).
	Socket string
	// StateDir holds users/ and keys/.
	StateDir string
	// Policy are the admin-controlled policy stores.
	Policy []policy.Store
	// Enroll checks enrollment with device-level signals only.
	Enroll   func(ctx context.Context, managedBy string) (enroll.Result, error)
	DeviceID string
	Version  string
	Logger   *slog.Logger
	// Identity reads a connection's peer credentials (peercred.Get).
	Identity func(net.Conn) (peercred.Cred, error)
	// Account names the OS account of a caller; nil uses account.ForUID
	// (or the peer's resolved name on Windows).
	Account func(peercred.Cred) (account.Account, error)
	// ProcessExe and ParentPID name the program that launched a relay
	// (peercred.ProcessExe, peercred.ParentPID); nil records none.
	ProcessExe func(pid int) (string, error)
	ParentPID  func(pid int) (int, error)
	// Signer names the code signer of that program's executable
	// (codesign.Cache.Signer); nil records none. It gets at most
	// signerTimeout, and a failure leaves the signer empty.
	Signer func(ctx context.Context, path string) (string, error)
	// CheckPassword verifies the account password for human-only actions
	// (osauth.CheckPassword); FullName gives the account's printed name.
	CheckPassword func(ctx context.Context, account, password string) error
	FullName      func(account string) (string, error)
	// Upstream is the base of the upstream client's options (tests set
	// timeouts); never the person's environment.
	Upstream *upstream.Options
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CheckpointEvery is how often a trail with new records gets a signed
	// checkpoint; 0 means a minute (tests shorten it).
	CheckpointEvery time.Duration
	// DirectEvery is how often the system service looks through the
	// accounts' AI client configs for direct Scispot connections; 0
	// means a minute (tests shorten it).
	DirectEvery time.Duration
	// ClientSettings keeps the AI clients' machine-level managed settings
	// denying direct Scispot connections (policy BlockDirectConnections);
	// nil keeps none (the user-demo instance, unit tests).
	ClientSettings *clientpolicy.Keeper
	// Validators are the product's own programs that run validation
	// (Validators.Is). Empty: none.
	Validators Validators
	// ProcessArgs names what a program was started to do
	// (peercred.ProcessArgs) and ProcessExeFile the file it runs
	// (peercred.ProcessExeFile); nil: no caller is known to be validate.
	ProcessArgs    func(pid int) ([]string, error)
	ProcessExeFile func(pid int) (fs.FileInfo, error)
	// FileReport checks and renders the validation reports accounts file
	// (validation/file); nil: this service files none.
	FileReport ReportFiler
	// ClientSettingsEvery is how often they are checked again besides
	// every policy change; 0 means five minutes.
	ClientSettingsEvery time.Duration
}

// Validators are the installed scispot-mcp and scispot-mcp-tray. Their
// validation sessions on the demo workspace are not held to the policy's
// AllowedClientExecutables and AllowedClientSigners: those judge the
// program that started the caller, which for validate is the admin's
// shell and for the tray the desktop session, not an AI client; listing
// the shell to let validation run would admit every program started
// from one. Only the demo is concerned, which holds no lab data, and
// AllowedClients still applies.
type Validators struct {
	CLI, Tray string
}

// Service is one running workstation service.
type Service struct {
	cfg Config
	key *seal.Key // nil in user-demo mode: nothing is sealed there
	log *slog.Logger
	// pins hold the approved tool definitions of Scispot, for every
	// account (nil in user-demo mode); demoPins those of the demo
	// workspace, in memory: they come with this release.
	pins, demoPins *pin.Store
	// deviceKey signs the trails' checkpoints; nil in user-demo mode, or
	// when its file cannot be used (deviceKeyErr says why).
	deviceKey    *devicekey.Key
	deviceKeyErr error

	// ctx lives as long as Serve: what the service starts for an account
	// (a trail follower) ends with it.
	ctx context.Context

	// fwd delivers every account's trail to the policy's audit
	// destinations; nil in user-demo mode.
	fwd *forward.Forwarder

	// clientSettingsPoke asks the keeper of the clients' managed
	// settings to look again (a policy change).
	clientSettingsPoke chan struct{}

	mu    sync.Mutex
	users map[string]*user // by owner key (uid:N or sid:S)
	// clientSettings is where each client's managed settings stood at the
	// last check.
	clientSettings []clientpolicy.State
}

// New prepares the state folder and, in system mode, the service key.
func New(cfg Config) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Mode == "" {
		cfg.Mode = localapi.ModeSystem
	}
	if cfg.Identity == nil {
		cfg.Identity = peercred.Get
	}
	if cfg.Account == nil {
		cfg.Account = accountOf
	}
	if err := statedir.Ensure(cfg.StateDir); err != nil {
		return nil, fmt.Errorf("preparing the service's state folder %s: %w", cfg.StateDir, err)
	}
	s := &Service{cfg: cfg, log: cfg.Logger, users: map[string]*user{}, ctx: context.Background(), clientSettingsPoke: make(chan struct{}, 1)}
	pinOpts := pin.Options{Now: cfg.Now, Logger: cfg.Logger, Changed: s.pinsChanged}
	s.demoPins = pin.Memory(pinOpts)
	if cfg.Mode == localapi.ModeSystem {
		k, err := seal.LoadOrCreate(filepath.Join(cfg.StateDir, "keys", "seal.key"))
		if err != nil {
			return nil, err
		}
		s.key = k
		s.pins = pin.Open(filepath.Join(cfg.StateDir, pin.FileName), pinOpts)
		host, _ := os.Hostname()
		s.fwd = forward.New(forward.Config{
			StateDir: cfg.StateDir,
			Resource: forward.Resource{Device: cfg.DeviceID, HostName: host, Version: cfg.Version},
			Logger:   cfg.Logger,
			Now:      cfg.Now,
		})
		s.deviceKey, s.deviceKeyErr = devicekey.LoadOrCreate(devicekey.Path(cfg.StateDir), cfg.DeviceID)
		if s.deviceKeyErr != nil {
			// Sessions still run: their trails are chained and forwarded;
			// only the signed checkpoints are missing, which fleet-verify
			// shows. A new key is not made over the old file, so what the
			// admin registered keeps meaning something.
			s.deviceKeyErr = fmt.Errorf("%w; no signed checkpoints are written until the file is restored, or removed so that the service makes a new key at its next start (then register the new key that `scispot-mcpd --print-device-key` prints)", s.deviceKeyErr)
			s.log.Error("the device signing key cannot be used", "err", s.deviceKeyErr)
		}
	}
	return s, nil
}

func accountOf(c peercred.Cred) (account.Account, error) {
	if runtime.GOOS == "windows" {
		if c.Account == "" {
			return account.Account{}, fmt.Errorf("the account of %s could not be named", c.SID)
		}
		return account.Account{Name: c.Account}, nil
	}
	return account.ForUID(c.UID)
}

// ownerKey is how sealed tokens and the state folder name an account:
// stable for the account's life, never its (changeable) name.
func ownerKey(c peercred.Cred) string {
	if c.SID != "" {
		return "sid:" + c.SID
	}
	return "uid:" + strconv.Itoa(c.UID)
}

// Serve answers the local API on ln until ctx ends.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.ctx = ctx
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			cred, err := s.cfg.Identity(c)
			return context.WithValue(ctx, callerKey{}, callerResult{cred: cred, err: err})
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.fwd != nil {
		// Before the first session: AuditMaxUndeliveredHours needs the
		// destinations' cursors.
		if snap := policy.Load(ctx, s.cfg.Policy...); snap.Err == nil {
			s.fwd.Apply(forward.TargetsFrom(snap.Policy))
		}
		go s.fwd.Run(ctx)
	}
	if s.cfg.ClientSettings != nil && s.cfg.Mode == localapi.ModeSystem {
		go s.keepClientSettings(ctx)
	}
	go s.followPolicy(ctx)
	if s.cfg.Mode == localapi.ModeSystem {
		go s.watchDirect(ctx)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		s.closeAll()
		return nil
	case err := <-served:
		s.closeAll()
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

type callerKey struct{}

type callerResult struct {
	cred peercred.Cred
	err  error
}

// caller is who is calling, from the kernel.
type caller struct {
	cred    peercred.Cred
	account account.Account
	owner   string
	user    *user
}

// callerOf identifies the request's peer and finds its account's state.
func (s *Service) callerOf(r *http.Request) (*caller, *localapi.Error) {
	cr, _ := r.Context().Value(callerKey{}).(callerResult)
	if cr.err != nil {
		return nil, &localapi.Error{Status: http.StatusForbidden, Rule: "caller-unknown",
			Sentence: fmt.Sprintf("The Scispot MCP service could not tell which account is calling (%v), so it refuses.", cr.err)}
	}
	if s.cfg.Mode == localapi.ModeUserDemo && cr.cred.UID != os.Geteuid() && runtime.GOOS != "windows" {
		return nil, &localapi.Error{Status: http.StatusForbidden, Rule: "caller-other-account",
			Sentence: "This Scispot MCP demo instance belongs to another account."}
	}
	acct, err := s.cfg.Account(cr.cred)
	if err != nil {
		return nil, &localapi.Error{Status: http.StatusForbidden, Rule: "caller-unknown",
			Sentence: fmt.Sprintf("The Scispot MCP service could not name the calling account: %v.", err)}
	}
	c := &caller{cred: cr.cred, account: acct, owner: ownerKey(cr.cred)}
	u, err := s.userFor(c)
	if err != nil {
		return nil, &localapi.Error{Status: http.StatusInternalServerError, Sentence: err.Error()}
	}
	c.user = u
	return c, nil
}

// admin: root on Unix, an administrator's service call on Windows.
func (c *caller) admin() bool { return c.cred.UID == 0 || c.cred.SID == "S-1-5-18" }

// signerTimeout bounds reading the launching program's signer, so that
// it never holds up a session start for long.
const signerTimeout = 3 * time.Second

// launcher names the program that started the caller's process (the AI
// client that launched serve) and its code signer, best effort.
func (s *Service) launcher(ctx context.Context, c *caller) (exe, signer string, pid int) {
	if s.cfg.ParentPID == nil || s.cfg.ProcessExe == nil || c.cred.PID <= 0 {
		return "", "", c.cred.PID
	}
	ppid, err := s.cfg.ParentPID(c.cred.PID)
	if err != nil || ppid <= 1 {
		return "", "", c.cred.PID
	}
	exe, _ = s.cfg.ProcessExe(ppid)
	if exe == "" || s.cfg.Signer == nil {
		return exe, "", c.cred.PID
	}
	ctx, cancel := context.WithTimeout(ctx, signerTimeout)
	defer cancel()
	signer, err = s.cfg.Signer(ctx, exe)
	if err != nil {
		s.log.Debug("no code signer for the launching program", "exe", exe, "err", err)
		signer = ""
	}
	return exe, signer, c.cred.PID
}
