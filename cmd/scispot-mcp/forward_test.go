package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// forwardPolicy lets sessions call as fast as the test drives them and
// names one audit destination.
func forwardPolicy(t *testing.T, destination string) {
	t.Helper()
	writePolicy(t, `{"RequireEnrollment": false, "MaxCallsPerMinute": 1000000, "MaxBytesPerHour": 100000000000, `+destination+`}`)
}

// busySessions runs sessions demo sessions of calls calls each at once
// through the real relay and service; midway through session 0 it calls
// middle. A session whose service went away stops calling. Every session
// connects before any calls, so that middle (which may stop the service)
// never meets a session still connecting.
func busySessions(t *testing.T, w *world, sessions, calls int, middle func()) {
	t.Helper()
	var wg sync.WaitGroup
	var once sync.Once
	conns := make([]*mcp.ClientSession, sessions)
	for s := range sessions {
		conns[s] = w.connect("", fmt.Sprintf("fleet-client-%d", s), "--demo")
	}
	for s, cs := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cs.Close()
			for i := range calls {
				if s == 0 && i == calls/2 {
					once.Do(middle)
				}
				if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

func serviceState(w *world) string { return filepath.Join(w.svcDir, "var") }

// TestForwardToCollector: the real scispot-mcpd (root) forwards the trails
// of 20 busy sessions × 200 calls of an unprivileged account to the real
// OpenTelemetry Collector; the collector is killed outright mid-stream and
// comes back 10 s later, then the service is killed mid-stream and started
// again: every record (trail, seq) arrives with its exact line, in order
// per trail.
func TestForwardToCollector(t *testing.T) {
	requireRoot(t)
	col := forwardtest.StartCollector(t, t.TempDir())
	// An ingest key goes to the collector and nowhere else.
	const ingestKey = "ingest-0f7c-4b1e-secret"
	forwardPolicy(t, fmt.Sprintf(`"AuditOTLPEndpoint": %q, "AuditOTLPHeaders": ["X-Scope-OrgID: %s"]`, col.Endpoint, ingestKey))
	w := newWorld(t)
	read := func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }

	restarted := make(chan struct{})
	busySessions(t, w, 20, 200, func() {
		col.Stop(syscall.SIGKILL)
		go func() {
			time.Sleep(10 * time.Second)
			col.Start()
			close(restarted)
		}()
	})
	<-restarted
	r := forwardtest.WaitComplete(t, serviceState(w), read, 2*time.Minute)
	t.Logf("collector outage: %d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)
	if r.Want < 20*200 {
		t.Errorf("%d records in the trails, want at least %d", r.Want, 20*200)
	}

	// The service crashes while sessions are busy and starts again.
	busySessions(t, w, 5, 100, func() { w.stopService(syscall.SIGKILL) })
	w.runService()
	busySessions(t, w, 5, 50, func() {})
	r = forwardtest.WaitComplete(t, serviceState(w), read, 2*time.Minute)
	t.Logf("service crash: %d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)

	st := destinationStatus(t, w)
	if len(st) != 1 || st[0].Kind != "otlp" || st[0].Endpoint != col.Endpoint || !st[0].Connected || st[0].Backlog != 0 || st[0].LastDelivery.IsZero() {
		t.Errorf("status audit_destinations = %+v, want the collector connected with no backlog", st)
	}
	statusOut, _, _ := w.run("", "status", "--json")
	if !strings.Contains(statusOut, "X-Scope-OrgID: (hidden)") {
		t.Errorf("status --json does not show the header by name:\n%s", statusOut)
	}
	plain, _, _ := w.run("", "status")
	w.assertNoSecret(ingestKey, statusOut, plain)
	trails, _ := forwardtest.TrailLines(serviceState(w))
	for id, lines := range trails {
		for _, l := range lines {
			if strings.Contains(l, ingestKey) {
				t.Fatalf("trail %s holds the ingest key: %s", id, l)
			}
		}
	}
}

// TestForwardToRsyslog is the same delivery and outage over AuditSyslog:
// RFC 5424 with octet counting over TLS to Debian's rsyslog, whose CA the
// policy's AuditCAFile names; rsyslog is killed outright mid-stream.
func TestForwardToRsyslog(t *testing.T) {
	requireRoot(t)
	rs := forwardtest.StartRsyslog(t, t.TempDir())
	forwardPolicy(t, fmt.Sprintf(`"AuditSyslog": %q, "AuditCAFile": %q`, rs.URL, rs.CAFile))
	w := newWorld(t)
	read := func() ([]forwardtest.Arrival, error) { return forwardtest.ReadSyslogFile(rs.File) }

	restarted := make(chan struct{})
	busySessions(t, w, 20, 200, func() {
		rs.Stop(syscall.SIGKILL) // a crash: what it had not written goes again
		go func() {
			time.Sleep(10 * time.Second)
			rs.Start()
			close(restarted)
		}()
	})
	<-restarted
	r := forwardtest.WaitComplete(t, serviceState(w), read, 2*time.Minute)
	t.Logf("rsyslog outage: %d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)

	busySessions(t, w, 5, 100, func() { w.stopService(syscall.SIGKILL) })
	w.runService()
	busySessions(t, w, 5, 50, func() {})
	r = forwardtest.WaitComplete(t, serviceState(w), read, 2*time.Minute)
	t.Logf("service crash: %d records, %d arrived, %d duplicates", r.Want, r.Arrived, r.Duplicates)
}

// TestForwardUndeliveredRefuses: with AuditMaxUndeliveredHours set and a
// record older than that still waiting (the collector cannot be reached),
// a new session is refused with the sentence, status says so, and the
// refusal is audited. Nothing the account can do changes the backlog: the
// trail and the cursors are the service's.
func TestForwardUndeliveredRefuses(t *testing.T) {
	requireRoot(t)
	closed := forwardtest.FreePort(t) // nothing listens here
	writePolicy(t, fmt.Sprintf(`{"RequireEnrollment": false, "AuditOTLPEndpoint": "http://127.0.0.1:%d", "AuditMaxUndeliveredHours": 1}`, closed))
	w := newWorld(t)

	// A record from three hours ago that never left the machine.
	dir := filepath.Join(serviceState(w), "users", "uid-"+strconv.Itoa(w.uid()), "audit")
	old := time.Now().Add(-3 * time.Hour)
	if _, err := audit.AppendOnce(context.Background(), dir, audit.SessionInfo{User: w.account()},
		audit.Record{Event: audit.EventToolCall, Tool: "list_labsheets", Outcome: audit.OutcomeOK},
		audit.WithClock(func() time.Time { return old })); err != nil {
		t.Fatal(err)
	}

	var st struct {
		Access struct {
			Allowed      bool
			Rule, Reason string
		}
		AuditDestinations []localapi.AuditDestination `json:"audit_destinations"`
	}
	var code int
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out string
		out, _, code = w.run("", "status", "--json")
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("status --json (exit %d): %v\n%s", code, err, out)
		}
		// The forwarder has tried (and failed) to deliver.
		if len(st.AuditDestinations) == 1 && st.AuditDestinations[0].LastError != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Access.Allowed || st.Access.Rule != "audit-undelivered" || !strings.Contains(st.Access.Reason, "connect the workstation to the lab network") || !strings.Contains(st.Access.Reason, "3 hours") {
		t.Errorf("status access = %+v, want refused by audit-undelivered", st.Access)
	}
	if code != 3 {
		t.Errorf("status exit code %d, want 3 (refused by policy)", code)
	}
	if len(st.AuditDestinations) != 1 || st.AuditDestinations[0].Connected || st.AuditDestinations[0].Backlog < 1 ||
		st.AuditDestinations[0].OldestUndelivered.Sub(old).Abs() > time.Millisecond || st.AuditDestinations[0].LastError == "" {
		t.Errorf("status audit_destinations = %+v, want one unreachable destination with the old record waiting", st.AuditDestinations)
	}

	cs := w.connect("", "refused-client")
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 1 || tools.Tools[0].Name != "scispot_access_status" || !strings.Contains(tools.Tools[0].Description, "lab network") {
		t.Fatalf("tools = %+v, want scispot_access_status alone with the sentence", tools.Tools)
	}
	cs.Close()
	deadline = time.Now().Add(10 * time.Second)
	for {
		recs := records(t, w)
		if slices.ContainsFunc(recs, func(r audit.Record) bool {
			return r.Event == audit.EventRefused && strings.Contains(r.Reason, "lab network")
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no refused record in the trail: %+v", recs)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Back on the lab network (here: the policy now names a collector that
	// is up): the backlog goes out and sessions are allowed again, without
	// restarting anything.
	col := forwardtest.StartCollector(t, t.TempDir())
	writePolicy(t, fmt.Sprintf(`{"RequireEnrollment": false, "AuditOTLPEndpoint": %q, "AuditMaxUndeliveredHours": 1}`, col.Endpoint))
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, _, _ := w.run("", "status", "--json")
		st.AuditDestinations = nil
		json.Unmarshal([]byte(out), &st)
		if st.Access.Rule != "audit-undelivered" && len(st.AuditDestinations) == 1 && st.AuditDestinations[0].Endpoint == col.Endpoint && st.AuditDestinations[0].Backlog == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the collector came: access %+v, destinations %+v", st.Access, st.AuditDestinations)
		}
		time.Sleep(100 * time.Millisecond)
	}
	forwardtest.WaitComplete(t, serviceState(w), func() ([]forwardtest.Arrival, error) { return forwardtest.ReadCollectorFile(col.File) }, 30*time.Second)

	// The account cannot reach the backlog or the cursors.
	for _, p := range []string{dir, filepath.Join(serviceState(w), "forward")} {
		if out, err := w.command("touch", filepath.Join(p, "x")).CombinedOutput(); err == nil {
			t.Errorf("the account could write in %s: %s", p, out)
		}
	}
}

// destinationStatus is status --json's audit_destinations.
func destinationStatus(t *testing.T, w *world) []localapi.AuditDestination {
	t.Helper()
	out, _, _ := w.run("", "status", "--json")
	var st struct {
		AuditDestinations []localapi.AuditDestination `json:"audit_destinations"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st.AuditDestinations
}
