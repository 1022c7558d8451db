package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Subprocess helper for TestUpdateAcrossProcesses: the test binary re-runs
// itself with these variables set and adds StopSessions instead of testing.
const (
	envHelperPath   = "SCISPOT_CONTROL_TEST_PATH"
	envHelperPrefix = "SCISPOT_CONTROL_TEST_PREFIX"
	helperAdds      = 25
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envHelperPath); path != "" {
		prefix := os.Getenv(envHelperPrefix)
		for i := range helperAdds {
			id := fmt.Sprintf("%s-%d", prefix, i)
			if err := Update(path, func(s *State) error { s.StopSession(id); return nil }); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func controlPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "state", "control.json")
}

func TestWriteReadRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	tests := []struct {
		name string
		st   State
	}{
		{name: "zero", st: State{}},
		{name: "killed", st: State{Killed: true, Reason: "lab audit", By: "ada", Source: SourceCLI, At: at}},
		{name: "resumed with stops", st: State{By: "ada", Source: SourceTray, At: at.In(time.FixedZone("X", 3600)), StopSessions: []string{"s1", "s2"}}},
		{name: "unicode reason", st: State{Killed: true, Reason: "Stopp – «Prüfung» ✋\n\"quoted\""}},
		{name: "newer version kept", st: State{V: 9, Killed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := controlPath(t)
			if err := Write(path, tt.st); err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			want := tt.st
			want.V = max(want.V, CurrentVersion)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Read after Write (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadMissing(t *testing.T) {
	st, err := Read(controlPath(t))
	if err != nil {
		t.Fatalf("Read of a missing file: %v", err)
	}
	if st.Killed || st.Stops("any") {
		t.Fatalf("missing file reads as %+v, want not killed", st)
	}
}

func TestReadValid(t *testing.T) {
	tests := []struct {
		name, data string
		want       State
	}{
		{name: "hand written", data: `{"killed": true}`, want: State{V: 1, Killed: true}},
		{name: "not killed", data: `{"killed":false}`, want: State{V: 1}},
		{name: "byte order mark", data: "\xef\xbb\xbf{\"killed\":true}", want: State{V: 1, Killed: true}},
		{name: "whitespace", data: "\n\t {\"killed\":true} \n\n", want: State{V: 1, Killed: true}},
		{name: "unknown keys from a newer version", data: `{"v":2,"killed":true,"until":"tomorrow","admin":{"x":1}}`, want: State{V: 2, Killed: true}},
		{name: "null optional fields", data: `{"killed":true,"reason":null,"stop_sessions":null}`, want: State{V: 1, Killed: true}},
		{name: "empty session ids dropped", data: `{"killed":false,"stop_sessions":["","a",""]}`, want: State{V: 1, StopSessions: []string{"a"}}},
		{name: "all fields", data: `{"v":1,"killed":true,"reason":"r","by":"ada","source":"tray","at":"2026-01-02T03:04:05Z","stop_sessions":["a"]}`,
			want: State{V: 1, Killed: true, Reason: "r", By: "ada", Source: SourceTray, At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), StopSessions: []string{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, tt.data)
			got, err := Read(path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCorrupt(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty", ""},
		{"spaces", "  \n"},
		{"null", "null"},
		{"array", `[{"killed":true}]`},
		{"string", `"killed"`},
		{"truncated", `{"killed":tr`},
		{"no killed", `{}`},
		{"killed null", `{"killed":null}`},
		{"killed string", `{"killed":"yes"}`},
		{"killed number", `{"killed":1}`},
		{"trailing data", `{"killed":false} {"killed":true}`},
		{"bad time", `{"killed":true,"at":"yesterday"}`},
		{"bad stop list", `{"killed":false,"stop_sessions":"s1"}`},
		{"bad version type", `{"v":"1","killed":false}`},
		{"version zero", `{"v":0,"killed":false}`},
		{"negative version", `{"v":-1,"killed":false}`},
		{"binary", "\x00\x01\x02"},
		{"too large", `{"killed":false,"reason":"` + strings.Repeat("x", MaxFileSize) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRaw(t, tt.data)
			st, err := Read(path)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Read = %+v, %v; want ErrCorrupt", st, err)
			}
			if (Snapshot{State: st, Err: err}).Killed() != true {
				t.Fatal("a damaged file must count as killed")
			}
		})
	}
}

func TestWriteTooLarge(t *testing.T) {
	path := controlPath(t)
	must(t, Write(path, State{Killed: true}))
	err := Write(path, State{Reason: strings.Repeat("x", MaxFileSize)})
	if err == nil {
		t.Fatal("Write of an oversized state succeeded")
	}
	if st, err := Read(path); err != nil || !st.Killed {
		t.Fatalf("after a failed Write, Read = %+v, %v; want the old, killed state", st, err)
	}
}

func TestReadUnreadable(t *testing.T) {
	path := controlPath(t)
	if err := os.MkdirAll(path, 0o700); err != nil { // a folder where the file should be
		t.Fatal(err)
	}
	_, err := Read(path)
	if err == nil {
		t.Fatal("Read of a folder succeeded")
	}
	if errors.Is(err, ErrCorrupt) {
		t.Fatalf("Read of a folder = %v, want an I/O error, not ErrCorrupt", err)
	}
}

func TestWritePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	path := controlPath(t)
	// An existing file with a loose mode is replaced by a 0600 one.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"killed":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, State{Killed: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".lock"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), got)
		}
	}
	// A folder Write creates is private too.
	fresh := controlPath(t)
	if err := Write(fresh, State{}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Dir(fresh))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("created folder mode = %o, want 700", got)
	}
	// No temp files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"control.json", "control.json.lock"}; !slices.Equal(names, want) {
		t.Errorf("folder holds %q, want %q", names, want)
	}
}

// TestWriteAtomic reads in a loop while another goroutine rewrites the file:
// every read must find a whole, valid file.
func TestWriteAtomic(t *testing.T) {
	path := controlPath(t)
	if err := Write(path, State{}); err != nil {
		t.Fatal(err)
	}
	const writes = 20
	done := make(chan error, 1)
	go func() {
		for i := range writes {
			// Big enough to need several write calls if it were not atomic.
			st := State{Killed: i%2 == 0, Reason: strings.Repeat(fmt.Sprint(i%10), 8<<10), StopSessions: []string{fmt.Sprint(i)}}
			if err := Write(path, st); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if reads == 0 {
				t.Log("no read overlapped a write")
			}
			return
		default:
		}
		raw, err := readRaw(path)
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if _, _, err := parse(raw); err != nil {
			t.Fatalf("read %d saw a partial file (%d bytes): %v", reads, len(raw), err)
		}
		reads++
	}
}

func TestUpdate(t *testing.T) {
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	path := controlPath(t)
	steps := []struct {
		name string
		fn   func(*State)
		want State
	}{
		{"kill on a missing file", func(s *State) { s.Kill("meeting", "ada", SourceCLI, at) },
			State{V: 1, Killed: true, Reason: "meeting", By: "ada", Source: SourceCLI, At: at}},
		{"stop a session while killed", func(s *State) { s.StopSession("s1") },
			State{V: 1, Killed: true, Reason: "meeting", By: "ada", Source: SourceCLI, At: at, StopSessions: []string{"s1"}}},
		{"resume clears stops", func(s *State) { s.Resume("bob", SourceTray, at.Add(time.Hour)) },
			State{V: 1, By: "bob", Source: SourceTray, At: at.Add(time.Hour)}},
		{"stop two sessions", func(s *State) { s.StopSession("s2"); s.StopSession("s3"); s.StopSession("s2") },
			State{V: 1, By: "bob", Source: SourceTray, At: at.Add(time.Hour), StopSessions: []string{"s2", "s3"}}},
		{"a session forgets itself", func(s *State) { s.ForgetSession("s2") },
			State{V: 1, By: "bob", Source: SourceTray, At: at.Add(time.Hour), StopSessions: []string{"s3"}}},
	}
	for _, step := range steps {
		if err := Update(path, func(s *State) error { step.fn(s); return nil }); err != nil {
			t.Fatalf("%s: Update: %v", step.name, err)
		}
		got, err := Read(path)
		if err != nil {
			t.Fatalf("%s: Read: %v", step.name, err)
		}
		if diff := cmp.Diff(step.want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", step.name, diff)
		}
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	path := controlPath(t)
	if err := Write(path, State{Killed: true}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	err := Update(path, func(s *State) error { s.Killed = false; return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want it to wrap fn's error", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatalf("file changed after a failed update:\n%s\n->\n%s", before, after)
	}
}

func TestUpdateWithoutChangeDoesNotRewrite(t *testing.T) {
	path := controlPath(t)
	if err := Write(path, State{Killed: true, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Update(path, func(s *State) error { s.StopSession(""); return nil }); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("an update that changed nothing replaced the file")
	}
}

func TestUpdatePreservesUnknownKeys(t *testing.T) {
	path := writeRaw(t, `{"v":2,"killed":true,"reason":"old","until":"2030-01-01T00:00:00Z","admin":{"note":"x"}}`)
	if err := Update(path, func(s *State) error { s.Resume("ada", SourceCLI, time.Time{}); return nil }); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"v": 2.0, "killed": false, "by": "ada", "source": "cli", "until": "2030-01-01T00:00:00Z", "admin": map[string]any{"note": "x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("file after Update (-want +got):\n%s", diff)
	}
}

func TestUpdateDamagedFile(t *testing.T) {
	const damaged = `{"killed": tru`
	path := writeRaw(t, damaged)
	var seen State
	err := Update(path, func(s *State) error {
		seen = *s
		s.Resume("ada", SourceCLI, time.Time{})
		return nil
	})
	if err != nil {
		t.Fatalf("Update of a damaged file: %v", err)
	}
	if !seen.Killed || !strings.Contains(seen.Reason, "damaged") {
		t.Fatalf("fn saw %+v, want a killed state that says the file was damaged", seen)
	}
	kept, err := os.ReadFile(path + ".corrupt")
	if err != nil || string(kept) != damaged {
		t.Fatalf("kept copy = %q, %v; want the damaged content", kept, err)
	}
	st, err := Read(path)
	if err != nil || st.Killed {
		t.Fatalf("after resume Read = %+v, %v; want a valid, not killed file", st, err)
	}
}

func TestUpdateConcurrentGoroutines(t *testing.T) {
	path := controlPath(t)
	const workers, each = 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("g%d-%d", w, i)
				errs <- Update(path, func(s *State) error { s.StopSession(id); return nil })
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for w := range workers {
		for i := range each {
			want = append(want, fmt.Sprintf("g%d-%d", w, i))
		}
	}
	assertStops(t, path, want)
}

func TestUpdateAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	path := controlPath(t)
	prefixes := []string{"p1", "p2"}
	cmds := make([]*exec.Cmd, len(prefixes))
	for i, p := range prefixes {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envHelperPath+"="+path, envHelperPrefix+"="+p)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process: %v", err)
		}
	}
	var want []string
	for _, p := range prefixes {
		for i := range helperAdds {
			want = append(want, fmt.Sprintf("%s-%d", p, i))
		}
	}
	assertStops(t, path, want)
}

func assertStops(t *testing.T, path string, want []string) {
	t.Helper()
	st, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(st.StopSessions))
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("StopSessions lost updates (-want +got):\n%s", diff)
	}
}

func TestStateMethods(t *testing.T) {
	var s State
	if s.Stops("a") {
		t.Fatal("zero state stops a session")
	}
	s.StopSession("a")
	s.StopSession("a")
	s.StopSession("")
	if !slices.Equal(s.StopSessions, []string{"a"}) || !s.Stops("a") || s.Stops("b") {
		t.Fatalf("after StopSession: %+v", s)
	}
	s.ForgetSession("a")
	if s.StopSessions != nil {
		t.Fatalf("after ForgetSession: %q", s.StopSessions)
	}
	for i := range MaxStopSessions + 10 {
		s.StopSession(fmt.Sprint(i))
	}
	if len(s.StopSessions) != MaxStopSessions || s.StopSessions[0] != "10" {
		t.Fatalf("cap: %d entries starting at %q, want %d starting at \"10\"", len(s.StopSessions), s.StopSessions[0], MaxStopSessions)
	}
	s.Kill("r", "ada", SourceTray, time.Time{})
	if !s.Stops("anything") {
		t.Fatal("killed state does not stop every session")
	}
	s.Resume("ada", SourceTray, time.Time{})
	if s.Killed || s.Reason != "" || s.StopSessions != nil {
		t.Fatalf("after Resume: %+v", s)
	}
}

// TestKnownKeys guards the reflection that lets Update keep unknown keys:
// every key State writes must count as known.
func TestKnownKeys(t *testing.T) {
	full := State{V: 1, Killed: true, Reason: "r", By: "b", Source: "s", At: time.Now(), StopSessions: []string{"x"}}
	raw, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != reflect.TypeFor[State]().NumField() {
		t.Fatalf("a fully set State writes %d keys, want one per field", len(m))
	}
	for k := range m {
		if !slices.Contains(knownKeys, k) {
			t.Errorf("key %q is not in knownKeys %q", k, knownKeys)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `{"killed":true}`, `{"killed":false,"stop_sessions":["a",""]}`,
		`{"v":3,"killed":true,"at":"2026-01-02T03:04:05.123456789+02:00","x":[1,2]}`,
		"\xef\xbb\xbf{\"killed\":true}", `{"killed":true,"at":"0000-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "control.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Read(path)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Read error %v is not ErrCorrupt", err)
			}
			return
		}
		// Whatever Read accepts, Write must write back unchanged (within
		// the size limit, which indentation can push a huge file over).
		if len(data) > MaxFileSize/4 {
			return
		}
		if err := Write(path, st); err != nil {
			t.Fatalf("Write of an accepted state: %v", err)
		}
		again, err := Read(path)
		if err != nil {
			t.Fatalf("Read after Write: %v", err)
		}
		if diff := cmp.Diff(st, again); diff != "" {
			t.Fatalf("round trip changed the state (-read +reread):\n%s", diff)
		}
	})
}

func writeRaw(t *testing.T, data string) string {
	t.Helper()
	path := controlPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
