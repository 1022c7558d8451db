// Package apitoken is what the CLI ("scispot-mcp token …") and the tray's
// token window share about the user's Scispot API token: checking it with
// Scispot, storing and removing it in the keychain, remembering when it was
// set (by fingerprint, in <state>/token.json) and recording the change in
// the audit trail.
//
//	ch := apitoken.Changer{Keychain: kc, StateDir: state, Session: info}
//	v, err := apitoken.Verify(ctx, snap.Policy.UpstreamURL, token, nil)
//	…
//	info, err := ch.Set(ctx, token) // keychain, token.json, token.set record
//
// The token itself never reaches a file, a record, a log line or an error:
// only its keychain.Fingerprint does.
package apitoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// InfoFileName is the file in the state folder that remembers when the
// token was set. It holds a fingerprint and a time, never the token.
const InfoFileName = "token.json"

// ErrNotRecorded matches the error Set and Remove return when the keychain
// changed but the audit record could not be written: the change stands,
// and the person must be told the trail lacks it.
var ErrNotRecorded = errors.New("token change not recorded in the audit trail")

// Info is what token.json holds.
type Info struct {
	// Fingerprint is keychain.Fingerprint of the stored token.
	Fingerprint string `json:"fingerprint"`
	// SetAt is when it was stored.
	SetAt time.Time `json:"set_at"`
}

// InfoFile returns the path of token.json in the state folder.
func InfoFile(state string) string { return filepath.Join(state, InfoFileName) }

// maxInfoBytes bounds what ReadInfo reads; the real file is ~100 bytes.
const maxInfoBytes = 4096

// ReadInfo returns what token.json says. A missing file is the zero Info
// and no error; a damaged one is an error (the token itself is unaffected).
func ReadInfo(state string) (Info, error) {
	b, err := os.ReadFile(InfoFile(state))
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, nil
	}
	if err != nil {
		return Info{}, fmt.Errorf("reading when the token was set: %w", err)
	}
	return ParseInfo(b)
}

// ParseInfo decodes the content of token.json.
func ParseInfo(b []byte) (Info, error) {
	if len(b) > maxInfoBytes {
		return Info{}, fmt.Errorf("reading when the token was set: %s is larger than %d bytes", InfoFileName, maxInfoBytes)
	}
	var in Info
	if err := json.Unmarshal(b, &in); err != nil {
		return Info{}, fmt.Errorf("reading when the token was set: %s is damaged: %w", InfoFileName, err)
	}
	if !validFingerprint(in.Fingerprint) {
		return Info{}, fmt.Errorf("reading when the token was set: %s has no valid fingerprint", InfoFileName)
	}
	return in, nil
}

func validFingerprint(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// WriteInfo replaces token.json atomically, readable only by its owner.
func WriteInfo(state string, in Info) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("recording when the token was set: %w", err)
	}
	if err := writeAtomic(InfoFile(state), append(b, '\n')); err != nil {
		return fmt.Errorf("recording when the token was set: %w", err)
	}
	return nil
}

// RemoveInfo deletes token.json; a missing file is fine.
func RemoveInfo(state string) error {
	if err := os.Remove(InfoFile(state)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forgetting when the token was set: %w", err)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this finds nothing
	if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Verification is Scispot's answer to a token check.
type Verification struct {
	URL     string        // the upstream asked
	Tools   int           // tools it published to this token
	Latency time.Duration // how long the check took, connecting included
}

// DefaultVerifyTimeout bounds Verify when opts sets no Timeout.
const DefaultVerifyTimeout = 20 * time.Second

// Verify proves that Scispot at upstreamURL accepts token by listing its
// tools (which touches no lab data). Its errors are upstream's plain
// sentences (an *upstream.Error for a refused token: KindOf gives
// upstream.Unauthorized) and never contain the token.
func Verify(ctx context.Context, upstreamURL, token string, opts *upstream.Options) (Verification, error) {
	v := Verification{URL: upstreamURL}
	var o upstream.Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultVerifyTimeout
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	up, err := upstream.NewHTTP(upstreamURL, token, &o)
	if err != nil {
		return v, fmt.Errorf("checking the token with Scispot: %w", err)
	}
	defer up.Close()
	start := now()
	tools, err := up.ListTools(ctx)
	v.Latency = now().Sub(start)
	if err != nil {
		return v, err
	}
	v.Tools = len(tools)
	return v, nil
}

// Changer stores and removes the token and leaves the trace of it: the
// set-at file and a one-record audit session.
type Changer struct {
	Keychain keychain.Store
	// StateDir is the state folder (token.json and audit/ inside it).
	StateDir string
	// Session stamps the audit record: user, device, client, transport.
	Session audit.SessionInfo
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Changer) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Set stores token (already cleaned with keychain.CleanToken) in the
// keychain, notes its fingerprint and the time in token.json and records
// token.set. Once the keychain holds the token, later failures are
// reported but do not undo it; a failed record matches ErrNotRecorded.
func (c Changer) Set(ctx context.Context, token string) (Info, error) {
	if err := c.Keychain.Set(ctx, keychain.AccountToken, token); err != nil {
		return Info{}, fmt.Errorf("storing the token in the keychain: %w", err)
	}
	in := Info{Fingerprint: keychain.Fingerprint(token), SetAt: c.now().UTC()}
	var errs []error
	if c.StateDir != "" {
		if err := WriteInfo(c.StateDir, in); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.record(ctx, audit.Record{Event: audit.EventTokenSet, Outcome: audit.OutcomeOK, Token: in.Fingerprint}))
	return in, errors.Join(errs...)
}

// Remove deletes the token from the keychain, forgets token.json and
// records token.remove. It returns the removed token's fingerprint ("" if
// it could not be read first) and an error matching keychain.ErrNotFound
// when no token was stored.
func (c Changer) Remove(ctx context.Context) (string, error) {
	fp := ""
	if old, err := c.Keychain.Get(ctx, keychain.AccountToken); err == nil {
		fp = keychain.Fingerprint(old)
	}
	if err := c.Keychain.Delete(ctx, keychain.AccountToken); err != nil {
		if errors.Is(err, keychain.ErrNotFound) && c.StateDir != "" {
			_ = RemoveInfo(c.StateDir) // stale: the keychain was emptied elsewhere
		}
		return fp, fmt.Errorf("removing the token from the keychain: %w", err)
	}
	var errs []error
	if c.StateDir != "" {
		if err := RemoveInfo(c.StateDir); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.record(ctx, audit.Record{Event: audit.EventTokenRemove, Outcome: audit.OutcomeOK, Token: fp}))
	return fp, errors.Join(errs...)
}

// Record writes r as a one-record audit session in <state>/audit. The CLI
// uses it for its own one-shot records (kill, resume) too.
func Record(ctx context.Context, state string, info audit.SessionInfo, r audit.Record) error {
	if _, err := audit.AppendOnce(ctx, statedir.AuditDir(state), info, r); err != nil {
		return fmt.Errorf("recording %s in the audit trail: %w", r.Event, err)
	}
	return nil
}

func (c Changer) record(ctx context.Context, r audit.Record) error {
	if c.StateDir == "" {
		return nil
	}
	if err := Record(ctx, c.StateDir, c.Session, r); err != nil {
		return fmt.Errorf("%w: %w", ErrNotRecorded, err)
	}
	return nil
}
