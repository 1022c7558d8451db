package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
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
// processes gone, over several rounds (a resume between them): the
// machine's noise moves single rounds by tens of milliseconds.
func benchKillSwitch(t *testing.T, bin string) []row {
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+filepath.Join(home, "state"))
	const rounds = 7
	var total, written, first []time.Duration
	for range rounds {
		tot, w, f := killRound(t, bin, env, filepath.Join(home, "state", "scispot-mcp"))
		total, written, first = append(total, tot), append(written, w), append(first, f)
		resume := exec.Command(bin, "resume")
		resume.Env = env
		if out, err := resume.CombinedOutput(); err != nil {
			t.Fatalf("resume: %v\n%s", err, out)
		}
	}
	med := func(d []time.Duration) time.Duration { p50, _ := percentiles(d); return p50 }
	return []row{{"kill switch: command to all of 20 sessions exited", "< 100 ms",
		fmt.Sprintf("median %s, worst %s of %d rounds (file written %s, first exit %s)", ms(med(total)), ms(slices.Max(total)), rounds, ms(med(written)), ms(med(first)))}}
}

// killRound starts 20 serve sessions (each has listed tools), runs kill,
// and returns the time to the last exit, to control.json's rename and to
// the first exit.
func killRound(t *testing.T, bin string, env []string, state string) (total, written, first time.Duration) {
	const n = 20
	var cmds []*exec.Cmd
	for range n {
		cmd := exec.Command(bin, "serve", "--demo")
		cmd.Env = env
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
	fw, _ := fsnotify.NewWatcher()
	defer fw.Close()
	fw.Add(state)
	writtenAt := make(chan time.Time, 1)
	go func() {
		for ev := range fw.Events {
			if filepath.Base(ev.Name) == "control.json" {
				writtenAt <- time.Now()
				return
			}
		}
	}()
	kill := exec.Command(bin, "kill", "--reason", "bench")
	kill.Env = env
	start := time.Now()
	if err := kill.Start(); err != nil {
		t.Fatal(err)
	}
	var last time.Time
	for i := range n {
		select {
		case at := <-exited:
			if i == 0 {
				first = at.Sub(start)
			}
			last = at
		case <-time.After(10 * time.Second):
			t.Fatal("sessions still running 10 s after kill")
		}
	}
	kill.Wait()
	return last.Sub(start), (<-writtenAt).Sub(start), first
}

// benchFeedLatency times a tool call's return to its record on the feed
// the tray uses.
func benchFeedLatency(t *testing.T, bin string) []row {
	home := t.TempDir()
	state := filepath.Join(home, "state")
	dir := filepath.Join(state, "scispot-mcp", "audit")
	os.MkdirAll(dir, 0o700)
	feed := audit.NewFeed(dir, audit.FeedOptions{})
	recs, cancel := feed.Subscribe(64)
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go feed.Run(ctx)
	<-feed.Ready()
	cmd := exec.Command(bin, "serve", "--demo")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME="+state)
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
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
		for r := range recs {
			if r.Event == audit.EventToolCall {
				break
			}
		}
		times[i] = time.Since(start)
	}
	p50, p99 := percentiles(times)
	return []row{{"tool call to record on the activity feed (50 calls)", "< 50 ms", fmt.Sprintf("p50 %s, p99 %s", ms(p50), ms(p99))}}
}
