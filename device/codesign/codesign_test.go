package codesign

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestSignerOnLinuxIsEmpty(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux executables are not code-signed; other systems read real signatures")
	}
	s, err := Signer(context.Background(), "/bin/sh")
	if s != "" || err != nil {
		t.Fatalf("Signer(/bin/sh) = %q, %v; want \"\", nil", s, err)
	}
}

func TestSignerNeedsAnAbsolutePath(t *testing.T) {
	if _, err := Signer(context.Background(), "sh"); err == nil {
		t.Fatal("a relative path was accepted")
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "client")
	if err := os.WriteFile(exe, []byte("one"), 0o755); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	fail := false
	c := NewCache(func(ctx context.Context, path string) (string, error) {
		calls.Add(1)
		if fail {
			return "", errors.New("no")
		}
		return "signer of " + path, nil
	})
	ctx := context.Background()
	want := "signer of " + exe
	for range 3 {
		if s, err := c.Signer(ctx, exe); s != want || err != nil {
			t.Fatalf("Signer = %q, %v", s, err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("looked up %d times, want once", n)
	}

	// Another modification time: looked up again.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(exe, later, later); err != nil {
		t.Fatal(err)
	}
	c.Signer(ctx, exe)
	if n := calls.Load(); n != 2 {
		t.Fatalf("after a new mtime looked up %d times in all, want 2", n)
	}
	// Another size, same time: looked up again.
	if err := os.WriteFile(exe, []byte("longer"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(exe, later, later)
	c.Signer(ctx, exe)
	if n := calls.Load(); n != 3 {
		t.Fatalf("after a new size looked up %d times in all, want 3", n)
	}

	// Errors are not remembered.
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("x"), 0o755)
	fail = true
	if _, err := c.Signer(ctx, other); err == nil {
		t.Fatal("the lookup's error was lost")
	}
	fail = false
	if s, err := c.Signer(ctx, other); s != "signer of "+other || err != nil {
		t.Fatalf("after an error: %q, %v", s, err)
	}
	if n := calls.Load(); n != 5 {
		t.Fatalf("looked up %d times in all, want 5", n)
	}

	// A path that cannot be read is passed through, uncached.
	gone := filepath.Join(dir, "gone")
	c.Signer(ctx, gone)
	c.Signer(ctx, gone)
	if n := calls.Load(); n != 7 {
		t.Fatalf("looked up %d times in all, want 7", n)
	}
}

func TestCacheIsBounded(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(func(context.Context, string) (string, error) { return "s", nil })
	for i := range maxCached + 5 {
		p := filepath.Join(dir, "f"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		c.Signer(context.Background(), p)
		if len(c.m) > maxCached {
			t.Fatalf("%d entries, more than %d", len(c.m), maxCached)
		}
	}
}
