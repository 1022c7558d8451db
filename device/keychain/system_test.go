package keychain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// fakeBackend is an in-memory go-keyring. Calls can be made to block, fail
// or panic.
type fakeBackend struct {
	mu    sync.Mutex
	items map[string]string
	calls int

	// entered, if set, receives once per call before it does anything.
	entered chan string
	// release, if set, is waited for after entered.
	release chan struct{}
	// fail, if set, decides each call's error.
	fail func(op, secret string) (string, error)
	// panicWith, if non-nil, is panicked with.
	panicWith any
}

func newFakeBackend() *fakeBackend { return &fakeBackend{items: map[string]string{}} }

func (f *fakeBackend) enter(op, secret string) (string, error, bool) {
	f.mu.Lock()
	f.calls++
	entered, release, fail, p := f.entered, f.release, f.fail, f.panicWith
	f.mu.Unlock()
	if entered != nil {
		entered <- op
	}
	if release != nil {
		<-release
	}
	if p != nil {
		panic(p)
	}
	if fail != nil {
		v, err := fail(op, secret)
		return v, err, true
	}
	return "", nil, false
}

func (f *fakeBackend) Get(service, user string) (string, error) {
	if v, err, done := f.enter("get", ""); done {
		return v, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeBackend) Set(service, user, password string) error {
	if _, err, done := f.enter("set", password); done {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"/"+user] = password
	return nil
}

func (f *fakeBackend) Delete(service, user string) error {
	if _, err, done := f.enter("delete", ""); done {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"/"+user)
	return nil
}

func (f *fakeBackend) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// explainAll is a platform explanation that calls everything locked, so
// tests can see explanations being applied.
func explainAll(error) explanation {
	return explanation{kind: ErrLocked, reason: "the test keyring is locked"}
}

func newTestSystem(b backend, timeout time.Duration) *system {
	return newSystem(platform{backend: b, explain: explainAll}, timeout)
}

func TestSystemRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := newTestSystem(newFakeBackend(), time.Hour)
	if _, err := s.Get(ctx, AccountToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, AccountToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.Set(ctx, AccountToken, "one"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, AccountToken, "two"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, AccountToken); err != nil || got != "two" {
		t.Fatalf("Get = %q, %v; want %q", got, err, "two")
	}
	if err := s.Delete(ctx, AccountToken); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, AccountToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
}

func TestSystemRejectsBeforeTouchingKeychain(t *testing.T) {
	b := newFakeBackend()
	refuse := func() *explanation { return &explanation{kind: ErrUnavailable, reason: "no keychain here"} }
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ready func() *explanation
		call  func(s *system) error
		is    error
	}{
		{"not ready get", refuse, func(s *system) error { _, err := s.Get(t.Context(), "a"); return err }, ErrUnavailable},
		{"not ready set", refuse, func(s *system) error { return s.Set(t.Context(), "a", "x") }, ErrUnavailable},
		{"not ready delete", refuse, func(s *system) error { return s.Delete(t.Context(), "a") }, ErrUnavailable},
		{"cancelled", nil, func(s *system) error { _, err := s.Get(cancelled, "a"); return err }, context.Canceled},
		{"empty account", nil, func(s *system) error { _, err := s.Get(t.Context(), ""); return err }, nil},
		{"empty secret", nil, func(s *system) error { return s.Set(t.Context(), "a", "") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSystem(platform{backend: b, ready: tt.ready, explain: explainAll}, time.Hour)
			err := tt.call(s)
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if n := b.callCount(); n != 0 {
				t.Errorf("the keychain was called %d times", n)
			}
		})
	}
}

func TestSystemCallerCancels(t *testing.T) {
	b := newFakeBackend()
	b.entered = make(chan string, 1)
	b.release = make(chan struct{})
	s := newTestSystem(b, time.Hour)

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- s.Set(ctx, "a", "first") }()
	<-b.entered
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set error = %v, want context.Canceled and not ErrUnavailable", err)
	}

	// The abandoned Set still completes, and a later Get waits for it.
	b.mu.Lock()
	b.entered = nil
	b.mu.Unlock()
	close(b.release)
	if got, err := s.Get(t.Context(), "a"); err != nil || got != "first" {
		t.Fatalf("Get = %q, %v; want the abandoned Set's value", got, err)
	}
}

func TestSystemTimeout(t *testing.T) {
	b := newFakeBackend()
	b.entered = make(chan string, 2)
	b.release = make(chan struct{})
	// The backend blocks until released, so the deadline always passes
	// first; the length of the timeout does not matter.
	s := newTestSystem(b, time.Millisecond)

	_, err := s.Get(t.Context(), "a")
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get error = %v, want ErrUnavailable and context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("error %q does not say the keychain did not answer", err)
	}
	<-b.entered

	// The first call still holds the keychain: the next one gives up
	// without calling it again.
	err = s.Delete(t.Context(), "a")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "still busy") {
		t.Fatalf("Delete error = %v, want ErrUnavailable saying the keychain is still busy", err)
	}
	if n := b.callCount(); n != 1 {
		t.Fatalf("backend called %d times, want 1", n)
	}

	// Once the keychain answers, the Store works again.
	b.mu.Lock()
	b.entered = nil
	b.mu.Unlock()
	close(b.release)
	s.timeout = time.Hour
	if err := s.Set(t.Context(), "a", "x"); err != nil {
		t.Fatalf("Set after the keychain recovered: %v", err)
	}
}

func TestSystemRecoversPanic(t *testing.T) {
	b := newFakeBackend()
	b.panicWith = "nil pointer dereference holding s3cret"
	s := newTestSystem(b, time.Hour)
	err := s.Set(t.Context(), "a", "s3cret")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Set error = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q contains the panic value", err)
	}
	b.mu.Lock()
	b.panicWith = nil
	b.mu.Unlock()
	if err := s.Set(t.Context(), "a", "x"); err != nil {
		t.Fatalf("Set after a panic: %v", err)
	}
}

// secretError holds a secret in a field its Error text does not show.
type secretError struct{ hidden string }

func (secretError) Error() string { return "something failed" }

func TestSystemErrorsNeverContainTheSecret(t *testing.T) {
	const secret = "tok_9f8e7d6c5b4a"
	tests := []struct {
		name      string
		fail      func(op, secret string) (string, error)
		op        string
		wantCause bool
	}{
		{"harmless cause is kept", func(string, string) (string, error) {
			return "", errors.New("org.freedesktop.DBus.Error.NoReply")
		}, "set", true},
		{"cause quoting the secret", func(_, s string) (string, error) {
			return "", fmt.Errorf("could not store %q", s)
		}, "set", false},
		{"cause hiding the secret in a field", func(_, s string) (string, error) {
			return "", secretError{hidden: s}
		}, "set", false},
		{"get returning part of the value with the error", func(string, string) (string, error) {
			return "tok_9f8e", errors.New("bad byte after tok_9f8e")
		}, "get", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			b.fail = tt.fail
			s := newTestSystem(b, time.Hour)
			var err error
			if tt.op == "set" {
				err = s.Set(t.Context(), "a", secret)
			} else {
				var got string
				got, err = s.Get(t.Context(), "a")
				if got != "" {
					t.Errorf("Get returned %q with an error", got)
				}
			}
			if err == nil {
				t.Fatal("got nil error")
			}
			if !errors.Is(err, ErrLocked) {
				t.Errorf("the platform explanation was not applied: %v", err)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(text, "tok_9f8e") {
					t.Errorf("error text contains the secret: %s", text)
				}
			}
			var ke *Error
			if !errors.As(err, &ke) {
				t.Fatalf("error %T is not an *Error", err)
			}
			if (ke.Err != nil) != tt.wantCause {
				t.Errorf("cause kept = %v, want %v", ke.Err != nil, tt.wantCause)
			}
			if ke.Reason != "the test keyring is locked" {
				t.Errorf("Reason = %q", ke.Reason)
			}
		})
	}
}

func TestSystemOpaqueExplanationDropsCause(t *testing.T) {
	b := newFakeBackend()
	b.fail = func(string, string) (string, error) { return "", errors.New("decoding: invalid byte 'q'") }
	s := newSystem(platform{backend: b, explain: func(error) explanation {
		return explanation{reason: "the item is damaged", opaque: true}
	}}, time.Hour)
	_, err := s.Get(t.Context(), "a")
	if got, want := err.Error(), `keychain: reading "a": the item is damaged`; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

func TestSystemDataTooBig(t *testing.T) {
	b := newFakeBackend()
	b.fail = func(string, string) (string, error) { return "", keyring.ErrSetDataTooBig }
	s := newTestSystem(b, time.Hour)
	err := s.Set(t.Context(), "a", "x")
	if !errors.Is(err, keyring.ErrSetDataTooBig) || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("Set error = %v, want a plain 'too large' error", err)
	}
}
