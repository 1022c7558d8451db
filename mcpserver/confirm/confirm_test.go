package confirm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// tray runs a Watcher on dir and hands its callbacks to channels.
type tray struct {
	requests chan Request
	gone     chan string
}

func startTray(t *testing.T, dir string, now func() time.Time) *tray {
	t.Helper()
	tr := &tray{requests: make(chan Request, 10), gone: make(chan string, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{Dir: dir, Now: now, ready: make(chan struct{}),
		OnRequest: func(r Request) { tr.requests <- r },
		OnGone:    func(id string) { tr.gone <- id },
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watcher.Run: %v", err)
		}
	})
	select {
	case <-w.ready:
	case err := <-done:
		t.Fatalf("Watcher.Run: %v", err)
	}
	return tr
}

type askResult struct {
	a   Answer
	err error
}

func ask(ctx context.Context, dir string, req Request) <-chan askResult {
	ch := make(chan askResult, 1)
	go func() {
		a, err := Ask(ctx, dir, req)
		ch <- askResult{a, err}
	}()
	return ch
}

func sampleRequest() Request {
	return Request{Session: "s1", ClientName: "Cursor", ClientVersion: "1.2", Tool: "update_labsheet_rows",
		Target: "labsheet Plasmids, row PL-0006", Change: "Status → Verified", Destructive: false}
}

func TestAskAnswered(t *testing.T) {
	for _, approved := range []bool{true, false} {
		t.Run(map[bool]string{true: "approved", false: "denied"}[approved], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "confirm")
			tr := startTray(t, dir, nil)
			res := ask(context.Background(), dir, sampleRequest())

			req := <-tr.requests
			if req.Tool != "update_labsheet_rows" || req.ClientName != "Cursor" || req.ID == "" || req.Time.IsZero() {
				t.Errorf("delivered %+v", req)
			}
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(requestPath(dir, req.ID))
				if err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("request file: %v, %v", fi.Mode(), err)
				}
			}
			if err := Respond(dir, req.ID, approved, "ann"); err != nil {
				t.Fatal(err)
			}
			r := <-res
			if r.err != nil || r.a.Approved != approved || r.a.By != "ann" || r.a.ID != req.ID || r.a.TimedOut {
				t.Errorf("Ask = %+v, %v", r.a, r.err)
			}
			if id := <-tr.gone; id != req.ID {
				t.Errorf("gone %q, want %q", id, req.ID)
			}
			assertEmpty(t, dir)
		})
	}
}

func TestAskTimesOut(t *testing.T) {
	dir := t.TempDir()
	tr := startTray(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	res := ask(ctx, dir, sampleRequest())
	req := <-tr.requests
	cancel() // stands for the caller's 60 s deadline
	r := <-res
	if !errors.Is(r.err, ErrNoAnswer) || r.a.Approved || !r.a.TimedOut {
		t.Errorf("Ask = %+v, %v; want a timed-out denial", r.a, r.err)
	}
	if id := <-tr.gone; id != req.ID {
		t.Errorf("gone %q", id)
	}
	if err := Respond(dir, req.ID, true, "ann"); !errors.Is(err, ErrNoRequest) {
		t.Errorf("late Respond: %v, want ErrNoRequest", err)
	}
	assertEmpty(t, dir)
}

func TestAskIgnoresUnusableAnswer(t *testing.T) {
	dir := t.TempDir()
	tr := startTray(t, dir, nil)
	res := ask(context.Background(), dir, sampleRequest())
	req := <-tr.requests
	if err := writeAtomic(answerPath(dir, req.ID), map[string]any{"id": "someone-else", "approved": true}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-res:
		t.Fatalf("Ask took an answer for another id: %+v, %v", r.a, r.err)
	default:
	}
	if err := Respond(dir, req.ID, false, "ann"); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || r.a.Approved {
		t.Errorf("Ask = %+v, %v", r.a, r.err)
	}
}

func TestWatchDeliversPendingSkipsStale(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	fresh := sampleRequest()
	fresh.ID, fresh.Time = "fresh", now.Add(-10*time.Second)
	stale := sampleRequest()
	stale.ID, stale.Time = "stale", now.Add(-61*time.Second)
	answered := sampleRequest()
	answered.ID, answered.Time = "answered", now
	for _, r := range []Request{fresh, stale, answered} {
		if err := writeAtomic(requestPath(dir, r.ID), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeAtomic(answerPath(dir, "answered"), Answer{ID: "answered"}); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"junk.request.json": "{", "notes.txt": "x", ".x.request.json.tmp": "{"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tr := startTray(t, dir, func() time.Time { return now })
	select {
	case r := <-tr.requests:
		if r.ID != "fresh" {
			t.Errorf("delivered %q, want fresh", r.ID)
		}
	default:
		t.Fatal("the pending request was not delivered at start")
	}
	select {
	case r := <-tr.requests:
		t.Errorf("also delivered %q", r.ID)
	default:
	}
}

func TestRespondErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, id string
		want     error
	}{
		{"unknown", "nope", ErrNoRequest},
		{"path", "../x", ErrInvalid},
		{"empty", "", ErrInvalid},
		{"long", strings.Repeat("a", 65), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Respond(dir, tt.id, true, "ann"); !errors.Is(err, tt.want) {
				t.Errorf("Respond(%q): %v, want %v", tt.id, err, tt.want)
			}
		})
	}
	if _, err := Ask(context.Background(), dir, Request{ID: "a/b", Tool: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Ask with a bad id: %v", err)
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", `{"id":"a1","tool":"t","time":"2026-01-02T03:04:05Z"}`, true},
		{"no tool", `{"id":"a1","time":"2026-01-02T03:04:05Z"}`, false},
		{"no time", `{"id":"a1","tool":"t"}`, false},
		{"bad id", `{"id":"../a","tool":"t","time":"2026-01-02T03:04:05Z"}`, false},
		{"long target", `{"id":"a1","tool":"t","time":"2026-01-02T03:04:05Z","target":"` + strings.Repeat("x", 2001) + `"}`, false},
		{"not json", `nope`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRequest([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("ParseRequest: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"id":"a1","tool":"t","time":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"id":"a1","tool":"t","time":"2026-01-02T03:04:05Z","destructive":true}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err == nil && (CheckID(r.ID) != nil || r.Tool == "") {
			t.Errorf("accepted %+v", r)
		}
	})
}

func FuzzParseAnswer(f *testing.F) {
	f.Add([]byte(`{"id":"a1","approved":true,"by":"ann","at":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAnswer(b)
		if err == nil && CheckID(a.ID) != nil {
			t.Errorf("accepted id %q", a.ID)
		}
	})
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}
