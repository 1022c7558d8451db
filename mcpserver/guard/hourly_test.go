package guard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/scispot/mcp-desktop/mcpserver/guard"
)

// clock is a settable clock for the budget.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func openBudget(t *testing.T, path string, limit int64, c *clock) *guard.HourlyBudget {
	t.Helper()
	b, err := guard.OpenHourlyBudget(path, limit, &guard.BudgetOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRemaining(t *testing.T, b *guard.HourlyBudget, want int64) {
	t.Helper()
	got, err := b.Check(context.Background())
	if err != nil || got != want {
		t.Fatalf("Check = %d, %v; want %d, nil", got, err, want)
	}
}

func refusalOf(t *testing.T, err error, sentinel error) *guard.Refusal {
	t.Helper()
	var r *guard.Refusal
	if !errors.As(err, &r) || !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want a Refusal matching %v", err, sentinel)
	}
	return r
}

func TestHourlyBudgetSlidingHour(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0.Add(10 * time.Second)}
	path := filepath.Join(t.TempDir(), "state", "usage.json")
	b := openBudget(t, path, 1000, c)

	mustRemaining(t, b, 1000)
	if err := b.Add(ctx, 400); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(30 * time.Minute))
	if err := b.Add(ctx, 500); err != nil {
		t.Fatal(err)
	}
	mustRemaining(t, b, 100)

	// 200 more would pass the limit: refused and not counted.
	err := b.Add(ctx, 200)
	r := refusalOf(t, err, guard.ErrHourlyBudget)
	want := "This result (200 bytes) would bring Scispot results passed to AI tools on this computer to 1.1 KB in the last hour, over the 1000 bytes your admin allows (MaxBytesPerHour), so it was withheld; retry in 31 min or ask for fewer rows."
	if r.Sentence != want || r.Rule != guard.RuleHourlyBudget || r.RetryAfter != 31*time.Minute {
		t.Errorf("got  %q (retry %v)\nwant %q", r.Sentence, r.RetryAfter, want)
	}
	mustRemaining(t, b, 100)
	if err := b.Add(ctx, 100); err != nil {
		t.Fatal(err)
	}

	// Used up: Check refuses before the call.
	_, err = b.Check(ctx)
	r = refusalOf(t, err, guard.ErrHourlyBudget)
	want = "Scispot results passed to AI tools on this computer reached 1000 bytes in the last hour, the limit your admin set (MaxBytesPerHour); part of it frees up in 31 min."
	if r.Sentence != want {
		t.Errorf("got  %q\nwant %q", r.Sentence, want)
	}

	// Every byte counts for at least an hour: the 400 bytes of 09:30:10
	// still count at 10:30:59 and are gone at 10:31.
	c.Set(t0.Add(60*time.Minute + 59*time.Second))
	_, err = b.Check(ctx)
	refusalOf(t, err, guard.ErrHourlyBudget)
	c.Set(t0.Add(61 * time.Minute))
	mustRemaining(t, b, 400)

	// Another process (another HourlyBudget on the file) sees the same.
	mustRemaining(t, openBudget(t, path, 1000, c), 400)

	c.Set(t0.Add(91 * time.Minute))
	mustRemaining(t, b, 1000)
}

func TestHourlyBudgetRefusals(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0}
	const mb = 1 << 20

	b := openBudget(t, filepath.Join(t.TempDir(), "usage.json"), 50*mb, c)
	err := b.Add(ctx, 60*mb)
	r := refusalOf(t, err, guard.ErrHourlyBudget)
	want := "This result (60.0 MB) is larger than the 50.0 MB per hour your admin allows to pass to AI tools (MaxBytesPerHour), so it was withheld; narrow the filter or ask for fewer rows per page."
	if r.Sentence != want {
		t.Errorf("got  %q\nwant %q", r.Sentence, want)
	}
	if err := b.Add(ctx, 48*mb+717*1024); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(5 * time.Minute))
	err = b.Add(ctx, 3*mb+100*1024)
	r = refusalOf(t, err, guard.ErrHourlyBudget)
	want = "This result (3.1 MB) would bring Scispot results passed to AI tools on this computer to 51.8 MB in the last hour, over the 50.0 MB your admin allows (MaxBytesPerHour), so it was withheld; retry in 56 min or ask for fewer rows."
	if r.Sentence != want {
		t.Errorf("got  %q\nwant %q", r.Sentence, want)
	}

	zero := openBudget(t, filepath.Join(t.TempDir(), "usage.json"), 0, c)
	_, err = zero.Check(ctx)
	r = refusalOf(t, err, guard.ErrHourlyBudget)
	if !strings.Contains(r.Sentence, "MaxBytesPerHour to 0") {
		t.Errorf("limit 0: %q", r.Sentence)
	}
	zero.SetLimit(10)
	mustRemaining(t, zero, 10)

	if err := b.Add(ctx, -1); err == nil {
		t.Error("Add(-1): want an error")
	}
	if _, err := guard.OpenHourlyBudget("", 1, nil); err == nil {
		t.Error("OpenHourlyBudget(\"\"): want an error")
	}
}

func TestHourlyBudgetDamagedFile(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		content string
		damaged bool
	}{
		{"not json", "{\"v\": 1, \"minutes\": [", true},
		{"garbage", "\x89PNG\r\n", true},
		{"unknown version", `{"v": 2, "minutes": []}`, true},
		{"unknown field", `{"v": 1, "minutes": [], "reset": true}`, true},
		{"negative bytes", `{"v": 1, "minutes": [{"start": "2025-06-02T09:00:00Z", "bytes": -5}]}`, true},
		{"trailing data", `{"v": 1, "minutes": []} {}`, true},
		{"empty", "", false},
		{"zeros left by a power cut", "\x00\x00\x00\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "usage.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			written := t0.Add(-10 * time.Minute)
			if err := os.Chtimes(path, written, written); err != nil {
				t.Fatal(err)
			}
			c := &clock{now: t0}
			b := openBudget(t, path, 1000, c)
			if !tt.damaged {
				mustRemaining(t, b, 1000)
				return
			}

			// Fail closed until an hour after the damaged file was written.
			_, err := b.Check(ctx)
			r := refusalOf(t, err, guard.ErrUsageDamaged)
			if !errors.Is(err, guard.ErrHourlyBudget) || r.RetryAfter != 50*time.Minute {
				t.Errorf("Check: %v (retry %v), want ErrHourlyBudget too and 50 min", err, r.RetryAfter)
			}
			want := "Scispot MCP Desktop's record of results passed to AI tools on this computer was damaged, so the hourly limit your admin set (MaxBytesPerHour) counts as used up for 50 more min; the damaged file was kept as usage.json.damaged."
			if r.Sentence != want {
				t.Errorf("got  %q\nwant %q", r.Sentence, want)
			}
			// Add sets the damaged file aside, keeping it, and records the
			// penalty in a fresh file.
			refusalOf(t, b.Add(ctx, 1), guard.ErrUsageDamaged)
			kept, err := os.ReadFile(path + ".damaged")
			if err != nil || string(kept) != tt.content {
				t.Errorf("damaged file not kept: %q, %v", kept, err)
			}
			c.Set(t0.Add(49 * time.Minute))
			refusalOf(t, b.Add(ctx, 1), guard.ErrUsageDamaged)
			c.Set(t0.Add(50 * time.Minute))
			if err := b.Add(ctx, 1); err != nil {
				t.Fatalf("after the penalty hour: %v", err)
			}
			mustRemaining(t, b, 999)
		})
	}
}

func TestHourlyBudgetUnavailable(t *testing.T) {
	// A directory where the file should be cannot be read on any system.
	path := filepath.Join(t.TempDir(), "usage.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	b := openBudget(t, path, 1000, &clock{now: t0})
	_, err := b.Check(context.Background())
	r := refusalOf(t, err, guard.ErrUsageUnavailable)
	if !strings.HasPrefix(r.Sentence, "Scispot MCP Desktop could not read its usage record "+path) {
		t.Errorf("sentence %q", r.Sentence)
	}
	refusalOf(t, b.Add(context.Background(), 1), guard.ErrUsageUnavailable)
}

func TestHourlyBudgetClockSteppedBack(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: t0.Add(2 * time.Hour)}
	path := filepath.Join(t.TempDir(), "usage.json")
	b := openBudget(t, path, 1000, c)
	if err := b.Add(ctx, 600); err != nil {
		t.Fatal(err)
	}
	// Back two hours: the bytes still count, for an hour from "now".
	c.Set(t0)
	mustRemaining(t, b, 400)
	if err := b.Add(ctx, 100); err != nil {
		t.Fatal(err)
	}
	c.Set(t0.Add(61 * time.Minute))
	mustRemaining(t, b, 1000)
}

func TestHourlyBudgetWaitsForLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	b := openBudget(t, path, 1000, &clock{now: t0})
	other := flock.New(path + ".lock")
	if err := other.Lock(); err != nil {
		t.Fatal(err)
	}
	defer other.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with the lock held elsewhere and ctx cancelled: %v", err)
	}
	if err := b.Add(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Add with the lock held elsewhere and ctx cancelled: %v", err)
	}
}

func TestHourlyBudgetConcurrentInProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "usage.json")
	c := &clock{now: t0}
	budgets := []*guard.HourlyBudget{openBudget(t, path, 1<<40, c), openBudget(t, path, 1<<40, c)}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 25 {
				if err := budgets[i%2].Add(ctx, 3); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	mustRemaining(t, budgets[0], 1<<40-8*25*3)
}

// The cross-process test re-runs this test binary as helper processes.
const (
	childPathEnv = "GUARD_TEST_BUDGET_CHILD_PATH"
	childAddsEnv = "GUARD_TEST_BUDGET_CHILD_ADDS"
	childNowEnv  = "GUARD_TEST_BUDGET_CHILD_NOW"
)

// TestHourlyBudgetCrossProcess has two processes add to one usage file at
// the same time; the total must be exact.
func TestHourlyBudgetCrossProcess(t *testing.T) {
	if path := os.Getenv(childPathEnv); path != "" {
		budgetChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	const adds = 150
	path := filepath.Join(t.TempDir(), "usage.json")
	var children []*exec.Cmd
	var gates []*os.File
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHourlyBudgetCrossProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childPathEnv+"="+path, childAddsEnv+"="+strconv.Itoa(adds),
			childNowEnv+"="+strconv.FormatInt(t0.Unix(), 10))
		gate, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = gate
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		gate.Close()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("child output:\n%s", out.String())
			}
		})
		children = append(children, cmd)
		gates = append(gates, w)
	}
	// Both children are started and waiting at the gate: open it for both
	// at once so their adds overlap.
	for _, w := range gates {
		fmt.Fprintln(w, "go")
		w.Close()
	}
	for _, cmd := range children {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	b := openBudget(t, path, 1<<40, &clock{now: t0})
	mustRemaining(t, b, 1<<40-2*adds*7)

	var f struct {
		Minutes []struct{ Bytes int64 } `json:"minutes"`
	}
	raw, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(raw, &f) != nil || len(f.Minutes) != 1 || f.Minutes[0].Bytes != 2*adds*7 {
		t.Errorf("usage file: %s (%v)", raw, err)
	}
}

func budgetChild(t *testing.T, path string) {
	adds, _ := strconv.Atoi(os.Getenv(childAddsEnv))
	sec, _ := strconv.ParseInt(os.Getenv(childNowEnv), 10, 64)
	now := time.Unix(sec, 0).UTC()
	b, err := guard.OpenHourlyBudget(path, 1<<40, &guard.BudgetOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatalf("waiting for the gate: %v", err)
	}
	for range adds {
		if err := b.Add(context.Background(), 7); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHourlyBudgetWritesInPlace: an update overwrites the file in place,
// padded so nothing of the old content is left to misread, and a file
// that would shrink by more than a page is replaced instead. Either way
// every other reader sees exactly the new count.
func TestHourlyBudgetWritesInPlace(t *testing.T) {
	minute := func(i int) string {
		return fmt.Sprintf(`{"start": %q, "bytes": 10}`, t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	var hour []string
	for i := range 60 {
		hour = append(hour, minute(i))
	}
	for _, tc := range []struct {
		name     string
		old      string
		at       time.Duration // clock, after t0
		want     int64         // used after adding 5
		replaced bool          // a new file (other inode), smaller than the old
	}{
		{"grows", `{"v": 1, "minutes": [` + minute(0) + `]}`, time.Minute, 15, false},
		{"shrinks a little", `{"v": 1, "minutes": [` + strings.Join(hour, ",") + `]}`, 2 * time.Hour, 5, false},
		{"shrinks by more than a page", `{"v": 1, "minutes": [` + minute(0) + `]}` + strings.Repeat(" ", 9000), time.Minute, 15, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "usage.json")
			if err := os.WriteFile(path, []byte(tc.old), 0o600); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			c := &clock{now: t0.Add(tc.at)}
			if err := openBudget(t, path, 1000, c).Add(context.Background(), 5); err != nil {
				t.Fatal(err)
			}
			after, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if replaced := !os.SameFile(before, after); replaced != tc.replaced {
				t.Errorf("file replaced = %v, want %v", replaced, tc.replaced)
			}
			if shrank := after.Size() < before.Size(); shrank != tc.replaced {
				t.Errorf("size %d -> %d", before.Size(), after.Size())
			}
			raw, _ := os.ReadFile(path)
			var f struct{ V int }
			if err := json.Unmarshal(raw, &f); err != nil || f.V != 1 {
				t.Errorf("usage file no longer reads: %v\n%s", err, raw)
			}
			if after.Mode().Perm() != 0o600 && runtime.GOOS != "windows" {
				t.Errorf("mode %v", after.Mode())
			}
			// A fresh reader, with nothing cached, agrees.
			mustRemaining(t, openBudget(t, path, 1000, c), 1000-tc.want)
		})
	}
}
