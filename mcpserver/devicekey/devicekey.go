// Package devicekey is the workstation's checkpoint signing key: an
// Ed25519 key the service creates in its state folder the first time it
// starts (or when an installer runs `scispot-mcpd --print-device-key`),
// readable by the service alone. It signs the trail checkpoints (package
// audit, checkpoint.go); an admin registers its public half, the verifier
// key, to check them centrally (`scispot-mcp audit fleet-verify --keys`).
//
// A key file that exists but cannot be read or parsed is an error, never
// a reason to make a new key: the admin registered the old key, and every
// checkpoint signed by a silently made new one would fail their check as
// an unknown key, which is exactly what a swapped key looks like. The
// service says so in its log and status and writes no checkpoints until
// someone restores the file, or removes it so that a new key is made (and
// registers the new key).
package devicekey

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/keyfile"
)

// FileName is the key file's name in the service's keys folder.
const FileName = "device.key"

// Path is where a service keeps its device key, given its state folder.
func Path(stateDir string) string { return filepath.Join(stateDir, "keys", FileName) }

// maxKeyFile bounds what is read: a key text is about 150 bytes.
const maxKeyFile = 4096

// Key is a loaded device key.
type Key struct {
	signer   note.Signer
	verifier note.Verifier
	vkey     string
}

// Signer signs checkpoint notes.
func (k *Key) Signer() note.Signer { return k.signer }

// VerifierKey is the public key text an admin registers
// ("scispot-mcpd/<device>+<hash>+<base64>").
func (k *Key) VerifierKey() string { return k.vkey }

// Verifiers checks checkpoints signed by this key.
func (k *Key) Verifiers() note.Verifiers { return note.VerifierList(k.verifier) }

// ErrBadKey is a key file that exists but is not a device key.
var ErrBadKey = errors.New("not a device signing key")

// LoadOrCreate loads the key at path, or creates it (0600, in a 0700
// folder) when no file is there, named for device.
func LoadOrCreate(path, device string) (*Key, error) {
	k, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	skey, _, err := note.GenerateKey(rand.Reader, audit.SignerName(device))
	if err != nil {
		return nil, fmt.Errorf("making the device signing key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the folder of the device signing key: %w", err)
	}
	// O_EXCL: two starts racing never leave two keys, and an existing
	// file is never overwritten.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load(path)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the device signing key %s: %w", path, err)
	}
	_, werr := f.WriteString(skey + "\n")
	serr := f.Sync()
	if cerr := f.Close(); werr == nil && serr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = serr
	}
	if werr != nil {
		os.Remove(path)
		return nil, fmt.Errorf("writing the device signing key %s: %w", path, werr)
	}
	return parse(skey, path)
}

// Load loads the key at path; a missing file is an error wrapping
// fs.ErrNotExist.
func Load(path string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the device signing key: %w", err)
	}
	defer f.Close()
	if err := keyfile.CheckPrivate(path, "the device signing key"); err != nil {
		return nil, err
	}
	buf := make([]byte, maxKeyFile+1)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return nil, fmt.Errorf("reading the device signing key %s: %w", path, err)
	}
	if n > maxKeyFile {
		return nil, fmt.Errorf("the device signing key %s: %w (too long)", path, ErrBadKey)
	}
	return parse(strings.TrimSpace(string(buf[:n])), path)
}

func parse(skey, path string) (*Key, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		// The note error would not name the file; the key text itself
		// must never be printed.
		return nil, fmt.Errorf("the device signing key %s: %w", path, ErrBadKey)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, fmt.Errorf("the device signing key %s: %w", path, ErrBadKey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("the device signing key %s: %w", path, ErrBadKey)
	}
	return &Key{signer: signer, verifier: v, vkey: vkey}, nil
}

// verifierKey derives the public key text from a signer key text,
// "PRIVATE+KEY+<name>+<hash>+<base64 of 0x01 and the Ed25519 seed>" (the
// format note.GenerateKey writes; NewSigner has already accepted it).
func verifierKey(skey string) (string, error) {
	// The base64 at the end may itself hold '+'; the name and hash before
	// it cannot.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", ErrBadKey
	}
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", ErrBadKey
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(parts[2], pub)
}
