package token

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

const secret = "sk-TEST-0123456789-secret"

var setAt = time.Date(2026, 3, 4, 10, 6, 0, 0, time.UTC)

// fixture is a real service whose policy points at a stand-in Scispot that
// accepts secret, and an empty keychain.
type fixture struct {
	kc    *keychain.Memory
	state string
	svc   *apptest.Service
	// wrap, if set, stands between the model and the service.
	wrap func(app.Service) app.Service
}

func newFixture(t *testing.T, mode string) *fixture {
	up := upstreamtest.New(t, secret)
	return &fixture{
		kc:    keychain.NewMemory(),
		state: t.TempDir(),
		svc: apptest.NewService(t, apptest.ServiceOptions{Mode: mode,
			Policy: []policy.Store{apptest.Policy{"UpstreamURL": up.URL}}}),
	}
}

func (f *fixture) model(demo bool) *Model {
	var svc app.Service = f.svc.Client
	if f.wrap != nil {
		svc = f.wrap(svc)
	}
	return NewModel(Config{
		Keychain: f.kc,
		Service:  svc,
		StateDir: f.state,
		Demo:     demo,
		Now:      func() time.Time { return setAt },
	})
}

// events are the token records the service wrote for the account.
func (f *fixture) events(t *testing.T) []string {
	t.Helper()
	recs, err := f.svc.Records(context.Background(), localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if r.Event == audit.EventTokenSet || r.Event == audit.EventTokenRemove {
			out = append(out, string(r.Event)+" "+r.Token)
		}
	}
	return out
}

func TestModel(t *testing.T) {
	ctx := context.Background()
	fp := keychain.Fingerprint(secret)
	tests := []struct {
		name  string
		mode  string
		setup func(t *testing.T, f *fixture)
		act   func(m *Model)
		want  State // StatusOK, ResultOK, Saved, CannotSeal are compared
		// substrings of Status, Result and Note
		status, result, note string
		stored               bool
		// check looks at the keychain, token.json and the trail.
		check func(t *testing.T, f *fixture)
	}{
		{name: "empty", act: func(*Model) {},
			want: State{StatusOK: true}, status: "No Scispot API token is stored"},
		{name: "save accepted",
			act:  func(m *Model) { m.Save(ctx, "  "+secret+"\n", true) },
			want: State{StatusOK: true, ResultOK: true, Saved: true}, stored: true,
			status: "(fingerprint " + fp + "), set ",
			result: "Scispot accepted the token (",
			check: func(t *testing.T, f *fixture) {
				item, _ := f.kc.Get(ctx, keychain.AccountToken)
				if !seal.IsSealed(item) || strings.Contains(item, secret) {
					t.Errorf("the keychain holds %q, not the sealed token", item)
				}
				if info, err := apitoken.ReadInfo(f.state); err != nil || info.Fingerprint != fp || !info.SetAt.Equal(setAt) {
					t.Errorf("token.json: %+v, %v", info, err)
				}
				if got := f.events(t); len(got) != 1 || got[0] != "token.set "+fp {
					t.Errorf("records %v", got)
				}
			}},
		{name: "save rejected",
			act:  func(m *Model) { m.Save(ctx, "sk-wrong-token-000", true) },
			want: State{StatusOK: true}, result: "Scispot rejected this token",
			check: func(t *testing.T, f *fixture) {
				if _, err := f.kc.Get(ctx, keychain.AccountToken); err == nil {
					t.Error("a rejected token was stored")
				}
			}},
		{name: "save without verifying",
			act:  func(m *Model) { m.Save(ctx, "sk-wrong-token-000", false) },
			want: State{StatusOK: true, ResultOK: true, Saved: true}, stored: true,
			status: keychain.Fingerprint("sk-wrong-token-000"), result: "not checked with Scispot. Saved in the OS keychain"},
		{name: "bearer pasted",
			act:  func(m *Model) { m.Save(ctx, "Bearer "+secret, true) },
			want: State{StatusOK: true}, result: `starts with the word "Bearer"`},
		{name: "empty paste",
			act:  func(m *Model) { m.Save(ctx, "   ", true) },
			want: State{StatusOK: true}, result: "The token is empty"},
		{name: "keychain locked",
			setup: func(_ *testing.T, f *fixture) { f.kc.FailWith(keychain.ErrLocked) },
			act:   func(m *Model) { m.Save(ctx, secret, false) },
			want:  State{}, status: "keychain could not be read", result: "could not be saved in the keychain"},
		{name: "plain token from before sealing",
			setup: func(_ *testing.T, f *fixture) { f.kc.Set(ctx, keychain.AccountToken, secret) },
			act:   func(*Model) {},
			want:  State{StatusOK: true}, stored: true, status: "(fingerprint " + fp + "); when it was set is unknown",
			check: func(t *testing.T, f *fixture) {
				if item, _ := f.kc.Get(ctx, keychain.AccountToken); !seal.IsSealed(item) {
					t.Error("the plain token was not replaced by its sealed form")
				}
			}},
		{name: "unusable item",
			setup: func(_ *testing.T, f *fixture) { f.kc.Set(ctx, keychain.AccountToken, seal.Prefix+"garbage") },
			act:   func(*Model) {},
			want:  State{}, stored: true, status: "A token is stored in the OS keychain, but"},
		{name: "remove",
			setup: func(t *testing.T, f *fixture) {
				m := f.model(false)
				m.Save(ctx, secret, false)
				if !m.State().Saved {
					t.Fatalf("setup: %+v", m.State())
				}
			},
			act:  func(m *Model) { m.Remove(ctx) },
			want: State{StatusOK: true, ResultOK: true}, status: "No Scispot API token", result: "(fingerprint " + fp + ") was removed from the keychain",
			check: func(t *testing.T, f *fixture) {
				if got := f.events(t); len(got) != 2 || got[1] != "token.remove "+fp {
					t.Errorf("records %v", got)
				}
				if info, _ := apitoken.ReadInfo(f.state); info.Fingerprint != "" {
					t.Error("token.json is still there")
				}
			}},
		{name: "remove nothing",
			act:  func(m *Model) { m.Remove(ctx) },
			want: State{StatusOK: true, ResultOK: true}, result: "nothing to remove"},
		{name: "demo instance cannot seal", mode: localapi.ModeUserDemo,
			act:  func(m *Model) { m.Save(ctx, secret, true) },
			want: State{StatusOK: true, CannotSeal: true}, note: "demo instance that runs here cannot seal one",
			result: "no token can be stored"},
		{name: "service not running",
			setup: func(t *testing.T, f *fixture) {
				f.kc.Set(ctx, keychain.AccountToken, seal.Prefix+"x")
				f.svc.Stop(t)
			},
			act:  func(m *Model) { m.Save(ctx, secret, true) },
			want: State{StatusOK: true}, stored: true, status: "while the Scispot MCP service is not running",
			result: "not running on this workstation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.mode)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			m := f.model(false)
			m.Load(ctx)
			tt.act(m)
			s := m.State()
			if s.Busy || s.Activity != "" {
				t.Errorf("still busy: %+v", s)
			}
			if s.StatusOK != tt.want.StatusOK || s.ResultOK != tt.want.ResultOK || s.Saved != tt.want.Saved || s.Stored != tt.stored || s.CannotSeal != tt.want.CannotSeal {
				t.Errorf("state %+v\nwant StatusOK=%v ResultOK=%v Saved=%v Stored=%v CannotSeal=%v", s, tt.want.StatusOK, tt.want.ResultOK, tt.want.Saved, tt.stored, tt.want.CannotSeal)
			}
			for what, c := range map[string][2]string{"Status": {s.Status, tt.status}, "Result": {s.Result, tt.result}, "Note": {s.Note, tt.note}} {
				if !strings.Contains(c[0], c[1]) {
					t.Errorf("%s %q lacks %q", what, c[0], c[1])
				}
			}
			if strings.Contains(s.Status+s.Result+s.Note, secret) {
				t.Error("the state shows the token")
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// slowSeal holds SealToken until released.
type slowSeal struct {
	app.Service
	started, release chan struct{}
	once             sync.Once
}

func (s *slowSeal) SealToken(ctx context.Context, r localapi.SealRequest) (localapi.TokenInfo, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	return s.Service.SealToken(ctx, r)
}

func TestModelBusy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "")
	slow := &slowSeal{started: make(chan struct{}), release: make(chan struct{})}
	f.wrap = func(s app.Service) app.Service { slow.Service = s; return slow }
	m := f.model(false)
	done := make(chan struct{})
	go func() { m.Save(ctx, secret, true); close(done) }()
	<-slow.started
	if s := m.State(); !s.Busy || s.Activity == "" {
		t.Errorf("while checking: %+v", s)
	}
	m.Save(ctx, "sk-second-token-00", true) // refused while busy: must not block or run
	close(slow.release)
	<-done
	if s := m.State(); s.Busy || !s.Saved || s.Fingerprint != keychain.Fingerprint(secret) {
		t.Errorf("after: %+v", s)
	}
}

func TestDemoNote(t *testing.T) {
	f := newFixture(t, "")
	m := f.model(true)
	m.Load(context.Background())
	if !strings.Contains(m.State().Note, "demo workspace needs no token") || m.State().CannotSeal {
		t.Errorf("state %+v", m.State())
	}
}
