//go:build unix

package localsock

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/scispot/mcp-desktop/device/peercred"
)

// tempDir is a short private folder: socket paths are limited to about
// 100 bytes, and t.TempDir is too long under macOS's $TMPDIR.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lsock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// staleSocket leaves a socket file at path that nobody listens on, as a
// crashed service does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

func TestListen(t *testing.T) {
	tests := []struct {
		name string
		// before puts something at path; it returns a check to run after
		// Listen, or nil.
		before  func(t *testing.T, path string) (after func(t *testing.T))
		wantErr error
	}{
		{
			name:   "nothing there",
			before: func(*testing.T, string) func(*testing.T) { return nil },
		},
		{
			name: "stale socket is replaced",
			before: func(t *testing.T, path string) func(*testing.T) {
				staleSocket(t, path)
				return nil
			},
		},
		{
			name: "live listener is left alone",
			before: func(t *testing.T, path string) func(*testing.T) {
				live, err := Listen(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { live.Close() })
				return func(t *testing.T) {
					// Listen's probe is the first connection the live
					// service sees: it hangs up without a word.
					probe, err := live.Accept()
					if err != nil {
						t.Fatal(err)
					}
					if n, err := probe.Read(make([]byte, 1)); n != 0 || err != io.EOF {
						t.Errorf("probe connection read %d, %v; want EOF", n, err)
					}
					probe.Close()
					roundTrip(t, live, path)
				}
			},
			wantErr: ErrInUse,
		},
		{
			name: "regular file is left alone",
			before: func(t *testing.T, path string) func(*testing.T) {
				if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
						t.Errorf("the file now holds %q, %v", b, err)
					}
				}
			},
			wantErr: ErrNotSocket,
		},
		{
			name: "symlink to a stale socket is left alone",
			before: func(t *testing.T, path string) func(*testing.T) {
				target := path + ".target"
				staleSocket(t, target)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != fs.ModeSymlink {
						t.Errorf("the symlink is gone: %v", err)
					}
					if fi, err := os.Lstat(target); err != nil || fi.Mode().Type() != fs.ModeSocket {
						t.Errorf("its target is gone: %v", err)
					}
				}
			},
			wantErr: ErrNotSocket,
		},
		{
			name: "folder is left alone",
			before: func(t *testing.T, path string) func(*testing.T) {
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
						t.Errorf("the folder is gone: %v", err)
					}
				}
			},
			wantErr: ErrNotSocket,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tempDir(t), "mcpd.sock")
			after := tt.before(t, path)

			ln, err := Listen(path)
			if tt.wantErr != nil {
				if ln != nil {
					ln.Close()
				}
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Listen error = %v, want %v", err, tt.wantErr)
				}
				t.Logf("Listen: %v", err)
			} else {
				if err != nil {
					t.Fatalf("Listen: %v", err)
				}
				fi, err := os.Lstat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o666 {
					t.Errorf("socket mode = %v, want a socket with 0666", fi.Mode())
				}
				roundTrip(t, ln, path)
				ln.Close()
				if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("after Close, the socket file is still there (%v)", err)
				}
			}
			if after != nil {
				after(t)
			}
		})
	}
}

func TestListenFolder(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string) // the socket's folder
		wantErr error
	}{
		{"missing folder is created", func(t *testing.T, dir string) {}, nil},
		{"private folder", mkdir(0o700), nil},
		{"sticky folder writable by all", mkdir(0o777 | fs.ModeSticky), nil},
		{"folder writable by all", mkdir(0o777), ErrUnsafeDir},
		{"file instead of a folder", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, ErrUnsafeDir},
		{"folder of another user", func(t *testing.T, dir string) {
			if os.Geteuid() != 0 {
				t.Skip("skipping: giving a folder to another user needs root")
			}
			mkdir(0o755)(t, dir)
			if err := os.Chown(dir, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		}, ErrUnsafeDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(tempDir(t), "scispot-mcp")
			tt.prepare(t, dir)
			path := filepath.Join(dir, "mcpd.sock")
			ln, err := Listen(path)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Listen error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				t.Logf("Listen: %v", err)
				return
			}
			defer ln.Close()
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "missing folder is created" && fi.Mode() != fs.ModeDir|0o755 {
				t.Errorf("created folder mode = %v, want drwxr-xr-x", fi.Mode())
			}
			roundTrip(t, ln, path)
		})
	}
}

// mkdir returns a prepare step that makes the folder with mode, whatever
// the umask.
func mkdir(mode fs.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListenRefusesRelativePath(t *testing.T) {
	if ln, err := Listen("mcpd.sock"); err == nil {
		ln.Close()
		t.Fatal("Listen accepted a relative path")
	}
}

func TestDial(t *testing.T) {
	tests := []struct {
		name    string
		before  func(t *testing.T, path string)
		wantErr error
	}{
		{"nothing there", func(*testing.T, string) {}, ErrNotRunning},
		{"stale socket", staleSocket, ErrNotRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(tempDir(t), "mcpd.sock")
			tt.before(t, path)
			c, err := Dial(context.Background(), path)
			if c != nil {
				c.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Dial error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDialCanceled(t *testing.T) {
	path := filepath.Join(tempDir(t), "mcpd.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, err := Dial(ctx, path)
	if c != nil {
		c.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a canceled context: error = %v, want context.Canceled", err)
	}
}

// TestServiceLearnsCaller is the end-to-end use: a client dials, and the
// service asks the kernel who it is.
func TestServiceLearnsCaller(t *testing.T) {
	path := filepath.Join(tempDir(t), "mcpd.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	who, err := peercred.Get(server)
	if err != nil {
		t.Fatal(err)
	}
	if who.UID != os.Geteuid() || who.GID != os.Getegid() || who.PID != os.Getpid() {
		t.Errorf("peercred.Get = %+v, want uid %d, gid %d, pid %d", who, os.Geteuid(), os.Getegid(), os.Getpid())
	}
}

// roundTrip checks that ln at path accepts a connection and carries bytes
// both ways.
func roundTrip(t *testing.T, ln net.Listener, path string) {
	t.Helper()
	client, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	defer server.Close()
	if _, err := client.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("server read %q, %v", buf, err)
	}
	if _, err := server.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(client, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("client read %q, %v", buf, err)
	}
}
