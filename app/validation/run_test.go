package validation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/peercred"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/localsock"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// startService runs a real service in this process on a real socket, the
// caller being this test's own account as the kernel reports it; the
// account password is "right". (cmd/scispot-mcp's TestValidate runs the
// real root service with an unprivileged account.)
func startService(t *testing.T, pol ...policy.Store) *localapi.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "val-") // a short socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	svc, err := service.New(service.Config{
		Mode: localapi.ModeSystem, Socket: sock, StateDir: filepath.Join(dir, "var"), Version: "test", DeviceID: "d3adb33f-test",
		Identity: peercred.Get,
		CheckPassword: func(ctx context.Context, account, pw string) error {
			if pw == "right" {
				return nil
			}
			return errors.New("wrong password")
		},
		ProcessExe: peercred.ProcessExe,
		ParentPID:  peercred.ParentPID,
		Policy:     pol,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := localsock.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &localapi.Client{Socket: sock, Dial: localsock.Dial}
}

// deadKillSwitch is the service with its kill switch made to do nothing:
// a broken control the run must catch.
type deadKillSwitch struct{ Service }

func (deadKillSwitch) Kill(context.Context, localapi.KillRequest) error { return nil }

// TestRunCatchesABrokenControl: the same run passes the kill switch case
// against the real service and fails it, with the summary failing, when
// the kill switch does nothing.
func TestRunCatchesABrokenControl(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a service and about seventy calls")
	}
	password := func() (string, error) { return "right", nil }
	tests := []struct {
		name    string
		service func(Service) Service
		want    Result
	}{
		{"working kill switch", func(s Service) Service { return s }, Pass},
		{"kill switch that does nothing", func(s Service) Service { return deadKillSwitch{s} }, Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := tt.service(startService(t))
			rep, err := Run(context.Background(), Options{Service: svc, Version: "test", Operator: "QA", Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Check(); err != nil {
				t.Fatal(err)
			}
			var kill *Case
			for i := range rep.OQ {
				if rep.OQ[i].ID == "OQ-09" {
					kill = &rep.OQ[i]
				}
			}
			if kill == nil || kill.Result != tt.want {
				t.Fatalf("OQ-09 = %+v, want %s", kill, tt.want)
			}
			if tt.want == Fail {
				if rep.Summary.Result != Fail || rep.Summary.Fail == 0 || !strings.Contains(kill.Actual, "still open") {
					t.Fatalf("summary %+v, OQ-09 %q", rep.Summary, kill.Actual)
				}
				// The run lifted its own kill switch anyway.
				return
			}
			// Against the in-process service, the OQ cases that apply pass.
			for _, c := range rep.OQ {
				if c.Result == Fail {
					t.Errorf("%s %s failed: %s", c.ID, c.Title, c.Actual)
				}
			}
		})
	}
}

// policyText is an admin's policy held in memory.
type policyText string

func (p policyText) Name() string { return "test policy" }
func (p policyText) Read(context.Context) (policy.Settings, error) {
	return policy.ParseJSON([]byte(p))
}

// TestApprovedClients: with AllowedClients set, a client it does not admit
// gets no Scispot tool (OQ-10 passes, also where a wildcard admits the
// validation); a policy that leaves out the validation's own client fails
// the case and says what to add; one admitting every name skips it.
func TestApprovedClients(t *testing.T) {
	tests := []struct {
		policy string
		want   Result
		actual string
	}{
		{`{"AllowedClients": ["claude-code", "scispot-mcp-validate"]}`, Pass, "lists only scispot_access_status"},
		{`{"AllowedClients": ["claude-code"]}`, Fail, "add it for validation"},
		// A wildcard admitting the validation admits its first unlisted
		// name too: the case takes another.
		{`{"AllowedClients": ["claude-code", "scispot-mcp-*"]}`, Pass, "a session as unlisted-ai-client lists only scispot_access_status"},
		{`{"AllowedClients": ["*"]}`, Skip, "admits any name"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			c := runCase(t, startService(t, policyText(tt.policy)), "OQ-10")
			if c.Result != tt.want || !strings.Contains(c.Actual, tt.actual) {
				t.Fatalf("OQ-10 = %s %q, want %s with %q", c.Result, c.Actual, tt.want, tt.actual)
			}
		})
	}
}

// TestWriteNeedsConfirmation: OQ-08 against a policy that allows writes
// passes when a write waits for the person (nobody approves here) and
// fails when ConfirmWrites is off and the write goes through.
func TestWriteNeedsConfirmation(t *testing.T) {
	const writes = `"AllowWriteTools": true, "AllowedTools": ["update_labsheet_rows", "list_labsheets"]`
	tests := []struct {
		policy string
		want   Result
		actual string
	}{
		{`{` + writes + `}`, Pass, "refused without the person's approval"},
		{`{` + writes + `, "ConfirmWrites": false}`, Fail, "reached Scispot without the person's confirmation"},
		{`{}`, Pass, "does not allow write tools"},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			c := runCase(t, startService(t, policyText(tt.policy)), "OQ-08")
			if c.Result != tt.want || !strings.Contains(c.Actual, tt.actual) {
				t.Fatalf("OQ-08 = %s %q, want %s with %q", c.Result, c.Actual, tt.want, tt.actual)
			}
		})
	}
}

// runCase runs one OQ case against svc.
func runCase(t *testing.T, svc *localapi.Client, id string) Case {
	t.Helper()
	return runCases(t, Options{Service: svc}, id)[0]
}

// runCases runs OQ cases, in the order given, in one run with o.
func runCases(t *testing.T, o Options, ids ...string) []Case {
	t.Helper()
	st, err := o.Service.Status(context.Background(), localapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	o.Version, o.Now = "test", time.Now
	r := &run{o: o, status: st, by: Executor{Account: st.User.Name}, docID: "VAL-test"}
	var out []Case
	for _, id := range ids {
		found := false
		for _, d := range r.oqCases() {
			if d.ID == id {
				out = append(out, r.exec(context.Background(), d))
				found = true
			}
		}
		if !found {
			t.Fatalf("no case %s", id)
		}
	}
	return out
}

// TestKillCaseChecksThePasswordFirst: a wrong password fails OQ-09
// before the kill switch is set, so the account keeps its AI access.
func TestKillCaseChecksThePasswordFirst(t *testing.T) {
	svc := startService(t)
	st, err := svc.Status(context.Background(), localapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	r := &run{o: Options{Service: svc, Version: "test", Now: time.Now,
		Password: func() (string, error) { return "wrong", nil }}, status: st, by: Executor{Account: st.User.Name}}
	var c Case
	r.checkKill(context.Background(), &c)
	if c.Result != Fail || !strings.Contains(c.Actual, "the kill switch was not tried") {
		t.Fatalf("OQ-09 with a wrong password = %s %q", c.Result, c.Actual)
	}
	if st, err := svc.Status(context.Background(), localapi.StatusRequest{}); err != nil || st.Killed {
		t.Fatalf("after OQ-09 with a wrong password: killed %v, %v", st.Killed, err)
	}
}
