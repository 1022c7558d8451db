package policy_test

import (
	"context"
	"errors"
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

func TestFileStoreTrust(t *testing.T) {
	needUnixTrust(t)
	tests := []struct {
		name          string
		perm          fs.FileMode
		owner         func(fs.FileInfo) (uint32, bool)
		wantUntrusted string // substring of the reason; "" = trusted
	}{
		{name: "root 0644", perm: 0o644, owner: ownedBy(0)},
		{name: "root 0444", perm: 0o444, owner: ownedBy(0)},
		{name: "root 0640", perm: 0o640, owner: ownedBy(0)},
		{name: "user-owned", perm: 0o644, owner: ownedBy(1000), wantUntrusted: "owned by uid 1000"},
		{name: "group-writable", perm: 0o664, owner: ownedBy(0), wantUntrusted: "writable by group or others (mode 0664)"},
		{name: "world-writable", perm: 0o646, owner: ownedBy(0), wantUntrusted: "writable by group or others (mode 0646)"},
		{name: "owner unknown", perm: 0o644, owner: func(fs.FileInfo) (uint32, bool) { return 0, false }, wantUntrusted: "owner cannot be determined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.json")
			writePolicy(t, path, `{"AllowDemo": false}`, tt.perm)
			st := &policy.FileStore{Path: path, Owner: tt.owner}
			s, err := st.Read(t.Context())
			if tt.wantUntrusted == "" {
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if diff := cmp.Diff(policy.Settings{"AllowDemo": false}, s); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, policy.ErrUntrusted) {
				t.Fatalf("Read error = %v, want ErrUntrusted", err)
			}
			if errors.Is(err, policy.ErrInvalid) {
				t.Errorf("untrusted error %v also wraps ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantUntrusted) {
				t.Errorf("error %q does not say %q", err, tt.wantUntrusted)
			}
			if s != nil {
				t.Errorf("settings = %v, want nil", s)
			}
		})
	}
}

// TestFileStoreUntrustedBeforeParse checks that an untrusted file is not
// even parsed: its content cannot make the policy invalid.
func TestFileStoreUntrustedBeforeParse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	writePolicy(t, path, `{"Enabled": "garbage"`, 0o644)
	_, err := (&policy.FileStore{Path: path, Owner: ownedBy(501)}).Read(t.Context())
	if !errors.Is(err, policy.ErrUntrusted) || errors.Is(err, policy.ErrInvalid) {
		t.Errorf("Read error = %v, want only ErrUntrusted", err)
	}
}

func TestFileStoreNotRegular(t *testing.T) {
	needUnixTrust(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	writePolicy(t, target, `{}`, 0o644)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links: %v", err)
	}
	sub := filepath.Join(dir, "adir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		link: "is a symbolic link",
		sub:  "is not a regular file",
	} {
		_, err := (&policy.FileStore{Path: path, Owner: ownedBy(0)}).Read(t.Context())
		if !errors.Is(err, policy.ErrUntrusted) || !strings.Contains(err.Error(), want) {
			t.Errorf("Read(%s) error = %v, want ErrUntrusted saying %q", filepath.Base(path), err, want)
		}
	}
}

func TestFileStoreAbsent(t *testing.T) {
	for _, path := range []string{
		filepath.Join(t.TempDir(), "policy.json"),
		filepath.Join(t.TempDir(), "no", "such", "dir", "policy.json"),
	} {
		s, err := (&policy.FileStore{Path: path, Owner: ownedBy(0)}).Read(t.Context())
		if s != nil || err != nil {
			t.Errorf("Read(absent) = %v, %v; want nil, nil", s, err)
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
			path := filepath.Join(t.TempDir(), "policy.json")
			writePolicy(t, path, tt.content, 0o644)
			_, err := (&policy.FileStore{Path: path, Owner: ownedBy(0), MaxBytes: tt.maxBytes}).Read(t.Context())
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
	if _, err := (&policy.FileStore{Path: at, Owner: ownedBy(0)}).Read(t.Context()); err != nil {
		t.Errorf("file of exactly the cap: %v", err)
	}
	over := filepath.Join(dir, "over.json")
	writePolicy(t, over, body(policy.DefaultMaxFileBytes+1), 0o644)
	if _, err := (&policy.FileStore{Path: over, Owner: ownedBy(0)}).Read(t.Context()); !errors.Is(err, policy.ErrInvalid) {
		t.Errorf("file over the cap: err = %v, want ErrInvalid", err)
	}
}

func TestFileStoreDecode(t *testing.T) {
	needUnixTrust(t)
	path := filepath.Join(t.TempDir(), "io.scispot.mcp.plist")
	writePolicy(t, path, readTestdata(t, "policy.xml.plist"), 0o644)
	st := &policy.FileStore{Path: path, Owner: ownedBy(0), Decode: policy.DecodePlist}
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
	path := filepath.Join(t.TempDir(), "policy.json")
	writePolicy(t, path, `{}`, 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := (&policy.FileStore{Path: path, Owner: ownedBy(0)}).Read(ctx); err == nil {
		t.Error("Read with a canceled context succeeded")
	}
}

// TestFileStoreRealOwner reads a file with the operating system's owner
// check: as a normal user the file is untrusted (owned by our uid), as root
// it is trusted.
func TestFileStoreRealOwner(t *testing.T) {
	needUnixTrust(t)
	path := filepath.Join(t.TempDir(), "policy.json")
	writePolicy(t, path, `{}`, 0o644)
	_, err := policy.NewFileStore(path).Read(t.Context())
	if os.Getuid() == 0 {
		if err != nil {
			t.Errorf("as root: %v", err)
		}
		return
	}
	if !errors.Is(err, policy.ErrUntrusted) {
		t.Errorf("as uid %d: err = %v, want ErrUntrusted", os.Getuid(), err)
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
