// Package instance keeps the tray app to one instance per user. The first
// instance Listens on an endpoint in the per-user state folder; a later
// launch Forwards its --window request there and exits.
//
// The endpoint is a Unix socket (tray.sock, mode 0600 in the 0700 state
// folder) on Linux and macOS, and on Windows a loopback TCP port whose
// address and per-user secret are in tray.addr in the state folder (only
// the user can read it; a request without the secret is dropped). A lock
// file (tray.lock) decides which of two simultaneous launches is first.
//
// The protocol is one request line and one answer line:
//
//	show NAME   → ok          (NAME may be empty: show the default window)
//	stats       → ok rows=N   (the activity window's row count, for tests)
package instance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// ErrRunning is returned by Listen when another instance holds the lock.
var ErrRunning = errors.New("another instance is running")

// ErrNotRunning is returned by Forward and Query when no instance answers.
var ErrNotRunning = errors.New("no running instance")

// ErrBadRequest is the answer to a request the server does not understand.
var ErrBadRequest = errors.New("bad single-instance request")

const (
	lockName     = "tray.lock"
	maxLineBytes = 256
	ioTimeout    = 5 * time.Second
)

// Handler answers requests, from the server's goroutines.
type Handler interface {
	// Show shows the named window ("" for the default).
	Show(name string)
	// Rows is the activity window's row count.
	Rows() int
}

// Server is the first instance's endpoint.
type Server struct {
	ln     net.Listener
	lock   *flock.Flock
	secret string
	dir    string
}

// Listen claims the single-instance endpoint in dir (which must exist).
// It returns ErrRunning if another instance holds it.
func Listen(dir string) (*Server, error) {
	lk := flock.New(filepath.Join(dir, lockName))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking the single-instance file: %w", err)
	}
	if !ok {
		return nil, ErrRunning
	}
	ln, secret, err := listen(dir)
	if err != nil {
		lk.Unlock()
		return nil, fmt.Errorf("opening the single-instance endpoint: %w", err)
	}
	return &Server{ln: ln, lock: lk, secret: secret, dir: dir}, nil
}

// Serve answers requests until ctx is done, then closes the endpoint and
// releases the lock.
func (s *Server) Serve(ctx context.Context, h Handler, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer func() {
		stop()
		s.ln.Close()
		wg.Wait()
		cleanup(s.dir)
		s.lock.Unlock()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("accepting a single-instance request: %w", err)
		}
		wg.Go(func() {
			defer c.Close()
			if err := s.answer(c, h); err != nil {
				logger.Warn("single-instance request", "err", err)
			}
		})
	}
}

func (s *Server) answer(c net.Conn, h Handler) error {
	c.SetDeadline(time.Now().Add(ioTimeout))
	line, err := readLine(c)
	if err != nil {
		return err
	}
	if s.secret != "" {
		got, rest, _ := strings.Cut(line, " ")
		if got != s.secret {
			return errors.New("request without the secret")
		}
		line = rest
	}
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case "show":
		if !validName(arg) {
			_, err = io.WriteString(c, "error bad window name\n")
			return err
		}
		h.Show(arg)
		_, err = io.WriteString(c, "ok\n")
	case "stats":
		_, err = fmt.Fprintf(c, "ok rows=%d\n", h.Rows())
	default:
		_, err = io.WriteString(c, "error unknown request\n")
	}
	return err
}

// validName accepts window names: short, lower-case letters and '-'.
func validName(s string) bool {
	if len(s) > 32 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

func readLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, maxLineBytes), maxLineBytes)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading a single-instance line: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func request(ctx context.Context, dir, req string) (string, error) {
	c, secret, err := dial(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRunning, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if secret != "" {
		req = secret + " " + req
	}
	if _, err := io.WriteString(c, req+"\n"); err != nil {
		return "", fmt.Errorf("asking the running instance: %w", err)
	}
	ans, err := readLine(c)
	if err != nil {
		return "", fmt.Errorf("asking the running instance: %w", err)
	}
	if rest, ok := strings.CutPrefix(ans, "ok"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("%w: %s", ErrBadRequest, strings.TrimPrefix(ans, "error "))
}

// The windows a launch can ask for (`scispot-mcp --window NAME`).
const (
	WindowActivity    = "activity"
	WindowSetup       = "setup"
	WindowToken       = "token"
	WindowDiagnostics = "diagnostics"
	// WindowToolChanges reviews tool definitions Scispot changed.
	WindowToolChanges = "tool-changes"
)

// Windows lists the window names in menu order.
func Windows() []string {
	return []string{WindowActivity, WindowSetup, WindowToken, WindowDiagnostics, WindowToolChanges}
}

// Forward asks the running instance to show window ("" for the default).
func Forward(ctx context.Context, dir, window string) error {
	if !validName(window) {
		return fmt.Errorf("%w: window name %q", ErrBadRequest, window)
	}
	_, err := request(ctx, dir, "show "+window)
	return err
}

// Rows asks the running instance for its activity row count.
func Rows(ctx context.Context, dir string) (int, error) {
	ans, err := request(ctx, dir, "stats")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(ans, "rows="))
	if err != nil {
		return 0, fmt.Errorf("%w: answer %q", ErrBadRequest, ans)
	}
	return n, nil
}

// Claim makes this process the instance or forwards window to the one
// that runs. It returns the Server when this process is first, or (nil,
// nil) once the request was forwarded. A launch that loses the race to
// another starting instance waits (up to ctx) for its endpoint to open.
func Claim(ctx context.Context, dir, window string) (*Server, error) {
	backoff := 10 * time.Millisecond
	for {
		err := Forward(ctx, dir, window)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, ErrNotRunning) {
			return nil, err
		}
		s, err := Listen(dir)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, ErrRunning) {
			return nil, err
		}
		// The lock holder is starting and has not opened its endpoint
		// yet: retry against that, with a growing pause.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the running instance: %w", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 500*time.Millisecond)
	}
}
