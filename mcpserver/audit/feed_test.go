package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// startFeed runs a feed on dir until the test ends and waits for Ready.
func startFeed(t testing.TB, dir string, opts FeedOptions) (*Feed, <-chan Record) {
	t.Helper()
	f := NewFeed(dir, opts)
	ch, cancelSub := f.Subscribe(1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancelSub()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-f.Ready():
	case err := <-done:
		t.Fatalf("Run ended before Ready: %v", err)
	}
	return f, ch
}

// next receives one record, failing the test if the feed ends first. The
// timeout only guards against a hung test; it is not a latency assertion.
func next(t testing.TB, ch <-chan Record) Record {
	t.Helper()
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatal("feed closed")
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no record from the feed")
	}
	return Record{}
}

// expectNothingBefore appends a sentinel record in a new file and checks it
// is the next record delivered: everything before it (in the watcher's
// event order) has been handled, so nothing else may have arrived.
func expectNothingBefore(t *testing.T, dir string, ch <-chan Record) {
	t.Helper()
	s, err := AppendOnce(context.Background(), dir, SessionInfo{}, Record{Event: EventResume})
	if err != nil {
		t.Fatal(err)
	}
	if r := next(t, ch); r.Session != s.Session || r.Event != EventResume {
		t.Fatalf("got %s seq %d (%s) before the sentinel", r.Session, r.Seq, r.Event)
	}
}

func TestFeedDeliversNewRecordsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit") // does not exist yet
	alive := func(int) bool { return true }
	f, ch := startFeed(t, dir, FeedOptions{Alive: alive})
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("feed did not create the folder: %v", err)
	}

	// A file created after Run started.
	w, err := Open(dir, testInfo("late"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var want []Record
	want = append(want, mustAppend(t, w, Record{Event: EventSessionStart}))
	for i := range 5 {
		want = append(want, mustAppend(t, w, callRecord(i)))
	}
	for i, wr := range want {
		got := next(t, ch)
		if got.Session != wr.Session || got.Seq != wr.Seq || got.Hash != wr.Hash {
			t.Fatalf("record %d: got %s/%d, want %s/%d", i, got.Session, got.Seq, wr.Session, wr.Seq)
		}
	}
	if s := f.Sessions(); len(s) != 1 || s[0].Session != "late" || s[0].Client.Name != "claude-ai" || s[0].PID != 4242 {
		t.Errorf("Sessions = %+v, want the late session", s)
	}
	expectNothingBefore(t, dir, ch)

	mustAppend(t, w, Record{Event: EventSessionEnd})
	if r := next(t, ch); r.Event != EventSessionEnd {
		t.Fatalf("got %s, want session.end", r.Event)
	}
	if s := f.Sessions(); len(s) != 0 {
		t.Errorf("Sessions after session.end = %+v", s)
	}
}

func TestFeedExistingFilesAndSessions(t *testing.T) {
	dir := t.TempDir()
	writeSession(t, dir, "ended", 2, true)
	signer, _ := testKey(t, testInfo("").Device)
	checkpointedSession(t, dir, signer, 1) // ended: its checkpoint follows session.end
	infoDead := testInfo("dead")
	infoDead.PID = 999001
	wDead, err := Open(dir, infoDead)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, wDead, Record{Event: EventSessionStart})
	wDead.Close()
	wLive, err := Open(dir, testInfo("live"))
	if err != nil {
		t.Fatal(err)
	}
	defer wLive.Close()
	start := mustAppend(t, wLive, Record{Event: EventSessionStart})
	mustAppend(t, wLive, callRecord(0))
	if _, err := AppendOnce(context.Background(), dir, SessionInfo{}, Record{Event: EventKill}); err != nil {
		t.Fatal(err)
	}

	alive := func(pid int) bool { return pid != 999001 }
	f, ch := startFeed(t, dir, FeedOptions{Alive: alive})
	s := f.Sessions()
	if len(s) != 1 || s[0].Session != "live" || !s[0].Started.Equal(start.Time) || s[0].User != "alice" {
		t.Fatalf("Sessions = %+v, want only the live one", s)
	}

	// Records already there are not delivered; new ones in an old file are.
	r := mustAppend(t, wLive, callRecord(1))
	if got := next(t, ch); got.Session != "live" || got.Seq != r.Seq {
		t.Fatalf("got %s/%d, want live/%d", got.Session, got.Seq, r.Seq)
	}
	if s := f.Sessions(); !s[0].LastSeen.Equal(r.Time) {
		t.Errorf("LastSeen = %v, want %v", s[0].LastSeen, r.Time)
	}
	expectNothingBefore(t, dir, ch)
}

func TestFeedPartialLineWaits(t *testing.T) {
	dir := t.TempDir()
	_, ch := startFeed(t, dir, FeedOptions{})

	// Build a real record line, then write it in two pieces as a slow
	// writer would.
	r := Record{V: 1, Seq: 1, Time: time.Unix(1, 0).UTC(), Session: "slow", Event: EventKill}
	line, _ := sealLine(appendCanonical(nil, &r))
	path := filepath.Join(dir, "20260101T000000.000Z-slow.jsonl")
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	half := len(line) / 2
	if _, err := fh.Write(line[:half]); err != nil {
		t.Fatal(err)
	}
	expectNothingBefore(t, dir, ch) // the half line was seen and held back
	if _, err := fh.Write(line[half:]); err != nil {
		t.Fatal(err)
	}
	if got := next(t, ch); got.Session != "slow" || got.Event != EventKill {
		t.Fatalf("got %+v, want the completed record", got)
	}
	expectNothingBefore(t, dir, ch) // and only once
}

func TestFeedSubscribers(t *testing.T) {
	dir := t.TempDir()
	f := NewFeed(dir, FeedOptions{})
	a, cancelA := f.Subscribe(16)
	b, cancelB := f.Subscribe(0) // unbuffered and never read after cancel
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	<-f.Ready()
	cancelB()
	cancelB() // twice is fine
	if _, err := AppendOnce(context.Background(), dir, SessionInfo{}, Record{Event: EventKill}); err != nil {
		t.Fatal(err)
	}
	if r := next(t, a); r.Event != EventKill {
		t.Fatalf("got %s", r.Event)
	}
	if err := f.Run(ctx); !errors.Is(err, ErrFeedStarted) {
		t.Errorf("second Run = %v, want ErrFeedStarted", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := <-a; ok {
		t.Error("subscriber channel not closed when Run returned")
	}
	cancelA()
	late, _ := f.Subscribe(1)
	if _, ok := <-late; ok {
		t.Error("subscription after Run returned is not closed")
	}
	select {
	case <-b:
		t.Error("cancelled subscriber received a record")
	default:
	}
}

func TestFeedManyWriters(t *testing.T) {
	dir := t.TempDir()
	_, ch := startFeed(t, dir, FeedOptions{})
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			w, err := Open(dir, testInfo("m"+itoa(i)), withoutSync())
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close()
			for j := range each {
				if _, err := w.Append(context.Background(), callRecord(j)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string][]int64{}
	for range writers * each {
		r := next(t, ch)
		seen[r.Session] = append(seen[r.Session], r.Seq)
	}
	for s, seqs := range seen {
		if len(seqs) != each || !slices.IsSorted(seqs) || seqs[0] != 1 {
			t.Errorf("session %s: seqs %v", s, seqs)
		}
	}
	expectNothingBefore(t, dir, ch)
}

func TestProcessAlive(t *testing.T) {
	if !ProcessAlive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if ProcessAlive(0) || ProcessAlive(-1) {
		t.Error("pid 0 or -1 alive")
	}
}

// BenchmarkFeedLatency measures append (fsync'd) to delivery, and the part
// after Append returned.
func BenchmarkFeedLatency(b *testing.B) {
	dir := b.TempDir()
	_, ch := startFeed(b, dir, FeedOptions{})
	w, err := Open(dir, testInfo("lat"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	total := make([]time.Duration, 0, b.N)
	after := make([]time.Duration, 0, b.N)
	r := callRecord(1)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := w.Append(ctx, r); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		next(b, ch)
		total = append(total, time.Since(t0))
		after = append(after, time.Since(t1))
	}
	b.StopTimer()
	reportPercentiles(b, total, "append-to-delivery")
	reportPercentiles(b, after, "delivery")
}
