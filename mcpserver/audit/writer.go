package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// File and folder permissions: the trail is the user's own, unreadable to
// other accounts on the workstation.
const (
	dirPerm  fs.FileMode = 0o700
	filePerm fs.FileMode = 0o600
)

// FileExt is the extension of audit files; other files in the folder are
// ignored.
const FileExt = ".jsonl"

// Size caps for text fields, so one record stays a bounded line. A cut
// value ends with cutMarker.
const (
	maxReasonBytes = 4096
	maxFieldBytes  = 1024
	maxFlags       = 32
	cutMarker      = "…[cut]"
)

// file is what the Writer needs from an open file; tests substitute one to
// see fsync and write failures.
type file interface {
	Write(p []byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Option configures Open and AppendOnce.
type Option func(*options) error

type options struct {
	now      func() time.Time
	secrets  []string
	openFile func(path string) (file, error)
}

// WithClock sets the clock stamped on records (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		o.now = now
		return nil
	}
}

// WithSecrets names values that must never be written: the stored API
// token, the local HTTP secret. Words shaped like a Scispot token are never
// written either, with or without this option (see package redact). An
// argument value or a short field containing one is replaced by
// "[redacted]"; in the free-text reason only the secret itself is. Empty
// secrets are rejected,
// because they would match everything.
func WithSecrets(secrets ...string) Option {
	return func(o *options) error {
		for _, s := range secrets {
			if s == "" {
				return fmt.Errorf("%w: empty secret", ErrInvalidOption)
			}
		}
		o.secrets = append(o.secrets, secrets...)
		return nil
	}
}

func buildOptions(opts []Option) (options, error) {
	o := options{
		now: time.Now,
		openFile: func(path string) (file, error) {
			// O_EXCL: a file belongs to exactly one Writer, so concurrent
			// processes can never interleave records.
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, filePerm)
		},
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// Writer appends records to one session file. It is safe for concurrent
// use; records are numbered in the order Append takes its lock.
type Writer struct {
	path    string
	info    SessionInfo
	now     func() time.Time
	secrets redact.Redactor

	mu     sync.Mutex
	f      file
	seq    int64  // seq of the last record written
	prev   string // hash of the last record written
	size   int64  // bytes known good in the file
	buf    []byte // reused line buffer
	closed bool
	failed error // sticky; set when the file's end is uncertain
	// dirty: a record was written since the last checkpoint.
	dirty bool
}

// Open creates a new session file in dir (created 0700 if missing) and
// returns a Writer for it. The file name is the UTC open time and the
// session id, e.g. 20261124T101500.123Z-3f9a0c1d2e4b5a69.jsonl, so names
// sort by time and never collide.
func Open(dir string, info SessionInfo, opts ...Option) (*Writer, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if info.Session == "" {
		info.Session = newSessionID()
	} else if !validSessionID(info.Session) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSession, info.Session)
	}
	if info.PID == 0 {
		info.PID = os.Getpid()
	}
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	name := o.now().UTC().Format("20060102T150405.000") + "Z-" + info.Session + FileExt
	path := filepath.Join(dir, name)
	f, err := o.openFile(path)
	if err != nil {
		return nil, fmt.Errorf("creating audit file %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{
		path:    path,
		info:    info,
		now:     o.now,
		secrets: redact.New(o.secrets...),
		f:       f,
	}, nil
}

// AppendOnce writes one record into a session file of its own: the way a
// CLI command (kill, resume, token set, setup, …) leaves its trace.
func AppendOnce(ctx context.Context, dir string, info SessionInfo, r Record, opts ...Option) (Record, error) {
	w, err := Open(dir, info, opts...)
	if err != nil {
		return Record{}, err
	}
	out, err := w.Append(ctx, r)
	if cerr := w.Close(); err == nil && cerr != nil {
		return out, cerr
	}
	return out, err
}

// ensureDir creates the audit folder 0700, and tightens an existing one
// that others could read.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("creating audit folder: %w", err)
	}
	if runtime.GOOS == "windows" {
		return nil // ACLs, not mode bits, protect it there
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking audit folder: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, dirPerm); err != nil {
			return fmt.Errorf("restricting audit folder permissions: %w", err)
		}
	}
	return nil
}

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func validSessionID(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Path is the session file's path.
func (w *Writer) Path() string { return w.path }

// Session is the session id.
func (w *Writer) Session() string { return w.info.Session }

// Append fills in v, seq, time, session, pid, user, device, prev and hash
// (and token, client and transport when r leaves them empty), redacts
// r.Args with RedactArgs, writes the record as one line and fsyncs the file
// before returning the record as written.
//
// ctx is deliberately not used to abandon the write: a call cancelled by the
// kill switch must still be audited.
//
// If the write fails, the file is cut back to its last complete record and
// the error returned; the Writer stays usable. If that is impossible, or an
// fsync fails, every later Append returns ErrWriterFailed.
func (w *Writer) Append(ctx context.Context, r Record) (Record, error) {
	if !r.Event.Known() {
		return Record{}, fmt.Errorf("%w: unknown event %q", ErrInvalidRecord, r.Event)
	}
	if r.Event == EventCheckpoint || r.Checkpoint != nil {
		// Only the Writer states what its trail holds (Checkpoint).
		return Record{}, fmt.Errorf("%w: a checkpoint is written with Checkpoint", ErrInvalidRecord)
	}
	switch r.Outcome {
	case "", OutcomeOK, OutcomeError, OutcomeDenied:
	default:
		return Record{}, fmt.Errorf("%w: unknown outcome %q", ErrInvalidRecord, r.Outcome)
	}
	// Work that needs no lock: redaction can be slow for large arguments.
	r.Args = redactArgs(r.Args, w.secrets)
	if r.Token == "" {
		r.Token = w.info.Token
	}
	if r.Client.IsZero() {
		r.Client = w.info.Client
	}
	if r.Transport == "" {
		r.Transport = w.info.Transport
	}
	r.V = Version
	r.Session = w.info.Session
	r.PID = w.info.PID
	r.User = w.info.User
	r.Device = w.info.Device
	w.cleanFields(&r)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Record{}, ErrClosed
	}
	if w.failed != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrWriterFailed, w.failed)
	}
	r.Seq = w.seq + 1
	r.Prev = w.prev
	// Stamped under the lock so time never goes backwards along seq
	// (unless the clock itself does).
	r.Time = w.now().UTC()
	if err := w.writeLocked(&r); err != nil {
		return Record{}, err
	}
	w.dirty = true
	return r, nil
}

// writeLocked writes r (numbered, linked and stamped) as the next line.
func (w *Writer) writeLocked(r *Record) error {
	line, hash := sealLine(appendCanonical(w.buf[:0], r))
	w.buf = line
	r.Hash = hash
	n, err := w.f.Write(line)
	if err != nil {
		if terr := w.f.Truncate(w.size); terr != nil {
			w.failed = fmt.Errorf("writing audit record: %w; cutting back the torn line: %w", err, terr)
			return fmt.Errorf("%w: %w", ErrWriterFailed, w.failed)
		}
		return fmt.Errorf("writing audit record: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the data; the
		// file's content is no longer known.
		w.failed = fmt.Errorf("syncing audit record: %w", err)
		return fmt.Errorf("%w: %w", ErrWriterFailed, w.failed)
	}
	w.size += int64(n)
	w.seq = r.Seq
	w.prev = hash
	return nil
}

// Checkpoint appends a checkpoint record signed by signer (checkpoint.go)
// when a record was written since the last checkpoint, and reports
// whether it did. The service calls it every minute and after
// session.end, so a trail's last record is its checkpoint.
func (w *Writer) Checkpoint(signer note.Signer) (Record, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Record{}, false, ErrClosed
	}
	if w.failed != nil {
		return Record{}, false, fmt.Errorf("%w: %w", ErrWriterFailed, w.failed)
	}
	if !w.dirty {
		return Record{}, false, nil
	}
	r := Record{
		V: Version, Seq: w.seq + 1, Time: w.now().UTC(), Session: w.info.Session, Event: EventCheckpoint,
		PID: w.info.PID, User: w.info.User, Device: w.info.Device, Token: w.info.Token,
		Client: w.info.Client, Transport: w.info.Transport, Prev: w.prev,
	}
	w.cleanFields(&r)
	stmt := CheckpointNote{Device: r.Device, Trail: TrailID(w.path), Count: w.seq, LastSeq: w.seq, LastHash: w.prev, Time: r.Time}
	msg, err := note.Sign(&note.Note{Text: stmt.Text()}, signer)
	if err != nil {
		return Record{}, false, fmt.Errorf("signing the checkpoint: %w", err)
	}
	r.Checkpoint = &Checkpoint{Trail: stmt.Trail, Count: stmt.Count, LastSeq: stmt.LastSeq, LastHash: stmt.LastHash,
		Key: KeyName(signer.Name(), signer.KeyHash()), Note: string(msg)}
	if err := w.writeLocked(&r); err != nil {
		return Record{}, false, err
	}
	w.dirty = false
	return r, true, nil
}

// cleanFields caps text fields and removes secrets from them, so no record
// carries the token even when a caller put it in the wrong place.
func (w *Writer) cleanFields(r *Record) {
	clean := func(s string, max int) string {
		if w.secrets.Contains(s) {
			return Redacted
		}
		return capString(s, max)
	}
	r.User = clean(r.User, maxFieldBytes)
	r.Device = clean(r.Device, maxFieldBytes)
	r.Token = clean(r.Token, maxFieldBytes)
	r.Client.Name = clean(r.Client.Name, maxFieldBytes)
	r.Client.Version = clean(r.Client.Version, maxFieldBytes)
	r.Transport = Transport(clean(string(r.Transport), maxFieldBytes))
	r.Tool = clean(r.Tool, maxFieldBytes)
	// The reason is a sentence worth keeping: only the secret goes.
	if reason := w.secrets.String(r.Reason); !w.secrets.Contains(reason) {
		r.Reason = capString(reason, maxReasonBytes)
	} else {
		r.Reason = Redacted
	}
	if len(r.Flags) > 0 {
		n := min(len(r.Flags), maxFlags)
		flags := make([]string, 0, n) // never alias the caller's slice
		for _, f := range r.Flags[:n] {
			flags = append(flags, clean(f, maxFieldBytes))
		}
		r.Flags = flags
	}
	if r.Signature != nil {
		sig := *r.Signature // never alias the caller's
		for _, f := range [...]*string{&sig.ID, &sig.Name, &sig.Account, &sig.Meaning, &sig.Method, &sig.Target, &sig.Call, &sig.Record} {
			*f = clean(*f, maxFieldBytes)
		}
		sig.Reason = clean(sig.Reason, maxReasonBytes)
		r.Signature = &sig
	}
	if r.Change != nil {
		c := Change{Before: w.cleanValue(r.Change.Before), After: w.cleanValue(r.Change.After), Error: clean(r.Change.Error, maxReasonBytes)}
		r.Change = &c
	}
}

// cleanValue keeps a recorded value inline only when it is short, one
// JSON value and free of secrets; its digest and size stay either way.
func (w *Writer) cleanValue(v *Value) *Value {
	if v == nil {
		return nil
	}
	out := *v
	if len(out.Value) > MaxValueBytes || !json.Valid(out.Value) || w.secrets.Contains(string(out.Value)) {
		out.Value = nil
	}
	out.SHA256 = capString(out.SHA256, maxFieldBytes)
	return &out
}

// capString cuts s to at most max bytes at a character boundary, marking
// the cut, and makes it valid UTF-8 so it survives a decode/encode round
// trip unchanged.
func capString(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	cut := max - len(cutMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + cutMarker
}

// Close closes the file. It does not write session.end; the session does
// that itself, so a missing session.end means the process died.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("closing audit file: %w", err)
	}
	return nil
}
