package configfile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// clock returns a clock that advances one second per call.
func clock() func() time.Time {
	t := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Second)
		return t
	}
}

func setEdit(value string) []Edit { return []Edit{{Path: scispotPath, Value: []byte(value)}} }

// snapshot records every file under dir with its content and mode.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link:" + target
		case d.IsDir():
			out[rel] = "dir:" + info.Mode().String()
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = info.Mode().String() + ":" + string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := snapshot(t, dir)
	if !maps(before, after) {
		t.Errorf("folder changed:\nbefore %v\nafter  %v", before, after)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestApplyNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "mcp.json")
	res, err := Apply(context.Background(), path, setEdit(smallEntry), Options{CreateDirs: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || !res.Created || res.Backup != "" || res.Path != path {
		t.Errorf("result = %+v", res)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	want := "{\n  \"mcpServers\": {\n    \"scispot\": {\n      \"command\": \"/bin/scispot-mcp\",\n      \"args\": [\"serve\"]\n    }\n  }\n}\n"
	if string(b) != want {
		t.Errorf("content = %q, want %q", b, want)
	}
	// No temp files left behind; the lock file stays.
	entries, _ := os.ReadDir(filepath.Dir(path))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"mcp.json", "mcp.json" + LockSuffix}; !slices.Equal(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
}

func TestApplyWithoutCreateDirs(t *testing.T) {
	dir := t.TempDir()
	_, err := Apply(context.Background(), filepath.Join(dir, "missing", "mcp.json"), setEdit(smallEntry), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("created %v", entries)
	}
}

func TestApplyKeepsModeAndIsIdempotent(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix modes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "claude_desktop_config.json")
	if err := os.WriteFile(path, []byte("{\n  // mine\n  \"a\": 1\n}\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	now := clock()
	res, err := Apply(context.Background(), path, setEdit(smallEntry), Options{Now: now})
	if err != nil || !res.Changed || res.Created {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	if res.Backup != path+BackupInfix+"20260102T150406Z" {
		t.Errorf("backup = %q", res.Backup)
	}
	if b, _ := os.ReadFile(res.Backup); string(b) != "{\n  // mine\n  \"a\": 1\n}\n" {
		t.Errorf("backup holds %q", b)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", info.Mode().Perm())
	}
	if info, _ := os.Stat(res.Backup); info.Mode().Perm() != 0o640 {
		t.Errorf("backup mode = %v, want 0640", info.Mode().Perm())
	}

	before := snapshot(t, dir)
	res, err = Apply(context.Background(), path, setEdit(smallEntry), Options{Now: now})
	if err != nil || res.Changed || res.Backup != "" {
		t.Fatalf("second apply: %+v, %v", res, err)
	}
	assertUnchanged(t, dir, before)
}

func TestApplyNoOpLeavesNoTrace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	content := `{"mcpServers": {"scispot": ` + smallEntry + `}}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	res, err := Apply(context.Background(), path, setEdit(smallEntry), Options{})
	if err != nil || res.Changed {
		t.Fatalf("%+v, %v", res, err)
	}
	assertUnchanged(t, dir, before) // not even a lock file
}

func TestApplyDryRun(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "a.json")
	orig := "{\n  \"other\": true\n}\n"
	if err := os.WriteFile(existing, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	res, err := Apply(context.Background(), existing, setEdit(smallEntry), Options{DryRun: true})
	if err != nil || !res.Changed || res.Backup != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	wantDiff := "--- " + existing + "\n+++ " + existing + "\n@@ -1,3 +1,9 @@\n {\n-  \"other\": true\n+  \"other\": true,\n+  \"mcpServers\": {\n+    \"scispot\": {\n+      \"command\": \"/bin/scispot-mcp\",\n+      \"args\": [\"serve\"]\n+    }\n+  }\n }\n"
	if res.Diff != wantDiff {
		t.Errorf("diff =\n%s\nwant\n%s", res.Diff, wantDiff)
	}

	res, err = Apply(context.Background(), filepath.Join(dir, "new", "b.json"), setEdit(smallEntry), Options{DryRun: true, CreateDirs: true})
	if err != nil || !res.Changed || !res.Created || !strings.HasPrefix(res.Diff, "--- /dev/null\n") {
		t.Fatalf("new file dry run: %+v, %v", res, err)
	}
	assertUnchanged(t, dir, before)
}

func TestBackupRotationKeepsThree(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	if err := os.WriteFile(path, []byte(`{"v": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// An unrelated file that looks a bit like a backup must survive.
	decoy := path + BackupInfix + "keep-me"
	if err := os.WriteFile(decoy, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	now := clock()
	for v := 1; v <= 5; v++ {
		if _, err := Apply(context.Background(), path, []Edit{{Path: []string{"v"}, Value: []byte{byte('0' + v)}}}, Options{Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	backups, err := Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 3 {
		t.Fatalf("backups = %v, want 3", backups)
	}
	for i, b := range backups { // the newest three hold versions 2, 3, 4
		content, _ := os.ReadFile(b)
		if want := `{"v": ` + string(rune('2'+i)) + `}`; string(content) != want {
			t.Errorf("backup %d holds %q, want %q", i, content, want)
		}
	}
	if _, err := os.Stat(decoy); err != nil {
		t.Errorf("rotation removed an unrelated file: %v", err)
	}
}

func TestBackupsInTheSameSecond(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	if err := os.WriteFile(path, []byte(`{"v": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fixed := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	for v := 1; v <= 12; v++ {
		value := []byte(strings.Repeat("1", v))
		if _, err := Apply(context.Background(), path, []Edit{{Path: []string{"v"}, Value: value}}, Options{Now: fixed, KeepBackups: 20}); err != nil {
			t.Fatal(err)
		}
	}
	backups, _ := Backups(path)
	if len(backups) != 12 {
		t.Fatalf("got %d backups", len(backups))
	}
	// Oldest first even past "-9": versions 0, 1, 11, 111, …
	for i, b := range backups {
		content, _ := os.ReadFile(b)
		want := `{"v": 0}`
		if i > 0 {
			want = `{"v": ` + strings.Repeat("1", i) + `}`
		}
		if string(content) != want {
			t.Errorf("backup %d (%s) holds %q, want %q", i, filepath.Base(b), content, want)
		}
	}
}

func TestApplyNoBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcp.json")
	if err := os.WriteFile(path, []byte(`{"secret": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), path, []Edit{{Path: []string{"secret"}}}, Options{NoBackup: true})
	if err != nil || res.Backup != "" {
		t.Fatalf("%+v, %v", res, err)
	}
	if b, _ := Backups(path); len(b) != 0 {
		t.Errorf("backups = %v", b)
	}
}

func TestApplyRefusals(t *testing.T) {
	type setup func(t *testing.T, dir string) string
	write := func(content string, mode fs.FileMode) setup {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "cfg.json")
			if err := os.WriteFile(p, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
			return p
		}
	}
	tests := []struct {
		name   string
		setup  setup
		wantIs error
		says   string
		unix   bool
	}{
		{name: "unparseable", setup: write("{\n  \"a\": 1,,\n}", 0o600), wantIs: ErrUnparseable, says: "cfg.json:2:10"},
		{name: "top level not an object", setup: write("[]", 0o600), wantIs: ErrNotObject, says: "cfg.json:1:1"},
		{name: "folder instead of file", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "cfg.json")
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantIs: ErrNotRegular, says: "is a folder"},
		{name: "read-only file", setup: write("{}", 0o400), wantIs: ErrReadOnly, says: "cfg.json is read-only"},
		{name: "read-only folder", unix: true, setup: func(t *testing.T, dir string) string {
			sub := filepath.Join(dir, "ro")
			if err := os.Mkdir(sub, 0o700); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(sub, "cfg.json")
			if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(sub, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(sub, 0o700) })
			return p
		}, wantIs: ErrReadOnly, says: "folder"},
		{name: "broken symlink", unix: true, setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "cfg.json")
			if err := os.Symlink(filepath.Join(dir, "nowhere.json"), p); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantIs: ErrBrokenLink, says: "nowhere.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.unix && runtime.GOOS == "windows" {
				t.Skip("Unix only")
			}
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := snapshot(t, dir)
			for _, dry := range []bool{false, true} {
				_, err := Apply(context.Background(), path, setEdit(smallEntry), Options{DryRun: dry, CreateDirs: true})
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("dry=%v: err = %v, want %v", dry, err, tt.wantIs)
				}
				if !strings.Contains(err.Error(), tt.says) {
					t.Errorf("err = %q, want it to say %q", err, tt.says)
				}
			}
			assertUnchanged(t, dir, before)
		})
	}
}

func TestApplyEmptyFile(t *testing.T) {
	for _, content := range []string{"", "\n  \n"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "cfg.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Apply(context.Background(), path, setEdit(smallEntry), Options{})
		if err != nil || !res.Changed || res.Backup == "" {
			t.Fatalf("%q: %+v, %v", content, res, err)
		}
		if _, err := Read(path); err != nil {
			t.Error(err)
		}
	}
}

// A symlinked config is edited at its target: the link stays a link (as
// dotfile managers need), and lock, temp file and backup live beside the
// target.
func TestApplySymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	dir := t.TempDir()
	dotfiles := filepath.Join(dir, "dotfiles")
	home := filepath.Join(dir, "home")
	for _, d := range []string{dotfiles, home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(dotfiles, "mcp.json")
	if err := os.WriteFile(target, []byte("{\n  // tracked in git\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "mcp.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), link, setEdit(smallEntry), Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	wantTarget, _ := filepath.EvalSymlinks(target)
	if res.Path != wantTarget || filepath.Dir(res.Backup) != filepath.Dir(wantTarget) {
		t.Errorf("result = %+v, want edits at %s", res, wantTarget)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link is no longer a link: %v", err)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 1 {
		t.Errorf("home has %d files, want only the link", len(entries))
	}
	b, err := Read(link)
	if err != nil || !strings.Contains(string(b), "scispot") {
		t.Errorf("read through the link: %s, %v", b, err)
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	if _, err := Read(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("{\n // c\n \"a\": [1,],\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Read(path)
	if err != nil || string(b) != `{"a":[1]}` {
		t.Errorf("Read = %s, %v", b, err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(path); err != nil || string(b) != "{}" {
		t.Errorf("empty file: %s, %v", b, err)
	}
}

func TestApplyHonoursCancelledLockWait(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	unlock, err := lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Apply(ctx, path, setEdit(smallEntry), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Error("file written without the lock")
	}
}
