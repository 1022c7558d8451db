package keychain_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/scispot/mcp-desktop/device/keychain"
)

func TestFingerprint(t *testing.T) {
	tests := []struct{ token, want string }{
		// SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
		{"abc", "ba7816bf8f01"},
		// SHA-256("") = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
		{"", "e3b0c44298fc"},
	}
	for _, tt := range tests {
		if got := keychain.Fingerprint(tt.token); got != tt.want {
			t.Errorf("Fingerprint(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
	if a, b := keychain.Fingerprint("token-a"), keychain.Fingerprint("token-b"); a == b {
		t.Errorf("different tokens share fingerprint %q", a)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *keychain.Error
		want string
	}{
		{"reason and cause",
			&keychain.Error{Op: "reading", Account: "api-token", Kind: keychain.ErrUnavailable, Reason: "no Secret Service", Err: errors.New("dbus said no")},
			`keychain: reading "api-token": no Secret Service (dbus said no)`},
		{"reason only",
			&keychain.Error{Op: "storing", Account: "x", Kind: keychain.ErrLocked, Reason: "it is locked"},
			`keychain: storing "x": it is locked`},
		{"kind and cause",
			&keychain.Error{Op: "removing", Account: "x", Kind: keychain.ErrLocked, Err: errors.New("boom")},
			`keychain: removing "x": keychain locked: boom`},
		{"cause only",
			&keychain.Error{Op: "reading", Account: "x", Err: keychain.ErrUnavailable},
			`keychain: reading "x": keychain unavailable`},
		{"no account",
			&keychain.Error{Op: "checking the token", Kind: keychain.ErrInvalidToken, Reason: "the token is empty"},
			`keychain: checking the token: the token is empty`},
		{"nothing", &keychain.Error{}, "keychain: unknown error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if tt.err.Kind != nil && !errors.Is(tt.err, tt.err.Kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.err.Kind)
			}
			if tt.err.Err != nil && !errors.Is(tt.err, tt.err.Err) {
				t.Errorf("errors.Is(err, cause) = false")
			}
		})
	}
}

func TestMemory(t *testing.T) {
	ctx := t.Context()
	m := keychain.NewMemory()
	const secret = "s3cret-value-123"

	if _, err := m.Get(ctx, keychain.AccountToken); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get(missing) error = %v, want ErrNotFound", err)
	}
	if err := m.Delete(ctx, keychain.AccountToken); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Delete(missing) error = %v, want ErrNotFound", err)
	}
	if err := m.Set(ctx, keychain.AccountToken, secret); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := m.Get(ctx, keychain.AccountToken); err != nil || got != secret {
		t.Fatalf("Get = %q, %v; want the secret", got, err)
	}
	if _, err := m.Get(ctx, keychain.AccountLocalSecret); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get(other account) error = %v, want ErrNotFound", err)
	}
	if err := m.Set(ctx, keychain.AccountToken, "replaced"); err != nil {
		t.Fatalf("Set(overwrite): %v", err)
	}
	if got, _ := m.Get(ctx, keychain.AccountToken); got != "replaced" {
		t.Fatalf("Get after overwrite = %q, want %q", got, "replaced")
	}
	if err := m.Delete(ctx, keychain.AccountToken); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := m.Get(ctx, keychain.AccountToken)
	if !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "scispot-mcp token set") {
		t.Errorf("not-found error for the token %q does not say how to add one", err)
	}
}

func TestMemoryRejects(t *testing.T) {
	ctx := t.Context()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	m := keychain.NewMemory()
	tests := []struct {
		name string
		call func() error
		is   error
	}{
		{"empty account", func() error { _, err := m.Get(ctx, ""); return err }, nil},
		{"control char in account", func() error { return m.Delete(ctx, "a\nb") }, nil},
		{"empty secret", func() error { return m.Set(ctx, "a", "") }, nil},
		{"cancelled get", func() error { _, err := m.Get(cancelled, "a"); return err }, context.Canceled},
		{"cancelled set", func() error { return m.Set(cancelled, "a", "x") }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("got nil error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if errors.Is(err, keychain.ErrNotFound) {
				t.Errorf("%v wrongly matches ErrNotFound", err)
			}
		})
	}
	if _, err := m.Get(ctx, "a"); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("a rejected Set stored something: Get error = %v", err)
	}
}

func TestMemoryFailWith(t *testing.T) {
	ctx := t.Context()
	m := keychain.NewMemory()
	if err := m.Set(ctx, "a", "x"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []error{keychain.ErrLocked, keychain.ErrUnavailable} {
		m.FailWith(want)
		if _, err := m.Get(ctx, "a"); !errors.Is(err, want) {
			t.Errorf("Get error = %v, want %v", err, want)
		}
		if err := m.Set(ctx, "a", "y"); !errors.Is(err, want) {
			t.Errorf("Set error = %v, want %v", err, want)
		}
		if err := m.Delete(ctx, "a"); !errors.Is(err, want) {
			t.Errorf("Delete error = %v, want %v", err, want)
		}
	}
	m.FailWith(nil)
	if got, err := m.Get(ctx, "a"); err != nil || got != "x" {
		t.Errorf("after FailWith(nil) Get = %q, %v; want the value stored before the failures", got, err)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	ctx := t.Context()
	m := keychain.NewMemory()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			account := fmt.Sprintf("acct-%d", i)
			for j := range 50 {
				secret := fmt.Sprintf("secret-%d-%d", i, j)
				if err := m.Set(ctx, account, secret); err != nil {
					t.Error(err)
					return
				}
				if got, err := m.Get(ctx, account); err != nil || got != secret {
					t.Errorf("Get(%s) = %q, %v; want %q", account, got, err, secret)
					return
				}
				_ = m.Delete(ctx, "shared")
				_ = m.Set(ctx, "shared", secret)
			}
		})
	}
	wg.Wait()
}
