// Package confirm lets a serve process ask the person at the workstation to
// approve a write when its AI client cannot ask them itself (no MCP
// elicitation). The tray shows the question; the two meet in a folder of
// small files, <state>/confirm/, so no socket or port is opened:
//
//	serve                                   tray
//	Ask ──> <id>.request.json  ──fsnotify──> Watcher ──> dialog
//	    <── <id>.answer.json   <──────────── Respond(dir, id, approved, by)
//
// Ask waits for the answer (or for its context, which the caller bounds at
// 60 s: no answer means denied) and then removes both files; the tray's
// Watcher sees the request go and closes its dialog. Both files are written
// atomically (temporary file, then rename) and readable only by their owner.
// The folder is inside the per-user state folder, so only the person's own
// processes can answer.
package confirm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DirName is the folder inside the state folder.
const DirName = "confirm"

// Dir returns the confirm folder inside the state folder.
func Dir(state string) string { return filepath.Join(state, DirName) }

// Timeout is how long a request waits for the person. Ask's caller bounds
// its context with it; the tray treats older requests as gone.
const Timeout = 60 * time.Second

const (
	requestSuffix = ".request.json"
	answerSuffix  = ".answer.json"
	maxFileBytes  = 64 << 10
	maxIDLen      = 64
	// maxTextLen bounds each text field, so a dialog stays readable.
	maxTextLen = 2000
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNoAnswer: nobody answered before the context ended. The write is
	// denied.
	ErrNoAnswer = errors.New("no answer from the person at the workstation")
	// ErrNoRequest: Respond found no pending request with that id (it timed
	// out, or another answer came first).
	ErrNoRequest = errors.New("no pending confirmation request")
	// ErrInvalid: a request, an answer or an id is malformed.
	ErrInvalid = errors.New("invalid confirmation file")
)

// Request is one question for the person.
type Request struct {
	// ID names the files: [A-Za-z0-9_-], at most 64 characters. Ask
	// makes a random one when it is empty.
	ID      string `json:"id"`
	Session string `json:"session,omitempty"`
	// ClientName and ClientVersion are the AI client's implementation info.
	ClientName    string `json:"client_name,omitempty"`
	ClientVersion string `json:"client_version,omitempty"`
	Tool          string `json:"tool"`
	// Target says what the write touches ("labsheet Plasmids, row PL-0006").
	Target string `json:"target,omitempty"`
	// Change says what it does ("set Status to Verified").
	Change      string    `json:"change,omitempty"`
	Destructive bool      `json:"destructive,omitempty"`
	Time        time.Time `json:"time"`
	// Current is the value the write would change, as Scispot has it now
	// (shortened), or why it could not be read.
	Current string `json:"current,omitempty"`
	// Meanings the signer chooses from (policy SignatureMeanings);
	// ReasonRequired: the signature must carry a reason for the change.
	Meanings       []string `json:"meanings,omitempty"`
	ReasonRequired bool     `json:"reason_required,omitempty"`
}

// Answer is the person's decision.
type Answer struct {
	ID string `json:"id"`
	// Approved: the person signed the write with Meaning, which may be one
	// that refuses it; false: they denied it without signing.
	Approved bool   `json:"approved"`
	Meaning  string `json:"meaning,omitempty"`
	Reason   string `json:"reason,omitempty"`
	By       string `json:"by,omitempty"` // OS account that answered
	// Name is the account's printed name (its full name).
	Name string `json:"name,omitempty"`
	// Verified: the workstation service checked the account password.
	Verified bool      `json:"verified,omitempty"`
	At       time.Time `json:"at"`
	// TimedOut is set by Ask when nobody answered; never written.
	TimedOut bool `json:"-"`
}

// NewID returns a random request id.
func NewID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// CheckID reports whether id can name request files.
func CheckID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: the id must be 1 to %d characters", ErrInvalid, maxIDLen)
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: the id may hold only letters, digits, '-' and '_'", ErrInvalid)
		}
	}
	return nil
}

func requestPath(dir, id string) string { return filepath.Join(dir, id+requestSuffix) }
func answerPath(dir, id string) string  { return filepath.Join(dir, id+answerSuffix) }

// idOf returns the id and kind of a file name in the folder, or "" for
// anything else (temporary files start with a dot).
func idOf(name string) (id string, request bool) {
	if strings.HasPrefix(name, ".") {
		return "", false
	}
	if s, ok := strings.CutSuffix(name, requestSuffix); ok && CheckID(s) == nil {
		return s, true
	}
	if s, ok := strings.CutSuffix(name, answerSuffix); ok && CheckID(s) == nil {
		return s, false
	}
	return "", false
}

// ParseRequest decodes and checks a request file.
func ParseRequest(b []byte) (Request, error) {
	var r Request
	if err := decode(b, &r); err != nil {
		return Request{}, err
	}
	if err := CheckID(r.ID); err != nil {
		return Request{}, err
	}
	if r.Tool == "" {
		return Request{}, fmt.Errorf("%w: the request names no tool", ErrInvalid)
	}
	if r.Time.IsZero() {
		return Request{}, fmt.Errorf("%w: the request has no time", ErrInvalid)
	}
	for _, s := range append([]string{r.Session, r.ClientName, r.ClientVersion, r.Tool, r.Target, r.Change, r.Current}, r.Meanings...) {
		if len(s) > maxTextLen {
			return Request{}, fmt.Errorf("%w: a field is longer than %d bytes", ErrInvalid, maxTextLen)
		}
	}
	return r, nil
}

// ParseAnswer decodes and checks an answer file.
func ParseAnswer(b []byte) (Answer, error) {
	var a Answer
	if err := decode(b, &a); err != nil {
		return Answer{}, err
	}
	if err := CheckID(a.ID); err != nil {
		return Answer{}, err
	}
	return a, nil
}

func decode(b []byte, v any) error {
	if len(b) > maxFileBytes {
		return fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxFileBytes)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileBytes+1))
}

// writeAtomic writes v as JSON to path through a temporary file whose name
// starts with a dot, so watchers never see a half-written file.
func writeAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the confirmation folder: %w", err)
	}
	return nil
}
