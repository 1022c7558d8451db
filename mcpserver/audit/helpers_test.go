package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testToken stands in for the user's API token.
const testToken = "scispot_pat_9f8e7d6c5b4a39281706"

// fakeClock advances one millisecond per reading, so every record has a
// distinct, predictable time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 24, 10, 15, 0, 123456789, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func testInfo(session string) SessionInfo {
	return SessionInfo{
		Session:   session,
		PID:       4242,
		User:      "alice",
		Device:    "dev-5c1e0f",
		Token:     "0a1b2c3d4e5f",
		Client:    Client{Name: "claude-ai", Version: "0.9.2"},
		Transport: TransportStdio,
	}
}

// callRecord is a typical tool call.
func callRecord(i int) Record {
	return Record{
		Event:       EventToolCall,
		Tool:        "list_samples",
		Args:        json.RawMessage(`{"filter":{"status":"active","owner":"alice"},"limit":50,"page":` + itoa(i) + `}`),
		Outcome:     OutcomeOK,
		DurationMS:  12,
		ResultBytes: 3481,
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// writeSession writes session.start, n tool calls and (if end) session.end
// and returns the file's path and bytes.
func writeSession(t testing.TB, dir, session string, n int, end bool, opts ...Option) (string, []byte) {
	t.Helper()
	opts = append([]Option{WithClock(newFakeClock().Now)}, opts...)
	w, err := Open(dir, testInfo(session), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
	for i := range n {
		mustAppend(t, w, callRecord(i))
	}
	if end {
		mustAppend(t, w, Record{Event: EventSessionEnd, Reason: "client disconnected"})
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	return w.Path(), data
}

func mustAppend(t testing.TB, w *Writer, r Record) Record {
	t.Helper()
	out, err := w.Append(context.Background(), r)
	if err != nil {
		t.Fatalf("Append(%s): %v", r.Event, err)
	}
	return out
}

// verifyBytes verifies file content without touching the disk.
func verifyBytes(data []byte) FileReport { return verifyWith(newVerifier(), data) }

// verifyWith reuses a verifier (and its read buffer) for tests that verify
// thousands of variants.
func verifyWith(v *verifier, data []byte) FileReport {
	rep := FileReport{Name: "mem.jsonl"}
	v.verifyReader(context.Background(), bytes.NewReader(data), &rep)
	return rep
}

// memFile is an in-memory file for the Writer; it counts syncs and can fail.
type memFile struct {
	mu        sync.Mutex
	data      []byte
	syncs     int
	unsynced  int // writes since the last sync
	failWrite func(p []byte) (int, error)
	failSync  error
	closed    bool
}

func (f *memFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failWrite != nil {
		n, err := f.failWrite(p)
		f.data = append(f.data, p[:n]...)
		f.unsynced++
		return n, err
	}
	f.data = append(f.data, p...)
	f.unsynced++
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSync != nil {
		return f.failSync
	}
	f.syncs++
	f.unsynced = 0
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if size > int64(len(f.data)) {
		return errors.New("truncate beyond end")
	}
	f.data = f.data[:size]
	return nil
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *memFile) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.data)
}

// withFile makes Open use f instead of a real file.
func withFile(f file) Option {
	return func(o *options) error {
		o.openFile = func(string) (file, error) { return f, nil }
		return nil
	}
}

// noSyncFile skips fsync, for benchmarks that only need content on disk.
type noSyncFile struct{ *os.File }

func (noSyncFile) Sync() error { return nil }

func withoutSync() Option {
	return func(o *options) error {
		o.openFile = func(path string) (file, error) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, filePerm)
			if err != nil {
				return nil, err
			}
			return noSyncFile{f}, nil
		}
		return nil
	}
}

func auditFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := listFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = filepath.Join(dir, n)
	}
	return paths
}
