// Package enroll tells whether this workstation is enrolled in device
// management, the condition design.md puts before any lab data flows
// (policy key RequireEnrollment).
//
// A Checker looks for one signal per platform and reports which it found:
//
//   - macOS: /usr/bin/profiles status -type enrollment. A user-approved MDM
//     enrollment ("macos-mdm-user-approved") or an enrollment via Apple's
//     Automated Device Enrollment ("macos-dep") passes. A limited enrollment
//     (MDM enrollment "Yes" without "User Approved") does not pass: until
//     the user approves it, the MDM cannot manage the security- and
//     privacy-sensitive settings a lab relies on, so the Mac is enrolled in
//     name only. Detail says how to approve it. The check never calls
//     "profiles show", which the OS rate-limits.
//   - Windows: an enrollment under HKLM\SOFTWARE\Microsoft\Enrollments
//     ("windows-intune" when its ProviderID is "MS DM Server", otherwise
//     "windows-mdm"), IsDeviceRegisteredWithManagement in MDMRegistration.dll
//     ("windows-mdm"), or membership of an Active Directory domain, which
//     is managed by Group Policy ("windows-domain").
//   - Linux, which has no OS-level MDM: Intune for Linux ("linux-intune"),
//     a registered Landscape client ("linux-landscape"), or a trusted
//     managed policy that names its ManagedBy system
//     ("linux-policy-managedby"). Only state that an ordinary account cannot
//     create counts, since the AI agent runs as the user with a shell:
//     Intune counts only from its device-level state (the agent installed,
//     a device registration by microsoft-identity-device-broker in
//     /var/lib/microsoft-identity-device-broker/<uid>.db, and the Intune
//     daemon's state in /var/lib/intune), each file and every folder above
//     it owned by root, not writable by group or others and no symbolic
//     link; never from a home folder (a user can write
//     ~/.config/intune/registration.toml). An Entra ID registration without
//     the daemon's state does not pass. `landscape-config --is-registered`
//     runs as root (in the service) and only if the tool itself is root's
//     alone. The policy file and its trust rules belong to the policy
//     package; the caller passes the effective ManagedBy in through
//     Options.ManagedBy.
//
// The first signal that passes wins. Each signal's check has a timeout
// (Options.Timeout) and any error — a timeout, a missing tool, output that cannot be parsed,
// localised output included — means "not confirmed": Check returns
// Managed false, a Detail saying what happened, and an error wrapping
// ErrNotConfirmed. Callers fail closed on it. When one signal passes, errors
// from the others do not matter. Results, errors included, are cached for
// Options.CacheFor, and concurrent callers share one check.
//
// # What this check is not
//
// Every signal above is local state. A local administrator — root on Linux
// and macOS, a member of Administrators on Windows — can fake any of them:
// replace the profiles binary or the Landscape client, write registry values
// under HKLM\SOFTWARE\Microsoft\Enrollments, drop Intune's state files into
// place, or write a policy file naming any ManagedBy. Nor does the Linux
// Intune check know which tenant the device is registered with: a person
// who can enroll it in another organisation's Intune passes it. The check
// keeps a managed fleet
// honest and tells a person why access is refused; it is not attestation.
// Only a server-side compliance check, such as conditional access at the
// identity provider, resists a hostile administrator.
package enroll

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// ErrNotConfirmed is wrapped by every error Check returns: enrollment could
// not be confirmed, and the caller must treat the device as not enrolled.
var ErrNotConfirmed = errors.New("device enrollment not confirmed")

// ErrUnrecognized is wrapped when a tool's output or a file's content is not
// in any form this package knows (including localised or empty output).
var ErrUnrecognized = errors.New("unrecognised output")

// Method values reported in Result.Method.
const (
	MethodMacOSUserApproved    = "macos-mdm-user-approved"
	MethodMacOSDEP             = "macos-dep"
	MethodWindowsMDM           = "windows-mdm"
	MethodWindowsIntune        = "windows-intune"
	MethodWindowsDomain        = "windows-domain"
	MethodLinuxIntune          = "linux-intune"
	MethodLinuxLandscape       = "linux-landscape"
	MethodLinuxPolicyManagedBy = "linux-policy-managedby"
)

const (
	defaultTimeout  = 5 * time.Second
	defaultCacheFor = 30 * time.Second
	// maxOutputBytes bounds what is read from a tool or a file: every
	// legitimate answer is a few hundred bytes.
	maxOutputBytes      = 64 << 10
	maxDetailValueRunes = 120
)

// Result is the outcome of an enrollment check.
type Result struct {
	// Managed is true only when a signal confirmed enrollment.
	Managed bool
	// Method names the signal that confirmed enrollment (one of the Method
	// constants); it is empty exactly when Managed is false.
	Method string
	// Detail is a human-readable account of what was found, for the tray's
	// diagnostics and for refusal messages.
	Detail string
}

// CommandOutput is what a program printed and how it exited.
type CommandOutput struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// CommandRunner runs the program at an absolute path. A non-zero exit is
// reported in ExitCode, not as an error; the error is for a program that
// could not be started, was killed, or outlived ctx.
type CommandRunner func(ctx context.Context, path string, args ...string) (CommandOutput, error)

// Options configures a Checker. Zero fields take the defaults noted; the
// fields after Now are how the checks reach the operating system and exist
// so that tests can replace them. The functions must be safe to call from
// several goroutines: a call that outlived its timeout may still be running
// when the next check calls again.
type Options struct {
	// Timeout bounds each signal's check. Default 5s.
	Timeout time.Duration
	// CacheFor is how long a result, or an error, is reused. Default 30s;
	// negative disables caching.
	CacheFor time.Duration
	// Now is the clock used for the cache. Default time.Now.
	Now func() time.Time

	// ManagedBy returns the ManagedBy value of the trusted, effective managed
	// policy (Linux only); "" when the policy names none. Nil means no such
	// policy source, and that signal is never found.
	ManagedBy func(ctx context.Context) (string, error)

	// Run runs a program (macOS, Linux). Default: os/exec with a minimal
	// environment and a C locale.
	Run CommandRunner
	// Lstat reports on a path without following a symbolic link (Linux).
	// Default os.Lstat.
	Lstat func(name string) (fs.FileInfo, error)
	// Owner returns the uid that owns the file fi describes, and false if
	// it cannot tell (Linux). Default: the operating system's answer.
	Owner func(fi fs.FileInfo) (uid uint32, ok bool)
	// ReadDir lists a folder (Linux). Default os.ReadDir.
	ReadDir func(name string) ([]fs.DirEntry, error)
	// ReadFile reads a small file. Default: os.ReadFile, bounded. No
	// signal reads file contents at present; kept so callers compile.
	ReadFile func(name string) ([]byte, error)
	// Stat reports on a path, following symlinks. Default os.Stat. No
	// signal uses it at present (the Linux ones use Lstat); kept so callers
	// compile.
	Stat func(name string) (fs.FileInfo, error)
	// HomeDir is ignored: no signal reads a home folder any more, because
	// the user can write anything there. Kept so callers compile.
	HomeDir func() (string, error)
	// Registry reads HKEY_LOCAL_MACHINE (Windows). Default: the real registry.
	Registry RegistryView
	// MDMRegistered asks MDMRegistration.dll whether the device is registered
	// with management, and as which user (Windows). Default: the real DLL.
	MDMRegistered func() (registered bool, upn string, err error)
	// JoinedDomain returns the Active Directory domain this computer is
	// joined to, or "" when it is not (Windows). Default: netapi32.
	JoinedDomain func() (domain string, err error)
}

// Checker checks enrollment and caches the answer. It is safe for
// concurrent use. Construct it with New.
type Checker struct {
	timeout  time.Duration
	cacheFor time.Duration
	now      func() time.Time
	probes   []probe

	mu       sync.Mutex
	cached   *cacheEntry // guarded by mu
	inflight *flight     // guarded by mu
	gen      uint64      // guarded by mu; bumped by Invalidate
}

type cacheEntry struct {
	res Result
	err error
	at  time.Time
}

// flight is one check shared by every caller that arrives while it runs.
type flight struct {
	done chan struct{} // closed when res and err are set
	res  Result
	err  error
}

// probe looks for one enrollment signal.
type probe struct {
	name string // what is being checked, for error messages
	run  func(ctx context.Context) (finding, error)
}

// finding is one probe's answer. detail is shown whether or not the signal
// passed, so it should say what was seen.
type finding struct {
	managed bool
	method  string
	detail  string
}

// New returns a Checker for the platform it runs on.
func New(opts Options) *Checker {
	fillDefaults(&opts)
	platformDefaults(&opts)
	return newChecker(opts, platformProbes(&opts))
}

func fillDefaults(o *Options) {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.CacheFor == 0 {
		o.CacheFor = defaultCacheFor
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Run == nil {
		o.Run = execRunner
	}
	if o.ReadFile == nil {
		o.ReadFile = readFileBounded
	}
	if o.Stat == nil {
		o.Stat = os.Stat
	}
	if o.Lstat == nil {
		o.Lstat = os.Lstat
	}
	if o.Owner == nil {
		o.Owner = fileOwner
	}
	if o.ReadDir == nil {
		o.ReadDir = os.ReadDir
	}
}

// newChecker builds a Checker from already-defaulted options and an explicit
// probe list, so tests can run any platform's probes on any platform.
func newChecker(opts Options, probes []probe) *Checker {
	return &Checker{
		timeout:  opts.Timeout,
		cacheFor: opts.CacheFor,
		now:      opts.Now,
		probes:   probes,
	}
}

// Check reports whether this device is enrolled. On any error the Result
// has Managed false and a Detail, and the error wraps ErrNotConfirmed.
//
// If ctx ends first, Check returns at once; the check itself runs on, bounded
// by the per-signal timeouts, so that the next caller can use its result.
func (c *Checker) Check(ctx context.Context) (Result, error) {
	c.mu.Lock()
	if e := c.cached; e != nil && c.freshLocked(e) {
		c.mu.Unlock()
		return e.res, e.err
	}
	f := c.inflight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.inflight = f
		// Detached from ctx's cancellation: one impatient caller must not
		// turn a shared, cached answer into "cancelled" for everyone else.
		go c.fly(context.WithoutCancel(ctx), f, c.gen)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
		return Result{Detail: "the enrollment check was cancelled before it finished"},
			fmt.Errorf("%w: waiting for the enrollment check: %w", ErrNotConfirmed, ctx.Err())
	}
}

// Invalidate forgets the cached result, so the next Check looks again (the
// tray's "check again" button). A check already running is not reused.
func (c *Checker) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cached = nil
	c.inflight = nil
	c.gen++
}

func (c *Checker) freshLocked(e *cacheEntry) bool {
	if c.cacheFor < 0 {
		return false
	}
	age := c.now().Sub(e.at)
	// A clock that went backwards makes the age negative: look again rather
	// than trust an entry of unknown age.
	return age >= 0 && age < c.cacheFor
}

func (c *Checker) fly(ctx context.Context, f *flight, gen uint64) {
	res, err := c.check(ctx)
	c.mu.Lock()
	f.res, f.err = res, err
	if c.gen == gen {
		if c.inflight == f {
			c.inflight = nil
		}
		if c.cacheFor >= 0 {
			c.cached = &cacheEntry{res: res, err: err, at: c.now()}
		}
	}
	c.mu.Unlock()
	close(f.done)
}

// check runs the probes in order until one passes.
func (c *Checker) check(ctx context.Context) (Result, error) {
	if len(c.probes) == 0 {
		return Result{Detail: "enrollment cannot be checked on " + runtime.GOOS},
			fmt.Errorf("%w: no enrollment check for %s: %w", ErrNotConfirmed, runtime.GOOS, errors.ErrUnsupported)
	}
	var details []string
	var errs []error
	for _, p := range c.probes {
		f, err := c.runProbe(ctx, p)
		if err != nil {
			errs = append(errs, err)
			details = append(details, err.Error())
			continue
		}
		if f.managed {
			return Result{Managed: true, Method: f.method, Detail: f.detail}, nil
		}
		details = append(details, f.detail)
	}
	detail := strings.Join(details, "; ")
	switch len(errs) {
	case 0:
		return Result{Detail: detail}, nil
	case 1:
		return Result{Detail: detail}, fmt.Errorf("%w: %w", ErrNotConfirmed, errs[0])
	default:
		return Result{Detail: detail}, fmt.Errorf("%w: %w", ErrNotConfirmed, errors.Join(errs...))
	}
}

// runProbe runs p with the per-signal timeout. Some probes block in calls
// that take no context (a DLL call, a read on a hung network home); the
// probe runs in its own goroutine so that the timeout holds regardless, and
// a late answer is dropped.
func (c *Checker) runProbe(ctx context.Context, p probe) (finding, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	type outcome struct {
		f   finding
		err error
	}
	ch := make(chan outcome, 1)
	go func() {
		f, err := p.run(ctx)
		ch <- outcome{f, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return finding{}, fmt.Errorf("%s: %w", p.name, o.err)
		}
		if o.f.managed && o.f.method == "" {
			// A bug, but fail closed rather than report an unnamed signal.
			return finding{}, fmt.Errorf("%s: passed without naming its signal", p.name)
		}
		return o.f, nil
	case <-ctx.Done():
		return finding{}, fmt.Errorf("%s: no answer within %s: %w", p.name, c.timeout, ctx.Err())
	}
}

// shown makes an outside value safe and short enough to show in a Detail:
// quoted, control characters escaped, cut to a bounded length.
func shown(s string) string {
	r := []rune(s)
	if len(r) > maxDetailValueRunes {
		return fmt.Sprintf("%q…", string(r[:maxDetailValueRunes]))
	}
	return fmt.Sprintf("%q", s)
}
