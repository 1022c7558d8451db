package cli

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestReadKeysTakesADuplicateOnce: a key pasted twice into --keys still
// verifies that device's checkpoints (a duplicate made the list ambiguous).
func TestReadKeysTakesADuplicateOnce(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "scispot-mcpd/abc")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: "checkpoint\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(path, []byte("# lab keys\n"+vkey+"\n\n"+vkey+"\n"), 0o600)
	keys, err := readKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, keys); err != nil {
		t.Fatalf("a checkpoint of a key listed twice: %v", err)
	}
	os.WriteFile(path, []byte("not a key\n"), 0o600)
	if _, err := readKeys(path); err == nil || !strings.Contains(err.Error(), "line 1 is not a verifier key") {
		t.Fatalf("a malformed line: %v", err)
	}
}
