// Package codesign names who signed an executable, as the operating system
// reads its code signature, so the service can record the signer of the
// program that launched a relay (the AI client) next to its path.
//
//	macOS    the leaf Authority and the TeamIdentifier of the signature,
//	         from /usr/bin/codesign -dv ("Developer ID Application: Anthropic
//	         PBC (Q6L2SF6YDW)"); "ad-hoc" for a signature with no identity
//	Windows  the subject's common name of the Authenticode signer ("Anthropic,
//	         PBC"), after WinVerifyTrust; suffixed " (signature not valid)"
//	         when the signature does not verify
//	Linux    always "": Linux executables are not code-signed
//
// An executable with no signature has the signer "" and no error; an error
// means the signature could not be read at all.
//
// What it reports is attribution for the audit trail, not proof of
// identity: on macOS codesign -d displays the signature without verifying
// the code against it, Windows checks revocation only from what is cached
// and reads only embedded signatures (a program signed through a catalog,
// as many of Windows' own are, reads as unsigned), and the file at a path
// may have changed since the process was started from it.
package codesign

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Timeout bounds how long Signer spends on one executable when ctx has no
// earlier deadline: the signer is recorded as a session starts.
const Timeout = 2 * time.Second

// AdHoc is the signer of a macOS executable signed without an identity
// (every arm64 binary is at least ad-hoc signed by its linker).
const AdHoc = "ad-hoc"

// invalidSuffix marks a Windows signer whose signature did not verify.
const invalidSuffix = " (signature not valid)"

// Signer returns who signed the executable at path, which must be absolute:
// "" when it is not signed (and always on Linux). It gives up with an error
// after Timeout or when ctx ends, whichever comes first.
func Signer(ctx context.Context, path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("reading the code signature of %q: not an absolute path", path)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	s, err := signer(ctx, path)
	if err != nil {
		return "", fmt.Errorf("reading the code signature of %s: %w", path, err)
	}
	return s, nil
}

// sig is what a signature says about its signer.
type sig struct {
	unsigned bool   // no signature at all
	adhoc    bool   // macOS: signed without an identity
	name     string // macOS leaf Authority, Windows subject common name
	team     string // macOS TeamIdentifier, "" when not set
	invalid  bool   // Windows: the signature did not verify
}

// String is the signer as recorded: the name, with the macOS Team ID in
// parentheses when the name does not already end with it.
func (s sig) String() string {
	switch {
	case s.unsigned:
		return ""
	case s.adhoc:
		return AdHoc
	}
	out := s.name
	if s.team != "" && !strings.HasSuffix(out, "("+s.team+")") {
		if out == "" {
			out = s.team
		} else {
			out += " (" + s.team + ")"
		}
	}
	if s.invalid && out != "" {
		out += invalidSuffix
	}
	return out
}

// maxCached bounds a Cache; past it the cache starts again empty.
const maxCached = 64

// Cache remembers the signers of executables by path, size and modification
// time, because the same AI client starts session after session and reading
// a signature means running codesign or hashing the file. A file replaced
// by another of the same size and time keeps its cached signer, which is
// one more reason the signer is attribution and not proof. The zero value
// is not usable; use NewCache. A Cache is safe for concurrent use.
type Cache struct {
	lookup func(ctx context.Context, path string) (string, error)

	mu sync.Mutex
	m  map[cacheKey]string
}

type cacheKey struct {
	path  string
	size  int64
	mtime int64 // UnixNano
}

// NewCache returns an empty cache in front of lookup (nil means Signer).
func NewCache(lookup func(ctx context.Context, path string) (string, error)) *Cache {
	if lookup == nil {
		lookup = Signer
	}
	return &Cache{lookup: lookup, m: map[cacheKey]string{}}
}

// Signer is lookup's answer for path, from the cache when the file's size
// and modification time are those it had when it was last looked up.
// Errors are not cached, and neither is an answer for a file that changed
// while it was being looked up.
func (c *Cache) Signer(ctx context.Context, path string) (string, error) {
	k, ok := keyOf(path)
	if !ok {
		return c.lookup(ctx, path)
	}
	c.mu.Lock()
	s, hit := c.m[k]
	c.mu.Unlock()
	if hit {
		return s, nil
	}
	s, err := c.lookup(ctx, path)
	if err != nil {
		return "", err
	}
	if after, ok := keyOf(path); ok && after == k {
		c.mu.Lock()
		if len(c.m) >= maxCached {
			clear(c.m)
		}
		c.m[k] = s
		c.mu.Unlock()
	}
	return s, nil
}

func keyOf(path string) (cacheKey, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return cacheKey{}, false
	}
	return cacheKey{path: path, size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}
