package policy_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
)

// ownedBy returns an Owner function that reports uid for every file, so the
// trust rules are tested without root.
func ownedBy(uid uint32) func(fs.FileInfo) (uint32, bool) {
	return func(fs.FileInfo) (uint32, bool) { return uid, true }
}

// needUnixTrust skips tests that need a trusted policy file where none can
// be: Windows reports every writable file as mode 0666 and keeps its policy
// in the registry instead.
func needUnixTrust(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("policy files are trusted only on Unix; Windows uses the registry")
	}
}

// writePolicy writes a file with exactly mode perm (whatever the umask).
func writePolicy(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// fileStore returns a FileStore for path whose folder check starts at the
// folder holding the test's tree (top), with owner deciding who owns what.
func fileStore(path, top string, owner func(fs.FileInfo) (uint32, bool)) *policy.FileStore {
	return policy.WithTrustTop(&policy.FileStore{Path: path, Owner: owner}, top)
}

// owners returns an Owner that reports the uid in uids for a file or folder
// of that base name, and root for everything else.
func owners(uids map[string]uint32) func(fs.FileInfo) (uint32, bool) {
	return func(fi fs.FileInfo) (uint32, bool) {
		if uid, ok := uids[fi.Name()]; ok {
			return uid, true
		}
		return 0, true
	}
}

// policyTree is a real tree in a temporary folder: top/etc/scispot-mcp/policy.json.
type policyTree struct {
	top, etc, dir, file string
}

func newPolicyTree(t *testing.T) policyTree {
	t.Helper()
	top := t.TempDir()
	tr := policyTree{top: top, etc: filepath.Join(top, "etc")}
	tr.dir = filepath.Join(tr.etc, "scispot-mcp")
	tr.file = filepath.Join(tr.dir, "policy.json")
	for _, d := range []string{top, tr.etc, tr.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writePolicy(t, tr.file, `{"AllowDemo": false}`, 0o644)
	return tr
}

func chmod(p string, mode fs.FileMode) func(t *testing.T, tr policyTree) {
	return func(t *testing.T, tr policyTree) {
		t.Helper()
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFileStoreTrust applies the rule of design.md to real files: the
// policy file and every folder above it must be root's, writable by root
// only, and no symbolic link; otherwise the policy is invalid, whether the
// file is there or not.
func TestFileStoreTrust(t *testing.T) {
	needUnixTrust(t)
	const (
		trusted = "trusted" // the file's settings are used
		absent  = "absent"  // no policy: the defaults apply
	)
	// Folders relative to the tree's top; the tree is made per case.
	var (
		dir = filepath.Join("etc", "scispot-mcp")
		etc = "etc"
	)
	tests := []struct {
		name  string
		setup func(t *testing.T, tr policyTree)
		owner map[string]uint32 // by base name; the rest is root's
		want  string            // trusted, absent, or the error's problem (after the path)
		about string            // the path the error names, relative to the top; "" for the file
	}{
		{name: "root 0644", want: trusted},
		{name: "root 0444", setup: func(t *testing.T, tr policyTree) { chmod(tr.file, 0o444)(t, tr) }, want: trusted},
		{name: "root 0640", setup: func(t *testing.T, tr policyTree) { chmod(tr.file, 0o640)(t, tr) }, want: trusted},
		{name: "folders 0700", setup: func(t *testing.T, tr policyTree) { chmod(tr.dir, 0o700)(t, tr) }, want: trusted},

		// The file.
		{name: "file belongs to a user", owner: map[string]uint32{"policy.json": 1000}, want: "belongs to uid 1000, not root"},
		{name: "file group-writable", setup: func(t *testing.T, tr policyTree) { chmod(tr.file, 0o664)(t, tr) }, want: "is writable by other accounts (mode 0664)"},
		{name: "file world-writable", setup: func(t *testing.T, tr policyTree) { chmod(tr.file, 0o666)(t, tr) }, want: "is writable by other accounts (mode 0666)"},
		{name: "file writable by others only", setup: func(t *testing.T, tr policyTree) { chmod(tr.file, 0o646)(t, tr) }, want: "is writable by other accounts (mode 0646)"},
		{name: "file is a symbolic link", setup: func(t *testing.T, tr policyTree) {
			target := filepath.Join(tr.top, "real.json")
			writePolicy(t, target, `{}`, 0o644)
			mustRemove(t, tr.file)
			mustSymlink(t, target, tr.file)
		}, want: "is a symbolic link"},
		{name: "file is a folder", setup: func(t *testing.T, tr policyTree) {
			mustRemove(t, tr.file)
			if err := os.Mkdir(tr.file, 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: "is not a regular file"},
		{name: "file's owner unknown", setup: nil, owner: map[string]uint32{"policy.json": unknownOwner}, want: "has an owner that cannot be determined"},

		// The folders above it.
		{name: "folder belongs to a user", owner: map[string]uint32{"scispot-mcp": 1000}, want: "belongs to uid 1000, not root", about: dir},
		{name: "folder group-writable", setup: func(t *testing.T, tr policyTree) { chmod(tr.dir, 0o775)(t, tr) }, want: "is writable by other accounts (mode 0775)", about: dir},
		{name: "folder world-writable and sticky", setup: func(t *testing.T, tr policyTree) { chmod(tr.dir, fs.ModeSticky|0o777)(t, tr) }, want: "is writable by other accounts (mode 1777)", about: dir},
		{name: "folder is a symbolic link", setup: func(t *testing.T, tr policyTree) {
			real := filepath.Join(tr.top, "real-dir")
			if err := os.Rename(tr.dir, real); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, real, tr.dir)
		}, want: "is a symbolic link", about: dir},
		{name: "folder two up belongs to a user", owner: map[string]uint32{"etc": 1000}, want: "belongs to uid 1000, not root", about: etc},
		{name: "folder two up world-writable", setup: func(t *testing.T, tr policyTree) { chmod(tr.etc, 0o777)(t, tr) }, want: "is writable by other accounts (mode 0777)", about: etc},
		{name: "top folder writable", setup: func(t *testing.T, tr policyTree) { chmod(tr.top, 0o757)(t, tr) }, want: "is writable by other accounts (mode 0757)", about: "."},
		{name: "folder is a file", setup: func(t *testing.T, tr policyTree) {
			if err := os.RemoveAll(tr.dir); err != nil {
				t.Fatal(err)
			}
			writePolicy(t, tr.dir, `{}`, 0o644)
		}, want: "is not a folder", about: dir},

		// A missing file.
		{name: "missing file in root's folder", setup: func(t *testing.T, tr policyTree) { mustRemove(t, tr.file) }, want: absent},
		{name: "missing folder in root's folder", setup: func(t *testing.T, tr policyTree) {
			if err := os.RemoveAll(tr.dir); err != nil {
				t.Fatal(err)
			}
		}, want: absent},
		{name: "missing file in a world-writable folder", setup: func(t *testing.T, tr policyTree) {
			mustRemove(t, tr.file)
			chmod(tr.dir, 0o777)(t, tr)
		}, want: "is writable by other accounts (mode 0777)", about: dir},
		{name: "missing file in a user's folder", setup: func(t *testing.T, tr policyTree) { mustRemove(t, tr.file) },
			owner: map[string]uint32{"scispot-mcp": 1000}, want: "belongs to uid 1000, not root", about: dir},
		{name: "missing folder in a writable folder", setup: func(t *testing.T, tr policyTree) {
			if err := os.RemoveAll(tr.dir); err != nil {
				t.Fatal(err)
			}
			chmod(tr.etc, 0o777)(t, tr)
		}, want: "is writable by other accounts (mode 0777)", about: etc},
		{name: "folder moved away by its owner", setup: func(t *testing.T, tr policyTree) {
			if err := os.Rename(tr.dir, filepath.Join(tr.top, "moved")); err != nil {
				t.Fatal(err)
			}
		}, owner: map[string]uint32{"etc": 1000}, want: "belongs to uid 1000, not root", about: etc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newPolicyTree(t)
			if tt.setup != nil {
				tt.setup(t, tr)
			}
			st := fileStore(tr.file, tr.top, ownersWithUnknown(tt.owner))
			s, err := st.Read(t.Context())
			snap := policy.Load(t.Context(), st)
			switch tt.want {
			case trusted:
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if diff := cmp.Diff(policy.Settings{"AllowDemo": false}, s); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				if snap.Err != nil || snap.Policy.AllowDemo {
					t.Errorf("snapshot = %+v, want the file's policy", snap)
				}
				return
			case absent:
				if s != nil || err != nil {
					t.Fatalf("Read = %v, %v; want nil, nil (no policy)", s, err)
				}
				if snap.Err != nil || !snap.Policy.Equal(policy.Default()) || len(snap.Sources) != 0 {
					t.Errorf("snapshot = %+v, want the defaults", snap)
				}
				return
			}
			if !errors.Is(err, policy.ErrUntrusted) || !errors.Is(err, policy.ErrInvalid) {
				t.Fatalf("Read error = %v, want ErrUntrusted and ErrInvalid", err)
			}
			if s != nil {
				t.Errorf("settings = %v, want nil", s)
			}
			var want string
			if tt.about == "" {
				want = tr.file + " " + tt.want
			} else {
				want = "the folder " + filepath.Join(tr.top, tt.about) + " above " + tr.file + " " + tt.want
			}
			if !strings.HasPrefix(err.Error(), want+"; the policy file and every folder above it must belong to root") {
				t.Errorf("error %q\ndoes not start with %q", err, want)
			}
			// The whole policy is invalid: fail closed, and say so where
			// status --json shows the policy error, not as "ignored".
			if snap.Err == nil || snap.Policy.Enabled || len(snap.Ignored) != 0 || len(snap.Sources) != 0 {
				t.Fatalf("snapshot = %+v, want Err, Enabled false, nothing ignored", snap)
			}
			if got, prefix := snap.Err.Error(), "managed policy is not admin-controlled: "+want; !strings.HasPrefix(got, prefix) {
				t.Errorf("snapshot error %q\ndoes not start with %q", got, prefix)
			}
			if !errors.Is(snap.Err, policy.ErrInvalid) {
				t.Errorf("snapshot error %v does not wrap ErrInvalid", snap.Err)
			}
		})
	}
}

// unknownOwner in an owners map makes that file's owner impossible to tell.
const unknownOwner = 1<<32 - 1

func ownersWithUnknown(uids map[string]uint32) func(fs.FileInfo) (uint32, bool) {
	known := owners(uids)
	return func(fi fs.FileInfo) (uint32, bool) {
		uid, ok := known(fi)
		return uid, ok && uid != unknownOwner
	}
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
}

// TestFileStoreUntrustedBeforeParse checks that an untrusted file is not
// even parsed: what is wrong is who can write it, not its content.
func TestFileStoreUntrustedBeforeParse(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	writePolicy(t, path, `{"Enabled": "garbage"`, 0o644)
	_, err := fileStore(path, dir, ownedBy(501)).Read(t.Context())
	if !errors.Is(err, policy.ErrUntrusted) || strings.Contains(err.Error(), "JSON") {
		t.Errorf("Read error = %v, want ErrUntrusted about the owner", err)
	}
}

// TestFileStoreChecksFromTheTop checks that, by default, the folders are
// checked from the top of the file system: a file in a temporary folder is
// refused because of a folder above it (such as /tmp, writable by
// everyone), even when every file is reported as root's.
func TestFileStoreChecksFromTheTop(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "policy.json")
	writePolicy(t, path, `{}`, 0o644)
	weak := ""
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if fi, err := os.Lstat(d); err == nil && (fi.Mode()&fs.ModeSymlink != 0 || fi.Mode().Perm()&0o022 != 0) {
			weak = d // the highest such folder is what is reported
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if weak == "" {
		t.Skipf("every folder above %s is root's alone", dir)
	}
	_, err := (&policy.FileStore{Path: path, Owner: ownedBy(0)}).Read(t.Context())
	if !errors.Is(err, policy.ErrUntrusted) || !strings.HasPrefix(err.Error(), "the folder "+weak+" above ") {
		t.Errorf("Read error = %v, want ErrUntrusted naming the folder %s", err, weak)
	}
	// A file that does not exist there is refused just the same: a user
	// could have removed it.
	_, err = (&policy.FileStore{Path: filepath.Join(dir, "missing.json"), Owner: ownedBy(0)}).Read(t.Context())
	if !errors.Is(err, policy.ErrUntrusted) {
		t.Errorf("missing file: Read error = %v, want ErrUntrusted", err)
	}
}

func TestFileStoreOddPath(t *testing.T) {
	for _, p := range []string{"policy.json", "/etc/scispot-mcp/../scispot-mcp/policy.json", "/etc//scispot-mcp/policy.json"} {
		_, err := (&policy.FileStore{Path: p, Owner: ownedBy(0)}).Read(t.Context())
		if !errors.Is(err, policy.ErrInvalid) || !strings.Contains(err.Error(), "not a clean absolute path") {
			t.Errorf("Read(%q) error = %v, want ErrInvalid", p, err)
		}
	}
}

func TestFileStoreInvalid(t *testing.T) {
	needUnixTrust(t)
	tests := []struct {
		name     string
		content  string
		maxBytes int64
		want     string
	}{
		{"unknown key", `{"Foo": true}`, 0, `policy key "Foo" is not a known key`},
		{"empty file", ``, 0, `policy is not valid JSON: unexpected end of input`},
		{"too large", `{"ManagedBy": "` + strings.Repeat("x", 100) + `"}`, 64, `policy file is larger than 64 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "policy.json")
			writePolicy(t, path, tt.content, 0o644)
			st := fileStore(path, dir, ownedBy(0))
			st.MaxBytes = tt.maxBytes
			_, err := st.Read(t.Context())
			if !errors.Is(err, policy.ErrInvalid) || err.Error() != tt.want {
				t.Errorf("Read error = %v, want %q wrapping ErrInvalid", err, tt.want)
			}
		})
	}
}

// TestFileStoreDefaultSizeCap checks the 1 MiB default: a file of exactly
// the cap is read, one byte more is refused.
func TestFileStoreDefaultSizeCap(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	body := func(n int) string {
		prefix, suffix := `{"ManagedBy": "`, `"}`
		return prefix + strings.Repeat("x", n-len(prefix)-len(suffix)) + suffix
	}
	at := filepath.Join(dir, "at.json")
	writePolicy(t, at, body(policy.DefaultMaxFileBytes), 0o644)
	if _, err := fileStore(at, dir, ownedBy(0)).Read(t.Context()); err != nil {
		t.Errorf("file of exactly the cap: %v", err)
	}
	over := filepath.Join(dir, "over.json")
	writePolicy(t, over, body(policy.DefaultMaxFileBytes+1), 0o644)
	if _, err := fileStore(over, dir, ownedBy(0)).Read(t.Context()); !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("file over the cap: err = %v, want ErrInvalid", err)
	}
}

func TestFileStoreDecode(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "io.scispot.mcp.plist")
	writePolicy(t, path, readTestdata(t, "policy.xml.plist"), 0o644)
	st := fileStore(path, dir, ownedBy(0))
	st.Decode = policy.DecodePlist
	s, err := st.Read(t.Context())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if s["ManagedBy"] != "Jamf Pro" {
		t.Errorf("settings = %v, want the plist's", s)
	}
	if st.Name() != path || len(st.WatchPaths()) != 1 || st.WatchPaths()[0] != path {
		t.Errorf("Name/WatchPaths = %q/%q, want the path", st.Name(), st.WatchPaths())
	}
}

func TestFileStoreCanceled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	writePolicy(t, path, `{}`, 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := fileStore(path, dir, ownedBy(0)).Read(ctx); err == nil {
		t.Error("Read with a canceled context succeeded")
	}
}

// TestFileStoreRealOwner reads files with the operating system's owner
// check. As a normal user a file of ours is untrusted; as root the test
// changes owners and modes for real.
func TestFileStoreRealOwner(t *testing.T) {
	needUnixTrust(t)
	tr := newPolicyTree(t)
	st := policy.WithTrustTop(policy.NewFileStore(tr.file), tr.top)
	_, err := st.Read(t.Context())
	if os.Getuid() != 0 {
		want := fmt.Sprintf("the folder %s above %s belongs to uid %d, not root", tr.top, tr.file, os.Getuid())
		if !errors.Is(err, policy.ErrUntrusted) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("as uid %d: err = %v, want %q", os.Getuid(), err, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("as root: %v", err)
	}
	steps := []struct {
		name string
		do   func() error
		want string // "" = trusted; else the start of the error
	}{
		{"file given to uid 1000", func() error { return os.Chown(tr.file, 1000, 1000) }, tr.file + " belongs to uid 1000, not root"},
		{"file back to root", func() error { return os.Chown(tr.file, 0, 0) }, ""},
		{"file world-writable", func() error { return os.Chmod(tr.file, 0o666) }, tr.file + " is writable by other accounts (mode 0666)"},
		{"file 0644", func() error { return os.Chmod(tr.file, 0o644) }, ""},
		{"folder given to uid 1000", func() error { return os.Chown(tr.dir, 1000, 1000) }, "the folder " + tr.dir + " above " + tr.file + " belongs to uid 1000, not root"},
		{"file removed from the user's folder", func() error { return os.Remove(tr.file) }, "the folder " + tr.dir + " above " + tr.file + " belongs to uid 1000, not root"},
		{"folder back to root", func() error { return os.Chown(tr.dir, 0, 0) }, "absent"},
		{"folder group-writable", func() error { return os.Chmod(tr.dir, 0o775) }, "the folder " + tr.dir + " above " + tr.file + " is writable by other accounts (mode 0775)"},
		{"folder 0755", func() error { return os.Chmod(tr.dir, 0o755) }, "absent"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := st.Read(t.Context())
		switch {
		case s.want == "absent":
			if got != nil || err != nil {
				t.Errorf("%s: Read = %v, %v; want no policy", s.name, got, err)
			}
		case s.want == "":
			if err != nil || got == nil {
				t.Errorf("%s: Read = %v, %v; want the file's settings", s.name, got, err)
			}
		default:
			if !errors.Is(err, policy.ErrUntrusted) || !strings.HasPrefix(err.Error(), s.want) {
				t.Errorf("%s: err = %v, want %q", s.name, err, s.want)
			}
		}
	}
}

func readTestdata(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
