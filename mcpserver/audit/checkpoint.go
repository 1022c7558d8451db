package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Signed checkpoints.
//
// The hash chain shows an edit inside a trail, but not a trail cut short
// or rewritten whole by someone who can recompute its hashes (root on the
// workstation). So the service signs, with the device's own key, what a
// trail held at a moment — its length and last hash — and writes that
// statement into the trail itself, as a "checkpoint" record that the log
// pipeline carries off the machine with the rest:
//
//	{"event":"checkpoint", …, "checkpoint":{"trail":"2026…Z-3f9a…", "count":41, "last_seq":41,
//	   "last_hash":"9c…", "key":"scispot-mcpd/<device>+1a2b3c4d", "note":"scispot-mcp checkpoint v1\n…"}, "prev":"9c…", "hash":…}
//
// The note is a C2SP signed note (golang.org/x/mod/sumdb/note): its text
// repeats the statement line by line, so a verifier never has to trust the
// JSON beside it:
//
//	scispot-mcp checkpoint v1
//	device <device>
//	trail <trail id>
//	count <n>
//	last_seq <n>
//	last_hash <hex>
//	time <RFC 3339>
//
//	— scispot-mcpd/<device> <base64 signature>
//
// A copy of the trail that ends before a checkpoint the collector received,
// or differs from it up to that point, no longer matches it.

// CheckpointHeader is the first line of a checkpoint note's text.
const CheckpointHeader = "scispot-mcp checkpoint v1"

// maxNoteBytes bounds a checkpoint note: a few lines and one signature.
const maxNoteBytes = 4096

// Checkpoint is the checkpoint member of a checkpoint record.
type Checkpoint struct {
	// Trail is the trail's id: its file's name without ".jsonl".
	Trail string `json:"trail"`
	// Count is the number of records in the trail before this one.
	Count int64 `json:"count"`
	// LastSeq and LastHash are the seq and hash of the record before.
	LastSeq  int64  `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// Key names the signing key as a verifier key does: name+hash.
	Key string `json:"key"`
	// Note is the whole signed note.
	Note string `json:"note"`
}

// CheckpointNote is the statement a checkpoint note's text makes.
type CheckpointNote struct {
	Device   string
	Trail    string
	Count    int64
	LastSeq  int64
	LastHash string
	Time     time.Time
}

// Text is the note text of n (what is signed), ending in a newline.
func (n CheckpointNote) Text() string {
	var b strings.Builder
	b.WriteString(CheckpointHeader)
	b.WriteString("\ndevice ")
	b.WriteString(n.Device)
	b.WriteString("\ntrail ")
	b.WriteString(n.Trail)
	b.WriteString("\ncount ")
	b.WriteString(strconv.FormatInt(n.Count, 10))
	b.WriteString("\nlast_seq ")
	b.WriteString(strconv.FormatInt(n.LastSeq, 10))
	b.WriteString("\nlast_hash ")
	b.WriteString(n.LastHash)
	b.WriteString("\ntime ")
	b.WriteString(n.Time.UTC().Format(time.RFC3339Nano))
	b.WriteString("\n")
	return b.String()
}

// SignerName is the name of a device's checkpoint key. Note names may not
// contain spaces or '+', and device ids are hex.
func SignerName(device string) string {
	if device == "" {
		device = "unknown"
	}
	return "scispot-mcpd/" + device
}

// KeyName is how a checkpoint names the key that signed it: the key's name
// and hash as a verifier key text starts.
func KeyName(name string, hash uint32) string {
	return fmt.Sprintf("%s+%08x", name, hash)
}

// ErrBadCheckpointNote is a checkpoint note that cannot be read.
var ErrBadCheckpointNote = errors.New("malformed checkpoint note")

// ParseCheckpointNote reads the statement of a signed checkpoint note
// without checking its signature (see [Checkpoint.Check]).
func ParseCheckpointNote(msg string) (CheckpointNote, error) {
	var n CheckpointNote
	if len(msg) > maxNoteBytes {
		return n, fmt.Errorf("%w: longer than %d bytes", ErrBadCheckpointNote, maxNoteBytes)
	}
	text, _, ok := strings.Cut(msg, "\n\n")
	if !ok {
		return n, fmt.Errorf("%w: no signature block", ErrBadCheckpointNote)
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 7 || lines[0] != CheckpointHeader {
		return n, fmt.Errorf("%w: expected %q and six lines", ErrBadCheckpointNote, CheckpointHeader)
	}
	val := func(i int, key string) (string, error) {
		v, ok := strings.CutPrefix(lines[i], key+" ")
		if !ok || v == "" || strings.ContainsAny(v, " \t\r") {
			return "", fmt.Errorf("%w: line %d is not %q followed by one value", ErrBadCheckpointNote, i+1, key)
		}
		return v, nil
	}
	num := func(i int, key string) (int64, error) {
		v, err := val(i, key)
		if err != nil {
			return 0, err
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil || x < 0 || strconv.FormatInt(x, 10) != v {
			return 0, fmt.Errorf("%w: %s %q is not a count", ErrBadCheckpointNote, key, v)
		}
		return x, nil
	}
	var err error
	if n.Device, err = val(1, "device"); err != nil {
		return n, err
	}
	if n.Trail, err = val(2, "trail"); err != nil {
		return n, err
	}
	if n.Count, err = num(3, "count"); err != nil {
		return n, err
	}
	if n.LastSeq, err = num(4, "last_seq"); err != nil {
		return n, err
	}
	if n.LastHash, err = val(5, "last_hash"); err != nil {
		return n, err
	}
	t, err := val(6, "time")
	if err != nil {
		return n, err
	}
	if n.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
		return n, fmt.Errorf("%w: time %q is not RFC 3339", ErrBadCheckpointNote, t)
	}
	return n, nil
}

// Check checks a checkpoint record's own consistency: its note reads, says
// what the record's checkpoint member says, is about the record's device
// and time, and — when keys is not nil — carries a valid signature by the
// device's key among keys. It does not compare the checkpoint with the
// trail before it; the caller, who has the trail, does.
//
// The problem is ProblemCheckpoint for a checkpoint that contradicts
// itself or has a bad signature, ProblemCheckpointKey for a signature by a
// key not in keys (or by another device's key).
func (c *Checkpoint) Check(device string, at time.Time, keys note.Verifiers) (CheckpointNote, Problem, string) {
	n, err := ParseCheckpointNote(c.Note)
	if err != nil {
		return n, ProblemCheckpoint, err.Error()
	}
	switch {
	case n.Device != device:
		return n, ProblemCheckpoint, "the note is about device " + strconv.Quote(n.Device) + ", not this record's " + strconv.Quote(device)
	case n.Trail != c.Trail || n.Count != c.Count || n.LastSeq != c.LastSeq || n.LastHash != c.LastHash:
		return n, ProblemCheckpoint, "the signed note and the checkpoint beside it differ"
	case !n.Time.Equal(at):
		return n, ProblemCheckpoint, "the note's time is not the record's time"
	}
	if keys == nil {
		return n, "", ""
	}
	opened, err := note.Open([]byte(c.Note), keys)
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return n, ProblemCheckpointKey, "signed by " + strconv.Quote(c.Key) + ", a key not among the known device keys"
	case errors.As(err, &invalid):
		return n, ProblemCheckpoint, "the signature by " + strconv.Quote(KeyName(invalid.Name, invalid.Hash)) + " does not verify: the note was changed after it was signed"
	case err != nil:
		return n, ProblemCheckpoint, "the signed note cannot be read: " + err.Error()
	}
	want := SignerName(device)
	for _, s := range opened.Sigs {
		if s.Name == want {
			return n, "", ""
		}
	}
	return n, ProblemCheckpointKey, "signed by " + strconv.Quote(opened.Sigs[0].Name) + ", which is not this device's key (" + want + ")"
}

func appendCheckpoint(b []byte, c *Checkpoint) []byte {
	b = append(b, `{"trail":`...)
	b = appendString(b, c.Trail)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, c.Count, 10)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendInt(b, c.LastSeq, 10)
	b = append(b, `,"last_hash":`...)
	b = appendString(b, c.LastHash)
	b = append(b, `,"key":`...)
	b = appendString(b, c.Key)
	b = append(b, `,"note":`...)
	b = appendString(b, c.Note)
	return append(b, '}')
}

// TrailID is the trail id of an audit file: its name without ".jsonl".
func TrailID(path string) string {
	i := strings.LastIndexAny(path, `/\`)
	return strings.TrimSuffix(path[i+1:], FileExt)
}
