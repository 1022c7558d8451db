// Package forward delivers every audit record of the workstation to the
// lab's own log pipeline: OTLP/HTTP logs (an OpenTelemetry Collector) and
// RFC 5424 syslog over TCP or TLS, as the managed policy names them.
//
// The trail files are the spool. For each destination and trail a cursor
// (byte offset, seq and hash of the last record delivered) is kept in the
// service's state folder, written atomically after the destination
// acknowledged, so delivery is at least once and in order per trail and
// survives an outage of the destination, a crash of the service and a
// reboot: whatever was not acknowledged is sent again. Receivers key on
// trail (or session) and seq to drop the duplicates.
//
// Forwarding never slows a call: it reads the trails after the writer has
// fsynced them, woken by fsnotify on the audit folders.
package forward

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/scispot/mcp-desktop/device/policy"
)

// Resource describes this workstation in every destination.
type Resource struct {
	// Device is the protected device id, as in the records' device field.
	Device   string
	HostName string
	Version  string
}

// Config configures a Forwarder.
type Config struct {
	// StateDir is the service's state folder: trails are
	// <StateDir>/users/*/audit/*.jsonl; cursors go in <StateDir>/forward.
	StateDir string
	Resource Resource
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Debounce is how long a runner waits after being woken, so that a
	// burst of appends goes out as one batch; 0 means 20 ms.
	Debounce time.Duration
	// Rescan is how often the trails are looked at without a wake-up, in
	// case a file event was missed; 0 means 30 s.
	Rescan time.Duration
	// NoWatch leaves out the file watch (Rescan alone finds new records):
	// for many simulated workstations in one process, which would run out
	// of inotify instances.
	NoWatch bool
}

// Targets are the destinations the policy names.
type Targets struct {
	OTLPEndpoint string
	OTLPHeaders  []string
	Syslog       string
	CAFile       string
}

// TargetsFrom reads the audit destination keys of a policy.
func TargetsFrom(p policy.Policy) Targets {
	return Targets{OTLPEndpoint: p.AuditOTLPEndpoint, OTLPHeaders: slices.Clone(p.AuditOTLPHeaders),
		Syslog: p.AuditSyslog, CAFile: p.AuditCAFile}
}

// Status is one destination as `status` and the tray show it.
type Status struct {
	// Kind is "otlp" or "syslog"; Endpoint its URL or address (the
	// policy allows no credentials in either).
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint"`
	// Connected: the last attempt to deliver succeeded.
	Connected    bool      `json:"connected"`
	LastDelivery time.Time `json:"last_delivery,omitzero"`
	// Backlog is the number of records not yet delivered, Oldest the time
	// of the oldest of them.
	Backlog       int64     `json:"backlog"`
	Oldest        time.Time `json:"oldest_undelivered,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	// Delivered and Rejected count records since the service started;
	// Rejected ones were acknowledged but refused by the receiver
	// (OTLP partial success): they are not sent again.
	Delivered int64 `json:"delivered"`
	Rejected  int64 `json:"rejected,omitempty"`
}

// Forwarder runs one delivery loop per destination.
type Forwarder struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	ctx     context.Context
	targets Targets
	runners []*runner
}

// New returns a Forwarder with no destinations; Apply sets them and Run
// watches the trails.
func New(cfg Config) *Forwarder {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Debounce == 0 {
		cfg.Debounce = 20 * time.Millisecond
	}
	if cfg.Rescan == 0 {
		cfg.Rescan = 30 * time.Second
	}
	return &Forwarder{cfg: cfg, log: cfg.Logger}
}

// cursorRoot is where cursors live: root-only, like the rest of the
// service's state.
func (f *Forwarder) cursorRoot() string { return filepath.Join(f.cfg.StateDir, "forward") }

// Apply sets the destinations. When nothing changed, delivery goes on
// undisturbed; when any key changed, every destination is restarted from
// its cursors on disk (syslog batches not yet confirmed go again), and a
// new endpoint is a new destination that receives every trail.
func (f *Forwarder) Apply(t Targets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Equal(t.OTLPHeaders, f.targets.OTLPHeaders) && t.OTLPEndpoint == f.targets.OTLPEndpoint &&
		t.Syslog == f.targets.Syslog && t.CAFile == f.targets.CAFile && f.runners != nil {
		return
	}
	f.targets = t
	for _, r := range f.runners {
		r.stop()
	}
	f.runners = []*runner{}
	var dests []destination
	if t.OTLPEndpoint != "" {
		d, err := newOTLP(t, f.cfg.Resource)
		dests = append(dests, orBroken(d, err, "otlp", t.OTLPEndpoint))
	}
	if t.Syslog != "" {
		d, err := newSyslog(t, f.cfg.Resource)
		dests = append(dests, orBroken(d, err, "syslog", t.Syslog))
	}
	for _, d := range dests {
		r := f.newRunner(d)
		f.runners = append(f.runners, r)
		if f.ctx != nil {
			r.start(f.ctx)
		}
	}
}

// Run watches the audit folders and wakes the runners until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	f.mu.Lock()
	f.ctx = ctx
	for _, r := range f.runners {
		r.start(ctx)
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		for _, r := range f.runners {
			r.stop()
		}
		f.runners = nil
		f.ctx = nil
		f.mu.Unlock()
	}()

	// Watch from users/ down even before the first account appears (the
	// service creates the folder too; 0700 like the rest of its state).
	if err := os.MkdirAll(filepath.Join(f.cfg.StateDir, "users"), 0o700); err != nil {
		f.log.Warn("preparing the folder of the trails", "err", err)
	}
	tick := time.NewTicker(f.cfg.Rescan)
	defer tick.Stop()
	var w *fsnotify.Watcher
	if !f.cfg.NoWatch {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			f.log.Warn("audit forwarding finds new records only every rescan", "every", f.cfg.Rescan, "err", err)
		}
	}
	if w == nil {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
				f.Wake()
			}
		}
	}
	defer w.Close()
	f.watchFolders(w)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					f.watchFolders(w)
				}
			}
			f.Wake()
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			f.log.Warn("watching the audit folders", "err", err)
			f.Wake()
		case <-tick.C:
			f.watchFolders(w)
			f.Wake()
		}
	}
}

// watchFolders watches the state folder, users/, every account folder and
// every audit folder (fsnotify is not recursive); adding a watch twice is
// harmless.
func (f *Forwarder) watchFolders(w *fsnotify.Watcher) {
	users := filepath.Join(f.cfg.StateDir, "users")
	_ = w.Add(f.cfg.StateDir)
	_ = w.Add(users)
	accounts, _ := filepath.Glob(filepath.Join(users, "*"))
	for _, a := range accounts {
		_ = w.Add(a)
		_ = w.Add(filepath.Join(a, "audit"))
	}
}

// Wake tells every runner that trails may have grown.
func (f *Forwarder) Wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runners {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// Status reports every destination, backlog included (read from the
// trails now).
func (f *Forwarder) Status() []Status {
	f.mu.Lock()
	runners := slices.Clone(f.runners)
	f.mu.Unlock()
	trails, _ := listTrails(f.cfg.StateDir)
	out := make([]Status, 0, len(runners))
	for _, r := range runners {
		out = append(out, r.status(trails))
	}
	return out
}

// OldestUndelivered is the time of the oldest record some destination has
// not acknowledged; ok is false when every record is delivered or there is
// no destination.
func (f *Forwarder) OldestUndelivered() (oldest time.Time, ok bool) {
	f.mu.Lock()
	runners := slices.Clone(f.runners)
	f.mu.Unlock()
	if len(runners) == 0 {
		return time.Time{}, false
	}
	trails, _ := listTrails(f.cfg.StateDir)
	for _, r := range runners {
		if t, found := r.oldest(trails); found && (!ok || t.Before(oldest)) {
			oldest, ok = t, true
		}
	}
	return oldest, ok
}

// destination is where records go. Send delivers a batch (several trails,
// each in order) and returns how many of its records the receiver
// acknowledged but rejected; an error means nothing in the batch counts as
// delivered.
type destination interface {
	Kind() string
	Endpoint() string
	// ID names the destination's cursor folder: stable for the same
	// endpoint.
	ID() string
	Send(ctx context.Context, items []Item) (rejected int64, err error)
	// ConfirmAfter is how long after a successful Send the batch is
	// trusted as delivered (0: at once). A TCP write is no
	// acknowledgement: syslog batches wait, and go again if the
	// connection is found broken in the meantime.
	ConfirmAfter() time.Duration
	// Lanes is how many batches (of different trails) may be in flight at
	// once.
	Lanes() int
	// Healthy reports whether what was sent can still be trusted.
	Healthy() error
	Close() error
}

// destID is kind plus a digest of the endpoint.
func destID(kind, endpoint string) string {
	sum := sha256.Sum256([]byte(endpoint))
	return kind + "-" + hex.EncodeToString(sum[:6])
}

// sendError carries how to retry.
type sendError struct {
	err        error
	retryAfter time.Duration
	// slow marks errors that will not go away by themselves (a 4xx: the
	// admin must fix the endpoint, the ingest key or the collector); they
	// are still retried, slowly.
	slow bool
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// brokenDest stands for a destination that could not be set up (an
// unreadable CA file): it shows the error in status and delivers nothing.
type brokenDest struct {
	kind, endpoint string
	err            error
}

func orBroken(d destination, err error, kind, endpoint string) destination {
	if err != nil {
		return &brokenDest{kind: kind, endpoint: endpoint, err: err}
	}
	return d
}

func (b *brokenDest) Kind() string                { return b.kind }
func (b *brokenDest) Endpoint() string            { return b.endpoint }
func (b *brokenDest) ID() string                  { return destID(b.kind, b.endpoint) }
func (b *brokenDest) ConfirmAfter() time.Duration { return 0 }
func (b *brokenDest) Lanes() int                  { return 1 }
func (b *brokenDest) Healthy() error              { return b.err }
func (b *brokenDest) Close() error                { return nil }
func (b *brokenDest) Send(context.Context, []Item) (int64, error) {
	return 0, &sendError{err: b.err, slow: true}
}

// Batch limits: large enough for catch-up throughput, small enough that
// one request stays well under collectors' default size limits.
const (
	maxBatchRecords = 4000
	maxBatchBytes   = 4 << 20
)

// Retry timing.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 30 * time.Second
	slowRetry   = 2 * time.Minute
)

func backoff(attempt int, e *sendError) time.Duration {
	d := backoffBase << min(attempt, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	if e != nil && e.slow {
		d = slowRetry
	}
	// Jitter: a fleet that lost its collector must not come back in step.
	d = d/2 + rand.N(d/2+1)
	if e != nil && e.retryAfter > d {
		d = min(e.retryAfter, 10*time.Minute)
	}
	return d
}

var errStopped = errors.New("forwarder stopped")

// fmtErr keeps status errors to one line.
func fmtErr(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprint(s)
}
