package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Service is what the tray's windows ask the workstation service. The real
// one is a *localapi.Client; Reconnect wraps one so that a service that
// restarts (or a demo instance that exited while idle) is found again.
type Service interface {
	// Status is access for this account: policy, enrollment, token, kill
	// switch, live sessions, writes waiting for approval.
	Status(ctx context.Context, r localapi.StatusRequest) (localapi.Status, error)
	// Events follows this account's events: records, status changes,
	// writes to approve.
	Events(ctx context.Context) (*localapi.EventStream, error)
	Kill(ctx context.Context, r localapi.KillRequest) error
	// Resume needs the account password (the service checks it), except
	// in a demo instance.
	Resume(ctx context.Context, r localapi.KillRequest) error
	StopSession(ctx context.Context, id string) error
	Records(ctx context.Context, q localapi.RecordsQuery) ([]audit.Record, error)
	Verify(ctx context.Context, all bool) (localapi.VerifyResult, error)
	// Answer approves (with the account password) or denies a write.
	Answer(ctx context.Context, a localapi.Answer) error
	SealToken(ctx context.Context, r localapi.SealRequest) (localapi.TokenInfo, error)
	TokenStatus(ctx context.Context, stored string) (localapi.TokenInfo, error)
	TokenRemoved(ctx context.Context, stored string) error
	Record(ctx context.Context, r localapi.RecordRequest) error
	// ToolChanges lists the tool definitions Scispot changed that wait
	// for this account, old and new; AcceptTool accepts one for this
	// account with the account password (the service checks it).
	ToolChanges(ctx context.Context, r localapi.ToolsRequest) ([]localapi.ToolChange, error)
	AcceptTool(ctx context.Context, r localapi.AcceptToolRequest) error
}

var _ Service = (*localapi.Client)(nil)

// ErrNotRunning matches the errors of a Service from Reconnect while the
// service cannot be reached.
var ErrNotRunning = errors.New("the Scispot MCP service is not running")

// notRunning keeps the sentence of why the service could not be reached
// and matches ErrNotRunning.
type notRunning struct{ err error }

func (e *notRunning) Error() string        { return e.err.Error() }
func (e *notRunning) Unwrap() error        { return e.err }
func (e *notRunning) Is(target error) bool { return target == ErrNotRunning }

// Unreachable reports whether err means the service did not answer at all
// (not installed, not running, gone mid-request), rather than answering
// with a refusal or failure of its own.
func Unreachable(err error) bool {
	var apiErr *localapi.Error
	switch {
	case err == nil, errors.As(err, &apiErr), errors.Is(err, context.Canceled), errors.Is(err, localapi.ErrNotSystem):
		return false
	}
	return true
}

// NotRunning is the sentence the windows show while the service cannot be
// reached.
func NotRunning(demo bool) string {
	if demo {
		return "The Scispot MCP service is not running, and its demo instance could not be started; the tray keeps trying."
	}
	return "The Scispot MCP service is not running on this workstation, so AI clients cannot reach Scispot; ask your IT admin to install or start scispot-mcpd."
}

// Reconnect returns a Service that connects with connect on first use and
// again on the call after the service could not be reached: the system
// service restarted, or this account's demo instance exited while idle
// (connect starts it again). initial, if not nil, is the first connection.
// While connect fails, every call fails with its error, matching
// ErrNotRunning.
func Reconnect(connect func(ctx context.Context) (Service, error), initial Service) Service {
	return &reconnecting{connect: connect, cur: initial}
}

type reconnecting struct {
	connect func(ctx context.Context) (Service, error)

	// mu also serialises connecting, so concurrent callers start at most
	// one demo instance.
	mu  sync.Mutex
	cur Service
}

func (r *reconnecting) get(ctx context.Context) (Service, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		return r.cur, nil
	}
	s, err := r.connect(ctx)
	if err != nil {
		return nil, &notRunning{err}
	}
	r.cur = s
	return s, nil
}

// seen forgets s when err says the service behind it is gone.
func (r *reconnecting) seen(s Service, err error) {
	if !Unreachable(err) {
		return
	}
	r.mu.Lock()
	if r.cur == s {
		r.cur = nil
	}
	r.mu.Unlock()
}

func call[T any](r *reconnecting, ctx context.Context, f func(Service) (T, error)) (T, error) {
	s, err := r.get(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := f(s)
	r.seen(s, err)
	return v, err
}

func call0(r *reconnecting, ctx context.Context, f func(Service) error) error {
	_, err := call(r, ctx, func(s Service) (struct{}, error) { return struct{}{}, f(s) })
	return err
}

func (r *reconnecting) Status(ctx context.Context, q localapi.StatusRequest) (localapi.Status, error) {
	return call(r, ctx, func(s Service) (localapi.Status, error) { return s.Status(ctx, q) })
}

func (r *reconnecting) Events(ctx context.Context) (*localapi.EventStream, error) {
	return call(r, ctx, func(s Service) (*localapi.EventStream, error) { return s.Events(ctx) })
}

func (r *reconnecting) Kill(ctx context.Context, q localapi.KillRequest) error {
	return call0(r, ctx, func(s Service) error { return s.Kill(ctx, q) })
}

func (r *reconnecting) Resume(ctx context.Context, q localapi.KillRequest) error {
	return call0(r, ctx, func(s Service) error { return s.Resume(ctx, q) })
}

func (r *reconnecting) StopSession(ctx context.Context, id string) error {
	return call0(r, ctx, func(s Service) error { return s.StopSession(ctx, id) })
}

func (r *reconnecting) Records(ctx context.Context, q localapi.RecordsQuery) ([]audit.Record, error) {
	return call(r, ctx, func(s Service) ([]audit.Record, error) { return s.Records(ctx, q) })
}

func (r *reconnecting) Verify(ctx context.Context, all bool) (localapi.VerifyResult, error) {
	return call(r, ctx, func(s Service) (localapi.VerifyResult, error) { return s.Verify(ctx, all) })
}

func (r *reconnecting) Answer(ctx context.Context, a localapi.Answer) error {
	return call0(r, ctx, func(s Service) error { return s.Answer(ctx, a) })
}

func (r *reconnecting) SealToken(ctx context.Context, q localapi.SealRequest) (localapi.TokenInfo, error) {
	return call(r, ctx, func(s Service) (localapi.TokenInfo, error) { return s.SealToken(ctx, q) })
}

func (r *reconnecting) TokenStatus(ctx context.Context, stored string) (localapi.TokenInfo, error) {
	return call(r, ctx, func(s Service) (localapi.TokenInfo, error) { return s.TokenStatus(ctx, stored) })
}

func (r *reconnecting) TokenRemoved(ctx context.Context, stored string) error {
	return call0(r, ctx, func(s Service) error { return s.TokenRemoved(ctx, stored) })
}

func (r *reconnecting) Record(ctx context.Context, q localapi.RecordRequest) error {
	return call0(r, ctx, func(s Service) error { return s.Record(ctx, q) })
}

func (r *reconnecting) ToolChanges(ctx context.Context, q localapi.ToolsRequest) ([]localapi.ToolChange, error) {
	return call(r, ctx, func(s Service) ([]localapi.ToolChange, error) { return s.ToolChanges(ctx, q) })
}

func (r *reconnecting) AcceptTool(ctx context.Context, q localapi.AcceptToolRequest) error {
	return call0(r, ctx, func(s Service) error { return s.AcceptTool(ctx, q) })
}

// ToolChangeKey names a change waiting: the tool and the hash of its new
// definition.
func ToolChangeKey(c localapi.ToolChange) string { return c.Tool + "@" + c.New.SHA256 }

// ToolChangeKeys are the changes' keys, sorted: two lists with the same
// keys wait for the same reviews.
func ToolChangeKeys(changes []localapi.ToolChange) []string {
	keys := make([]string, 0, len(changes))
	for _, c := range changes {
		keys = append(keys, ToolChangeKey(c))
	}
	slices.Sort(keys)
	return keys
}

// KeychainItem is what the keychain holds for the service (the sealed
// token; the tray never opens it), or the sentence saying why it could not
// be read. No token stored is "", "".
func KeychainItem(ctx context.Context, kc keychain.Store) (item, problem string) {
	if kc == nil {
		return "", ""
	}
	t, err := kc.Get(ctx, keychain.AccountToken)
	switch {
	case err == nil:
		return t, ""
	case errors.Is(err, keychain.ErrNotFound):
		return "", ""
	}
	return "", err.Error()
}

// StatusRequestFor is the status request of a tray: with the keychain's
// item, except on the demo workspace, which needs no token (and whose demo
// instance must not be sent one).
func StatusRequestFor(ctx context.Context, kc keychain.Store, demo bool) localapi.StatusRequest {
	if demo {
		return localapi.StatusRequest{}
	}
	item, problem := KeychainItem(ctx, kc)
	return localapi.StatusRequest{Token: item, TokenError: problem}
}

// StatusTimeout bounds one status request.
const StatusTimeout = 15 * time.Second

// ReadStatus asks svc for the account's status. The keychain's item goes
// only to the system service; if the service that answers is not one,
// status is asked again without it.
func ReadStatus(ctx context.Context, svc Service, req localapi.StatusRequest) (localapi.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, StatusTimeout)
	defer cancel()
	st, err := svc.Status(ctx, req)
	if errors.Is(err, localapi.ErrNotSystem) && req.Token != "" {
		st, err = svc.Status(ctx, localapi.StatusRequest{TokenError: "the token was not sent: the Scispot MCP service that answers is not the system service"})
	}
	return st, err
}

// Follower receives a service's events; every field may be nil.
type Follower struct {
	// Connected runs each time a stream opens (at first and after every
	// reconnection), before its first event: re-read what may have
	// changed meanwhile.
	Connected func(ctx context.Context)
	// Event runs for each event, on Follow's goroutine.
	Event func(ctx context.Context, e localapi.Event)
	// Down runs once per outage, with why the stream could not be opened
	// or ended.
	Down func(err error)
	// MinBackoff and MaxBackoff bound the wait between attempts to
	// reconnect (100 ms and 5 s when zero).
	MinBackoff, MaxBackoff time.Duration
}

// Follow keeps an event stream of svc open until ctx ends, reconnecting
// with backoff when the service goes away or cannot be reached.
func Follow(ctx context.Context, svc Service, f Follower) error {
	minWait, maxWait := f.MinBackoff, f.MaxBackoff
	if minWait <= 0 {
		minWait = 100 * time.Millisecond
	}
	if maxWait < minWait {
		maxWait = max(5*time.Second, minWait)
	}
	wait := minWait
	down := false
	for {
		st, err := svc.Events(ctx)
		if err == nil {
			wait, down = minWait, false
			if f.Connected != nil {
				f.Connected(ctx)
			}
			for e := range st.C {
				if f.Event != nil && e.Kind != "ping" {
					f.Event(ctx, e)
				}
			}
			err = st.Err()
		}
		if ctx.Err() != nil {
			return nil
		}
		if !down {
			down = true
			if f.Down != nil {
				f.Down(err)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, maxWait)
	}
}
