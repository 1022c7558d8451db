package devicekey

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

const device = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestLoadOrCreate(t *testing.T) {
	path := Path(t.TempDir())
	k, err := LoadOrCreate(path, device)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.VerifierKey(), "scispot-mcpd/"+device+"+") {
		t.Fatalf("verifier key %q", k.VerifierKey())
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v", fi.Mode().Perm())
		}
	}
	again, err := LoadOrCreate(path, "another-device")
	if err != nil || again.VerifierKey() != k.VerifierKey() {
		t.Fatalf("reloaded key %q, %v; want the same key %q", again.VerifierKey(), err, k.VerifierKey())
	}
	msg, err := note.Sign(&note.Note{Text: "hello\n"}, k.Signer())
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(again.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		t.Fatalf("a note signed by the key does not verify with its verifier key: %v", err)
	}
}

// A key file that cannot be used is an error, and the file is left as it
// is: a new key would make every later checkpoint fail the admin's check.
func TestBadKeyFileIsKept(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{"garbage", "not a key\n", 0o600},
		{"empty", "", 0o600},
		{"public key", "scispot-mcpd/x+12345678+AQ==\n", 0o600},
		{"readable by others", "", 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mode&0o077 != 0 && runtime.GOOS == "windows" {
				t.Skip("ACLs, not modes, protect it on Windows")
			}
			path := Path(t.TempDir())
			os.MkdirAll(filepath.Dir(path), 0o700)
			content := tc.content
			if tc.name == "readable by others" {
				k, err := LoadOrCreate(path, device)
				if err != nil {
					t.Fatal(err)
				}
				_ = k
				os.Chmod(path, tc.mode)
				b, _ := os.ReadFile(path)
				content = string(b)
			} else if err := os.WriteFile(path, []byte(content), tc.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(path, device)
			if err == nil {
				t.Fatal("a bad key file was accepted")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if tc.content != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.content)) {
				t.Errorf("error %q repeats the file's content", err)
			}
			b, _ := os.ReadFile(path)
			if string(b) != content {
				t.Fatalf("the bad key file was replaced")
			}
			if tc.name == "garbage" && !errors.Is(err, ErrBadKey) {
				t.Errorf("error %v is not ErrBadKey", err)
			}
		})
	}
}

// Every key made reads back: a base64 key holding '+' once did not.
func TestEveryNewKeyLoads(t *testing.T) {
	dir := t.TempDir()
	for i := range 200 {
		path := filepath.Join(dir, strconv.Itoa(i), FileName)
		k, err := LoadOrCreate(path, device)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		again, err := Load(path)
		if err != nil || again.VerifierKey() != k.VerifierKey() {
			t.Fatalf("key %d reloaded: %v", i, err)
		}
	}
}
