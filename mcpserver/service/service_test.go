package service_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/seal"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

var errWrong = errors.New("wrong password")

// start runs a real service on a real socket; the caller is this test's
// own account, as the kernel reports it.
func start(t *testing.T, mode string, opts ...func(*service.Config)) (*localapi.Client, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "svc-") // a short socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	state := filepath.Join(dir, "var")
	cfg := service.Config{
		Mode:     mode,
		Socket:   filepath.Join(dir, "s.sock"),
		StateDir: state,
		Version:  "test",
		Identity: peercred.Get,
		CheckPassword: func(ctx context.Context, account, pw string) error {
			if pw == "right" {
				return nil
			}
			return errWrong
		},
		ProcessExe: peercred.ProcessExe,
		ParentPID:  peercred.ParentPID,
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := service.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localsock.Listen(filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &localapi.Client{Socket: filepath.Join(dir, "s.sock"), Dial: localsock.Dial}, state
}

func mcpSession(t *testing.T, c *localapi.Client, o localapi.MCPOptions) *mcp.ClientSession {
	t.Helper()
	conn, _, err := c.OpenMCP(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "svc-test", Version: "1"}, nil).Connect(context.Background(), &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); conn.Close() })
	return cs
}

func TestDemoSessionIsAuditedInTheServiceFolder(t *testing.T) {
	c, state := start(t, localapi.ModeSystem)
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"})
	if err != nil || res.IsError {
		t.Fatalf("call = %v %v", res, err)
	}
	recs, err := c.Records(context.Background(), localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var start, call *audit.Record
	for i := range recs {
		switch recs[i].Event {
		case audit.EventSessionStart:
			start = &recs[i]
		case audit.EventToolCall:
			call = &recs[i]
		}
	}
	if start == nil || call == nil || start.Client.Exe == "" || call.PID != os.Getpid() {
		t.Fatalf("records %+v", recs)
	}
	if dirs, _ := filepath.Glob(filepath.Join(state, "users", "*", "audit", "*.jsonl")); len(dirs) == 0 {
		t.Fatal("no trail in the service's folder")
	}
}

// sessionStart opens a demo session and returns its session.start record.
func sessionStart(t *testing.T, c *localapi.Client) audit.Record {
	t.Helper()
	mcpSession(t, c, localapi.MCPOptions{Demo: true})
	recs, err := c.Records(context.Background(), localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Event == audit.EventSessionStart {
			return r
		}
	}
	t.Fatalf("no session.start in %+v", recs)
	return audit.Record{}
}

func TestSessionStartRecordsTheLaunchersSigner(t *testing.T) {
	var asked []string
	var bounded bool
	c, _ := start(t, localapi.ModeSystem, func(cfg *service.Config) {
		cfg.Signer = func(ctx context.Context, path string) (string, error) {
			asked = append(asked, path)
			_, bounded = ctx.Deadline()
			return "Developer ID Application: Test (T3STT3ST00)", nil
		}
	})
	rec := sessionStart(t, c)
	if rec.Client.Signer != "Developer ID Application: Test (T3STT3ST00)" {
		t.Fatalf("client = %+v", rec.Client)
	}
	if len(asked) != 1 || asked[0] != rec.Client.Exe || !bounded {
		t.Fatalf("the signer was asked about %q (deadline %v); the record's exe is %q", asked, bounded, rec.Client.Exe)
	}
}

func TestASignerThatFailsLeavesItEmpty(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem, func(cfg *service.Config) {
		cfg.Signer = func(ctx context.Context, path string) (string, error) {
			return "partial", errors.New("codesign: timed out")
		}
	})
	rec := sessionStart(t, c)
	if rec.Client.Exe == "" || rec.Client.Signer != "" {
		t.Fatalf("client = %+v", rec.Client)
	}
}

func TestTokenIsSealedToThisAccount(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	ctx := context.Background()
	const token = "sst_0123456789abcdef0123456789abcdef"
	info, err := c.SealToken(ctx, localapi.SealRequest{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if !seal.IsSealed(info.Sealed) || strings.Contains(info.Sealed, token) {
		t.Fatalf("sealed = %q", info.Sealed)
	}
	st, err := c.TokenStatus(ctx, info.Sealed)
	if err != nil || st.Fingerprint != info.Fingerprint || st.Sealed != "" {
		t.Fatalf("status of the sealed token = %+v %v", st, err)
	}
	// A plain token stored before sealing existed is sealed on first use.
	st, err = c.TokenStatus(ctx, token)
	if err != nil || !seal.IsSealed(st.Sealed) || st.Fingerprint != info.Fingerprint {
		t.Fatalf("status of a plain token = %+v %v", st, err)
	}
	// Garbage in the keychain opens to nothing, and says what to do.
	_, err = c.TokenStatus(ctx, seal.Prefix+"0000000000000000:AAAA")
	var e *localapi.Error
	if !errors.As(err, &e) || !strings.Contains(e.Sentence, "token set") {
		t.Fatalf("a token sealed elsewhere: %v", err)
	}
}

func TestResumeNeedsThePerson(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	ctx := context.Background()
	if err := c.Kill(ctx, localapi.KillRequest{Reason: "QA hold"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx, localapi.StatusRequest{}); !st.Killed {
		t.Fatal("not killed")
	}
	cases := []struct {
		password string
		status   int
	}{
		{"", http.StatusUnauthorized},
		{"guess", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		err := c.Resume(ctx, localapi.KillRequest{Password: tc.password})
		var e *localapi.Error
		if !errors.As(err, &e) || e.Status != tc.status {
			t.Fatalf("resume with %q = %v", tc.password, err)
		}
	}
	if st, _ := c.Status(ctx, localapi.StatusRequest{}); !st.Killed {
		t.Fatal("a resume without the password lifted the kill switch")
	}
	if err := c.Resume(ctx, localapi.KillRequest{Password: "right"}); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Status(ctx, localapi.StatusRequest{}); st.Killed {
		t.Fatal("still killed after resume")
	}
	// Guessing stops after a few tries a minute.
	var last error
	for range 6 {
		last = c.Resume(ctx, localapi.KillRequest{Password: "guess"})
	}
	var e *localapi.Error
	if !errors.As(last, &e) || e.Status != http.StatusTooManyRequests {
		t.Fatalf("the sixth wrong password in a minute = %v", last)
	}
}

func TestKillEndsLiveSessions(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	ended := make(chan struct{})
	go func() { cs.Wait(); close(ended) }()
	if err := c.Kill(context.Background(), localapi.KillRequest{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived the kill switch")
	}
}

func TestEventsCarryNewRecords(t *testing.T) {
	c, _ := start(t, localapi.ModeSystem)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := c.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
	cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_labspaces"})
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-events.C:
			if e.Kind == localapi.EventRecord && e.Record.Tool == "list_labspaces" {
				return
			}
		case <-timeout:
			t.Fatal("no record event for the call")
		}
	}
}

func TestUserDemoServesOnlyTheDemo(t *testing.T) {
	c, _ := start(t, localapi.ModeUserDemo)
	ctx := context.Background()
	_, _, err := c.OpenMCP(ctx, localapi.MCPOptions{Demo: false})
	var e *localapi.Error
	if !errors.As(err, &e) || e.Status != http.StatusForbidden || !strings.Contains(e.Sentence, "not installed") {
		t.Fatalf("a Scispot session on the demo instance = %v", err)
	}
	if _, err := c.SealToken(ctx, localapi.SealRequest{Token: "sst_x"}); err == nil {
		t.Fatal("the demo instance sealed a token")
	}
	mcpSession(t, c, localapi.MCPOptions{Demo: true})
	c.Kill(ctx, localapi.KillRequest{})
	if err := c.Resume(ctx, localapi.KillRequest{}); err != nil {
		t.Fatalf("resume on the demo instance needs no password: %v", err)
	}
	if st, _ := c.Status(ctx, localapi.StatusRequest{}); st.Service.Mode != localapi.ModeUserDemo {
		t.Fatalf("status says %q", st.Service.Mode)
	}
}
