package instance_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/scispot/mcp-desktop/app/instance"
)

type handler struct {
	shown chan string
	rows  int
}

func (h *handler) Show(name string) { h.shown <- name }
func (h *handler) Rows() int        { return h.rows }

// serve makes this test the running instance.
func serve(t *testing.T, dir string) *handler {
	t.Helper()
	srv, err := instance.Claim(t.Context(), dir, "")
	if err != nil || srv == nil {
		t.Fatalf("first Claim = %v, %v; want a server", srv, err)
	}
	h := &handler{shown: make(chan string, 4), rows: 1234}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

func TestSecondLaunchForwardsWindow(t *testing.T) {
	dir := t.TempDir()
	h := serve(t, dir)
	for _, name := range []string{"activity", "token", ""} {
		srv, err := instance.Claim(t.Context(), dir, name)
		if err != nil || srv != nil {
			t.Fatalf("second Claim(%q) = %v, %v; want forwarded", name, srv, err)
		}
		if got := <-h.shown; got != name {
			t.Errorf("running instance showed %q, want %q", got, name)
		}
	}
	n, err := instance.Rows(t.Context(), dir)
	if err != nil || n != 1234 {
		t.Errorf("Rows = %d, %v; want 1234", n, err)
	}
}

func TestBadWindowName(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir)
	for _, name := range []string{"../etc", "Activity", "a b", "x\nstats"} {
		if err := instance.Forward(t.Context(), dir, name); !errors.Is(err, instance.ErrBadRequest) {
			t.Errorf("Forward(%q) = %v, want ErrBadRequest", name, err)
		}
	}
}

func TestNoInstance(t *testing.T) {
	dir := t.TempDir()
	if err := instance.Forward(t.Context(), dir, "activity"); !errors.Is(err, instance.ErrNotRunning) {
		t.Errorf("Forward = %v, want ErrNotRunning", err)
	}
	if _, err := instance.Rows(t.Context(), dir); !errors.Is(err, instance.ErrNotRunning) {
		t.Errorf("Rows = %v, want ErrNotRunning", err)
	}
}

func TestListenWhileHeld(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir)
	if _, err := instance.Listen(dir); !errors.Is(err, instance.ErrRunning) {
		t.Errorf("Listen = %v, want ErrRunning", err)
	}
}

func TestStaleSocketAfterCrash(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix sockets only")
	}
	dir := t.TempDir()
	// A crashed instance leaves its socket file and no lock holder.
	if err := os.WriteFile(filepath.Join(dir, "tray.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := serve(t, dir)
	if err := instance.Forward(t.Context(), dir, "diagnostics"); err != nil {
		t.Fatalf("Forward = %v", err)
	}
	if got := <-h.shown; got != "diagnostics" {
		t.Errorf("showed %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "tray.sock"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, %v; want 0600", fi.Mode(), err)
	}
}

func TestReleasedAfterServe(t *testing.T) {
	dir := t.TempDir()
	srv, err := instance.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := srv.Serve(ctx, &handler{}, nil); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	srv2, err := instance.Listen(dir)
	if err != nil {
		t.Fatalf("Listen after the first ended = %v", err)
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	cancel2()
	srv2.Serve(ctx2, &handler{}, nil)
}
