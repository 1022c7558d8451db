//go:build !windows

package keyfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPrivate(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		mode       os.FileMode
		want       string
	}{
		{"private", key, 0o600, ""},
		{"readable by others", key, 0o644, "can be read or written by other accounts"},
		{"group writable", key, 0o620, "it must be 0600"},
		{"a folder", dir, 0o700, "is not a regular file"},
		{"missing", filepath.Join(dir, "none"), 0, "checking the test key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mode != 0 {
				os.Chmod(tt.path, tt.mode)
			}
			err := CheckPrivate(tt.path, "the test key")
			if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckPrivate = %v, want %q", err, tt.want)
			}
		})
	}
}
