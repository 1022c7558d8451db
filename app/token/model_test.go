package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

const secret = "sk-TEST-0123456789-secret"

var setAt = time.Date(2026, 3, 4, 10, 6, 0, 0, time.UTC)

type fixture struct {
	kc     *keychain.Memory
	state  string
	policy policy.Snapshot
	verify func(ctx context.Context, url, token string) (apitoken.Verification, error)
}

func newFixture(t *testing.T) *fixture {
	return &fixture{
		kc:     keychain.NewMemory(),
		state:  t.TempDir(),
		policy: policy.Snapshot{Policy: policy.Default()},
		verify: accept,
	}
}

func accept(_ context.Context, url, token string) (apitoken.Verification, error) {
	if token != secret {
		return apitoken.Verification{URL: url, Latency: 90 * time.Millisecond}, &upstream.Error{Kind: upstream.Unauthorized, Status: 401}
	}
	return apitoken.Verification{URL: url, Tools: 27, Latency: 412 * time.Millisecond}, nil
}

func (f *fixture) model() *Model {
	return NewModel(Config{
		Keychain: f.kc,
		StateDir: f.state,
		Policy:   func(context.Context) policy.Snapshot { return f.policy },
		Verify:   func(ctx context.Context, u, tok string) (apitoken.Verification, error) { return f.verify(ctx, u, tok) },
		Changer:  apitoken.Changer{Now: func() time.Time { return setAt }},
	})
}

func TestModel(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fixture)
		act   func(m *Model)
		want  State // only the fields named in check are compared
		// substrings of Status and Result
		status, result string
		stored         bool
	}{
		{name: "empty", act: func(*Model) {},
			want: State{StatusOK: true}, status: "No Scispot API token is stored"},
		{name: "stored with set time",
			setup: func(f *fixture) {
				_, _ = apitoken.Changer{Keychain: f.kc, StateDir: f.state, Now: func() time.Time { return setAt }}.Set(ctx, secret)
			},
			act:  func(*Model) {},
			want: State{StatusOK: true}, stored: true, status: "fingerprint " + keychain.Fingerprint(secret) + "), set "},
		{name: "stored elsewhere",
			setup: func(f *fixture) { _ = f.kc.Set(ctx, keychain.AccountToken, secret) },
			act:   func(*Model) {},
			want:  State{StatusOK: true}, stored: true, status: "when it was set is unknown"},
		{name: "keychain locked",
			setup: func(f *fixture) { f.kc.FailWith(keychain.ErrLocked) },
			act:   func(*Model) {},
			want:  State{}, status: "keychain could not be read"},
		{name: "verify accepted",
			act:  func(m *Model) { m.Verify(ctx, "  "+secret+"\n") },
			want: State{StatusOK: true, ResultOK: true}, result: "accepted the token: 27 tools (412 ms)"},
		{name: "save accepted",
			act:  func(m *Model) { m.Save(ctx, secret) },
			want: State{StatusOK: true, ResultOK: true, Saved: true}, stored: true,
			result: "Saved in the OS keychain (fingerprint " + keychain.Fingerprint(secret)},
		{name: "save rejected 401",
			act:  func(m *Model) { m.Save(ctx, "sk-wrong") },
			want: State{StatusOK: true}, result: "rejected this token (after 90 ms)"},
		{name: "save unreachable",
			setup: func(f *fixture) {
				f.verify = func(context.Context, string, string) (apitoken.Verification, error) {
					return apitoken.Verification{Latency: 2 * time.Second}, &upstream.Error{Kind: upstream.Unavailable, Detail: "connection refused"}
				}
			},
			act:  func(m *Model) { m.Save(ctx, secret) },
			want: State{StatusOK: true}, result: "Scispot did not answer: connection refused. (after 2.0 s) The token was not saved."},
		{name: "policy invalid",
			setup: func(f *fixture) { f.policy = policy.Snapshot{Err: errors.New("managed policy x: unknown key Foo")} },
			act:   func(m *Model) { m.Save(ctx, secret) },
			want:  State{StatusOK: true}, result: "admin policy is invalid"},
		{name: "bearer pasted",
			act:  func(m *Model) { m.Save(ctx, "Bearer "+secret) },
			want: State{StatusOK: true}, result: `starts with the word "Bearer"`},
		{name: "empty paste",
			act:  func(m *Model) { m.Verify(ctx, "   ") },
			want: State{StatusOK: true}, result: "The token is empty"},
		{name: "save keychain locked",
			setup: func(f *fixture) { f.kc.FailWith(keychain.ErrLocked) },
			act:   func(m *Model) { m.Save(ctx, secret) },
			want:  State{}, result: "could not be saved"},
		{name: "remove",
			setup: func(f *fixture) { _ = f.kc.Set(ctx, keychain.AccountToken, secret) },
			act:   func(m *Model) { m.Remove(ctx) },
			want:  State{StatusOK: true, ResultOK: true}, status: "No Scispot API token", result: "was removed from the keychain"},
		{name: "remove nothing",
			act:  func(m *Model) { m.Remove(ctx) },
			want: State{StatusOK: true, ResultOK: true}, result: "nothing to remove"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			m := f.model()
			m.Load(ctx)
			tt.act(m)
			s := m.State()
			if s.Busy || s.Activity != "" {
				t.Errorf("still busy: %+v", s)
			}
			if s.StatusOK != tt.want.StatusOK || s.ResultOK != tt.want.ResultOK || s.Saved != tt.want.Saved || s.Stored != tt.stored {
				t.Errorf("state %+v, want StatusOK=%v ResultOK=%v Saved=%v Stored=%v", s, tt.want.StatusOK, tt.want.ResultOK, tt.want.Saved, tt.stored)
			}
			if !strings.Contains(s.Status, tt.status) {
				t.Errorf("Status %q lacks %q", s.Status, tt.status)
			}
			if !strings.Contains(s.Result, tt.result) {
				t.Errorf("Result %q lacks %q", s.Result, tt.result)
			}
			if strings.Contains(s.Status+s.Result+s.Note, secret) {
				t.Error("the state shows the token")
			}
		})
	}
}

func TestModelBusy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	started, release := make(chan struct{}), make(chan struct{})
	f.verify = func(ctx context.Context, u, tok string) (apitoken.Verification, error) {
		close(started)
		<-release
		return accept(ctx, u, tok)
	}
	m := f.model()
	done := make(chan struct{})
	go func() { m.Save(ctx, secret); close(done) }()
	<-started
	if s := m.State(); !s.Busy || s.Activity == "" {
		t.Errorf("while checking: %+v", s)
	}
	m.Save(ctx, "sk-second") // refused while busy: must not block or run
	close(release)
	<-done
	if s := m.State(); s.Busy || !s.Saved {
		t.Errorf("after: %+v", s)
	}
	if got, _ := f.kc.Get(ctx, keychain.AccountToken); got != secret {
		t.Errorf("keychain holds the wrong token")
	}
}

func TestDemoNote(t *testing.T) {
	m := NewModel(Config{Keychain: keychain.NewMemory(), Demo: true})
	if !strings.Contains(m.State().Note, "demo workspace needs no token") {
		t.Errorf("Note = %q", m.State().Note)
	}
}
