// Package seal keeps the user's Scispot token useless to everything but
// the workstation service.
//
// The token lives in the user's own keychain, where every process of that
// user can read it (Secret Service and Credential Manager hand any item to
// any process of the account). So what is stored there is the token
// encrypted with this device's service key, which only scispot-mcpd can
// read, and bound to the OS account it was sealed for:
//
//	token set:  CLI ──token──▶ service: Seal(owner, token) ──sealed──▶ CLI ──▶ keychain
//	serve:      relay ◀──sealed── keychain; relay ──sealed──▶ service: Open(owner, sealed) ──▶ Bearer header
//
// A sealed token copied to another account, another machine or another
// installation of the service does not open. The owner is what the kernel
// says about the caller (peer credentials), never what the caller says.
//
// The wire form is text, so it fits any keychain:
//
//	scispot-sealed:v1:<key id, 16 hex>:<base64url(nonce ‖ AES-256-GCM ciphertext)>
//
// The additional data binds the purpose, the key id and the owner; none of
// these formats may ever change for v1 (sealed tokens in keychains depend on
// them).
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/keyfile"
)

// Prefix starts every sealed token.
const Prefix = "scispot-sealed:v1:"

// keyBytes is the size of the service key (AES-256).
const keyBytes = 32

// Sentinel errors; test with errors.Is.
var (
	// ErrNotSealed: the value is not a sealed token (for example a token
	// stored before sealing existed).
	ErrNotSealed = errors.New("not a sealed token")
	// ErrOtherKey: sealed by another service key (another machine, or the
	// service was reinstalled).
	ErrOtherKey = errors.New("sealed for another installation of the Scispot MCP service")
	// ErrOpen: the sealed token is damaged, or was sealed for another
	// account.
	ErrOpen = errors.New("the sealed token does not open for this account")
)

// Key is this device's service key.
type Key struct {
	id   string // 16 hex: the first 8 bytes of SHA-256 over the key
	aead cipher.AEAD
}

// NewKey uses raw key bytes (tests; LoadOrCreate for the service).
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != keyBytes {
		return nil, fmt.Errorf("a service key has %d bytes, not %d", keyBytes, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &Key{id: hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// LoadOrCreate reads the service key at path, creating it (mode 0600, in a
// folder the caller has made private) on first use. A key file that others
// can read or write is refused: anyone who reads it can open every sealed
// token on this device.
func LoadOrCreate(path string) (*Key, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw = make([]byte, keyBytes)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("making the service key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the folder of the service key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the service key %s: %w", path, err)
		}
		_, werr := f.Write(raw)
		serr := f.Sync()
		if cerr := f.Close(); werr == nil && serr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = serr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing the service key %s: %w", path, werr)
		}
		return NewKey(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the service key: %w", err)
	}
	if err := keyfile.CheckPrivate(path, "the service key"); err != nil {
		return nil, err
	}
	return NewKey(raw)
}

// ID names the key in sealed tokens and status output.
func (k *Key) ID() string { return k.id }

func (k *Key) aad(owner string) []byte {
	return []byte("io.scispot.mcp api-token\x00" + Prefix + k.id + "\x00" + owner)
}

// Seal encrypts token for owner (for example "uid:1000").
func (k *Key) Seal(owner, token string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing the token: %w", err)
	}
	ct := k.aead.Seal(nonce, nonce, []byte(token), k.aad(owner))
	return Prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(ct), nil
}

// Open decrypts a sealed token for owner. Its errors never carry any part
// of the value.
func (k *Key) Open(owner, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(sealed), Prefix)
	if !ok {
		return "", ErrNotSealed
	}
	id, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrOpen
	}
	if id != k.id {
		return "", ErrOtherKey
	}
	ct, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(ct) < k.aead.NonceSize()+k.aead.Overhead() {
		return "", ErrOpen
	}
	ns := k.aead.NonceSize()
	pt, err := k.aead.Open(nil, ct[:ns], ct[ns:], k.aad(owner))
	if err != nil {
		return "", ErrOpen
	}
	if bytes.ContainsAny(pt, "\x00\r\n") {
		return "", ErrOpen
	}
	return string(pt), nil
}

// IsSealed reports whether s has the sealed form (it may still not open).
func IsSealed(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), Prefix) }
