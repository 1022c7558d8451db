package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func benchAuditAppend(t *testing.T, _ string) []row {
	dir := t.TempDir()
	w, err := audit.Open(dir, audit.SessionInfo{User: "bench", Device: "d", Transport: audit.TransportStdio})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	args := json.RawMessage(`{"labsheet":"Cell Lines","filter":{"column":"Status","op":"eq","value":"Frozen"},"page":2}`)
	times := make([]time.Duration, 2000)
	for i := range times {
		start := time.Now()
		if _, err := w.Append(context.Background(), audit.Record{Event: audit.EventToolCall, Tool: "search_labsheet_rows", Args: args, Outcome: audit.OutcomeOK, DurationMS: 3, ResultBytes: 4096}); err != nil {
			t.Fatal(err)
		}
		times[i] = time.Since(start)
	}
	p50, p99 := percentiles(times)
	return []row{{"audit append with fsync (2000 records)", "p99 < 5 ms", fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99))}}
}

func benchAuditVerify(t *testing.T, _ string) []row {
	dir := t.TempDir()
	const files, perFile = 20, 10000
	args := json.RawMessage(`{"labsheet":"Cell Lines","query":"HeLa"}`)
	// Chains are built here with the package's own hash, without fsync:
	// this measures verify, not the disk.
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for f := range files {
		session := fmt.Sprintf("bench%02d", f)
		var buf []byte
		prev := ""
		for i := 1; i <= perFile; i++ {
			ev := audit.EventToolCall
			switch i {
			case 1:
				ev = audit.EventSessionStart
			case perFile:
				ev = audit.EventSessionEnd
			}
			r := audit.Record{V: audit.Version, Seq: int64(i), Time: base.Add(time.Duration(i) * time.Millisecond), Session: session, Event: ev,
				PID: 4242, User: "bench", Device: "d", Tool: "search_labsheet_rows", Args: args, Outcome: audit.OutcomeOK, Prev: prev}
			r.Hash = audit.HashRecord(r)
			line, _ := r.MarshalJSON()
			buf = append(append(buf, line...), '\n')
			prev = r.Hash
		}
		name := base.Format("20060102T150405.000") + "Z-" + session + audit.FileExt
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	rep, err := audit.Verify(context.Background(), dir)
	elapsed := time.Since(start)
	if err != nil || rep.Totals.Records != files*perFile {
		t.Fatalf("verify: %v %+v", err, rep.Totals)
	}
	rate := float64(rep.Totals.Records) / elapsed.Seconds()
	return []row{{"audit verify (200,000 records in 20 files)", "> 200,000 records/s", fmt.Sprintf("%.0f records/s", rate)}}
}

// benchKillSwitch times `scispot-mcp kill` to the last of 20 live serve
// sessions gone, over several rounds (a fresh service between them): the
// machine's noise moves single rounds by tens of milliseconds.
func benchKillSwitch(t *testing.T, bin string) []row {
	ws := newWorkstation(t, bin)
	const rounds = 7
	var total, answered, first []time.Duration
	for i := range rounds {
		if i > 0 {
			ws.restart()
		}
		tot, a, f := killRound(t, ws)
		total, answered, first = append(total, tot), append(answered, a), append(first, f)
	}
	med := func(d []time.Duration) time.Duration { p50, _ := percentiles(d); return p50 }
	return []row{{"kill switch: command to all of 20 sessions exited", "< 50 ms",
		fmt.Sprintf("median %s, worst %s of %d rounds (kill returned %s, first exit %s)", ms(med(total)), ms(slices.Max(total)), rounds, ms(med(answered)), ms(med(first)))}}
}

// killRound starts 20 serve sessions (each has listed tools), runs kill,
// and returns the time to the last exit, to the kill command's return and
// to the first exit.
func killRound(t *testing.T, ws *workstation) (total, answered, first time.Duration) {
	const n = 20
	var cmds []*exec.Cmd
	for range n {
		cmd := ws.command("serve", "--demo")
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.ListTools(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		cmds = append(cmds, cmd)
	}
	time.Sleep(200 * time.Millisecond) // let start-up work settle
	exited := make(chan time.Time, n)
	for _, c := range cmds {
		go func() { c.Process.Wait(); exited <- time.Now() }()
	}
	kill := ws.command("kill", "--reason", "bench")
	var out strings.Builder
	kill.Stdout, kill.Stderr = &out, &out
	start := time.Now()
	if err := kill.Start(); err != nil {
		t.Fatal(err)
	}
	returned := make(chan time.Time, 1)
	go func() { kill.Wait(); returned <- time.Now() }()
	var last time.Time
	for i := range n {
		select {
		case at := <-exited:
			if i == 0 {
				first = at.Sub(start)
			}
			last = at
		case <-time.After(10 * time.Second):
			t.Fatalf("sessions still running 10 s after kill (kill said %q)", out.String())
		}
	}
	at := <-returned
	if !kill.ProcessState.Success() {
		t.Fatalf("kill: %s", out.String())
	}
	return last.Sub(start), at.Sub(start), first
}

// benchFeedLatency times a tool call's return to its record on the
// service's event stream, which the tray's activity view shows.
func benchFeedLatency(t *testing.T, bin string) []row {
	ws := newWorkstation(t, bin)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	events := ws.events(ctx)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(ctx, &mcp.CommandTransport{Command: ws.command("serve", "--demo")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	times := make([]time.Duration, 50)
	for i := range times {
		start := time.Now()
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_labsheets"}); err != nil {
			t.Fatal(err)
		}
		for ev := range events.C {
			if ev.Kind == localapi.EventRecord && ev.Record != nil && ev.Record.Event == audit.EventToolCall {
				break
			}
		}
		times[i] = time.Since(start)
	}
	p50, p99 := percentiles(times)
	return []row{{"tool call to record on the activity feed (50 calls)", "< 20 ms", fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99))}}
}
