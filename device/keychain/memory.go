package keychain

import (
	"context"
	"sync"
)

// Memory is an in-memory Store for tests. It behaves like System (same
// argument checks, same ErrNotFound errors) and is safe for concurrent use.
// Its zero value is not usable; call NewMemory.
type Memory struct {
	mu    sync.Mutex
	items map[string]string // account → secret
	fail  error             // returned by every call while non-nil
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory {
	return &Memory{items: make(map[string]string)}
}

// FailWith makes every later call fail with err (for example ErrLocked or
// ErrUnavailable) until FailWith(nil), so callers can test how they handle
// an unusable keychain.
func (m *Memory) FailWith(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// Get returns account's secret.
func (m *Memory) Get(ctx context.Context, account string) (string, error) {
	if err := m.check(ctx, opGet, account, nil); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return "", &Error{Op: opGet, Account: account, Err: m.fail}
	}
	secret, ok := m.items[account]
	if !ok {
		return "", notFound(opGet, account)
	}
	return secret, nil
}

// Set stores secret for account, replacing any earlier value.
func (m *Memory) Set(ctx context.Context, account, secret string) error {
	if err := m.check(ctx, opSet, account, &secret); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return &Error{Op: opSet, Account: account, Err: m.fail}
	}
	m.items[account] = secret
	return nil
}

// Delete removes account's secret.
func (m *Memory) Delete(ctx context.Context, account string) error {
	if err := m.check(ctx, opDelete, account, nil); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return &Error{Op: opDelete, Account: account, Err: m.fail}
	}
	if _, ok := m.items[account]; !ok {
		return notFound(opDelete, account)
	}
	delete(m.items, account)
	return nil
}

func (m *Memory) check(ctx context.Context, op, account string, secret *string) error {
	if err := ctx.Err(); err != nil {
		return contextError(op, account, err)
	}
	return checkArgs(op, account, secret)
}
