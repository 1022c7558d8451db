package forward_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/forward"
	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
)

// writeSessions appends calls records to each of sessions trails under
// state, all at once, as busy sessions of one account would; midway it
// calls middle once.
func writeSessions(t *testing.T, state string, sessions, calls int, middle func()) {
	t.Helper()
	dir := filepath.Join(state, "users", "uid-1000", "audit")
	var wg sync.WaitGroup
	var once sync.Once
	for s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := audit.Open(dir, audit.SessionInfo{User: "alice", Device: "dev-1", Client: audit.Client{Name: "test-client"}})
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			for i := range calls {
				r := audit.Record{Event: audit.EventToolCall, Tool: "list_labsheets", Outcome: audit.OutcomeOK}
				if i%7 == 3 {
					r.Outcome, r.Reason = audit.OutcomeDenied, fmt.Sprintf("refused call %d of session %d", i, s)
				}
				if _, err := w.Append(context.Background(), r); err != nil {
					t.Error(err)
					return
				}
				if s == 0 && i == calls/2 {
					once.Do(middle)
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
}

func startForwarder(t *testing.T, state string, targets forward.Targets) (*forward.Forwarder, context.CancelFunc) {
	t.Helper()
	f := forward.New(forward.Config{StateDir: state, Resource: forward.Resource{Device: "dev-1", HostName: "ws-1", Version: "test"}})
	f.Apply(targets)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return f, stop
}

// TestCollectorOutage: 20 sessions × 200 records reach the real
// OpenTelemetry Collector complete and in order per trail although the
// collector is killed outright (SIGKILL) mid-stream and comes back 10 s
// later: what it had not acknowledged is resent.
func TestCollectorOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the OpenTelemetry Collector")
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	col := forwardtest.StartCollector(t, tmp)
	f, _ := startForwarder(t, state, forward.Targets{OTLPEndpoint: col.Endpoint})
	restarted := make(chan struct{})
	writeSessions(t, state, 20, 200, func() {
		col.Stop(syscall.SIGKILL)
		go func() {
			time.Sleep(10 * time.Second)
			col.Start()
			close(restarted)
		}()
	})
	<-restarted
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, 90*time.Second)
	t.Logf("%d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)
	if r.Want != 20*200 {
		t.Errorf("%d records in the trails, want %d", r.Want, 20*200)
	}
	waitStatus(t, f, func(st forward.Status) bool { return st.Backlog == 0 && st.Connected })
}

// TestRsyslogOutage is the same over syslog with TLS to Debian's rsyslog,
// which is killed (SIGKILL) mid-stream and started again 10 s later: what
// it had read but not written, and what sat unread in its socket, is sent
// again because the connection broke before the batch was confirmed.
func TestRsyslogOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts rsyslogd")
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	rs := forwardtest.StartRsyslog(t, tmp)
	f, _ := startForwarder(t, state, forward.Targets{Syslog: rs.URL, CAFile: rs.CAFile})
	restarted := make(chan struct{})
	writeSessions(t, state, 20, 200, func() {
		rs.Stop(syscall.SIGKILL)
		go func() {
			time.Sleep(10 * time.Second)
			rs.Start()
			close(restarted)
		}()
	})
	<-restarted
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadSyslogFile(rs.File) }, 90*time.Second)
	t.Logf("%d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)
	waitStatus(t, f, func(st forward.Status) bool { return st.Backlog == 0 && st.Connected })
}

// TestRestartResumes: a forwarder that stops (as the service does when it
// crashes or the machine reboots) and starts again sends what was not
// acknowledged and, from its cursors, little else.
func TestRestartResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the OpenTelemetry Collector")
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "state")
	col := forwardtest.StartCollector(t, tmp)
	targets := forward.Targets{OTLPEndpoint: col.Endpoint}
	_, stop := startForwarder(t, state, targets)
	writeSessions(t, state, 5, 100, func() { stop() })
	// Written while no forwarder ran: all of it is backlog.
	writeSessions(t, state, 5, 100, func() {})
	f, _ := startForwarder(t, state, targets)
	r := forwardtest.WaitComplete(t, state, func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, 60*time.Second)
	if r.Duplicates > r.Want/10 {
		t.Errorf("%d duplicates of %d records: the cursors did not hold", r.Duplicates, r.Want)
	}
	waitStatus(t, f, func(st forward.Status) bool { return st.Backlog == 0 })
}

func waitStatus(t *testing.T, f *forward.Forwarder, ok func(forward.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		sts := f.Status()
		good := len(sts) > 0
		for _, st := range sts {
			good = good && ok(st)
		}
		if good {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never settled: %+v", sts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
