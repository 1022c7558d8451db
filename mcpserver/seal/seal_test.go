package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB, b byte) *Key {
	k, err := NewKey(bytes.Repeat([]byte{b}, keyBytes))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpen(t *testing.T) {
	k, other := testKey(t, 1), testKey(t, 2)
	const token = "sst_live_0123456789abcdef"
	sealed, err := k.Seal("uid:1000", token)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, token) || !IsSealed(sealed) {
		t.Fatalf("sealed = %q", sealed)
	}
	flip := []byte(sealed)
	flip[len(flip)-3] ^= 1
	cases := []struct {
		name   string
		key    *Key
		owner  string
		sealed string
		want   error
	}{
		{"right account", k, "uid:1000", sealed, nil},
		{"with whitespace from a keychain", k, "uid:1000", " " + sealed + "\n", nil},
		{"another account", k, "uid:1001", sealed, ErrOpen},
		{"another installation", other, "uid:1000", sealed, ErrOtherKey},
		{"one changed byte", k, "uid:1000", string(flip), ErrOpen},
		{"cut short", k, "uid:1000", sealed[:len(Prefix)+20], ErrOpen},
		{"plain token", k, "uid:1000", token, ErrNotSealed},
		{"empty", k, "uid:1000", "", ErrNotSealed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.key.Open(tc.owner, tc.sealed)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open = %q, %v; want %v", got, err, tc.want)
			}
			if err == nil && got != token {
				t.Fatalf("Open = %q", got)
			}
			if err != nil && (got != "" || strings.Contains(err.Error(), token)) {
				t.Fatalf("a failed open leaks: %q %v", got, err)
			}
		})
	}
	again, _ := k.Seal("uid:1000", token)
	if again == sealed {
		t.Fatal("two seals of the same token are equal: the nonce is not random")
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "seal.key")
	a, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	b, err := LoadOrCreate(path)
	if err != nil || b.ID() != a.ID() {
		t.Fatalf("reloaded key %v %v, want id %s", b, err, a.ID())
	}
	sealed, _ := a.Seal("uid:0", "t")
	if got, err := b.Open("uid:0", sealed); err != nil || got != "t" {
		t.Fatalf("the reloaded key does not open: %v", err)
	}
	os.Chmod(path, 0o644)
	if _, err := LoadOrCreate(path); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("a readable key file was accepted: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey(f, 7)
	s, _ := k.Seal("uid:1", "token")
	f.Add(s)
	f.Add(Prefix + k.ID() + ":")
	f.Add(Prefix + "x")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := k.Open("uid:1", in)
		if err == nil && got == "" {
			t.Fatal("opened to nothing")
		}
	})
}
