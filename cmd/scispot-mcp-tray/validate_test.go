package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/app/validationrun"
	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func validateEnv(t *testing.T, service func(context.Context, bool) (*localapi.Client, error)) *cli.TrayHost {
	t.Helper()
	dir := t.TempDir()
	env := cli.Env{
		Stdout: io.Discard, Stderr: io.Discard,
		Keychain: keychain.NewMemory(),
		Service:  service,
		StateDir: func() (string, error) { return filepath.Join(dir, "state"), nil },
		Logger:   slog.New(slog.DiscardHandler),
	}
	host, err := cli.NewTrayHost(env)
	if err != nil {
		t.Fatal(err)
	}
	return host
}

// TestValidateFromTray: the window's run is the CLI's validate against the
// service: every case runs, the password is asked for the service's
// account, and the report is filed in the chosen folder, HTML included.
func TestValidateFromTray(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	host := validateEnv(t, func(context.Context, bool) (*localapi.Client, error) { return svc.Client, nil })
	run := validateRun(host, cli.Build{Version: "1.2.3-test", Commit: "abc"})
	out := t.TempDir()
	var asked []string
	steps := 0
	res, err := run(context.Background(), validationrun.Request{Operator: "Ann Example", Folder: out,
		Password: func(account string) (string, error) { asked = append(asked, account); return apptest.Password, nil }},
		func(done, total int, c validation.Case) { steps++ })
	if err != nil {
		t.Fatalf("run: %v (%+v)", err, res)
	}
	st := validationrun.State{Phase: validationrun.Done, Result: res}
	if res.DocID == "" || res.Summary.Total == 0 || steps != res.Summary.Total || len(res.Files) != 4 ||
		filepath.Dir(st.Report()) != out || !strings.HasSuffix(st.Report(), res.DocID+".html") {
		t.Errorf("result %+v after %d steps", res, steps)
	}
	if len(asked) != 1 || asked[0] == "" {
		t.Errorf("the password was asked for %q", asked)
	}
	// The trail says the tray ran it, not the command line.
	recs, err := svc.Records(context.Background(), localapi.RecordsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		switch r.Event {
		case audit.EventValidationRun, audit.EventKill, audit.EventResume:
			if r.Client.Name != "scispot-mcp-tray" {
				t.Errorf("%s recorded as %q, want scispot-mcp-tray", r.Event, r.Client.Name)
			}
		}
	}
	t.Logf("%s: %+v", res.DocID, res.Summary)
}

// Without a service the window's run fails with the sentence saying so.
func TestValidateFromTrayWithoutService(t *testing.T) {
	host := validateEnv(t, func(context.Context, bool) (*localapi.Client, error) {
		return nil, localapi.ErrNoService
	})
	res, err := validateRun(host, cli.Build{})(context.Background(), validationrun.Request{Operator: "Ann", Folder: t.TempDir()}, nil)
	if got := validationrun.Reason(err, res); !strings.Contains(got, "is not running on this workstation, so validation cannot run") {
		t.Errorf("reason %q (%v)", got, err)
	}
}
