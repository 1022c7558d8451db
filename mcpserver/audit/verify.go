package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb/note"
)

// maxLineBytes bounds one line. Writer lines stay far below it (args are
// capped at 4 KiB and text fields at 4 KiB); a longer line is corrupt.
const maxLineBytes = 1 << 20

// Status is the verdict on one file.
type Status string

// Statuses.
const (
	// StatusOK: every line verifies and the session ended normally (or the
	// file is a one-shot CLI record).
	StatusOK Status = "ok"
	// StatusBroken: a line was changed, removed, inserted or reordered. The
	// first break is reported.
	StatusBroken Status = "broken"
	// StatusIncomplete: the chain verifies, but the file ends the way a
	// crash leaves it: a torn last line, or a session without session.end
	// (also the state of a session that is still running). Not tampering.
	StatusIncomplete Status = "incomplete"
	// StatusUnreadable: the file could not be read (permissions, I/O).
	StatusUnreadable Status = "unreadable"
)

// Problem names what is wrong at a line.
type Problem string

// Problems that break a chain.
const (
	ProblemJSON     Problem = "invalid-json"        // the line is not one JSON object
	ProblemTooLong  Problem = "line-too-long"       // longer than any record can be
	ProblemHash     Problem = "hash-mismatch"       // the line's content differs from what was hashed
	ProblemField    Problem = "bad-field"           // v, seq, session or event missing or mistyped
	ProblemVersion  Problem = "unsupported-version" // v is not a version this code verifies
	ProblemSeq      Problem = "seq-gap"             // a record is missing, inserted or out of order
	ProblemPrev     Problem = "prev-mismatch"       // the link to the previous record is wrong
	ProblemSession  Problem = "session-mismatch"    // a record of another session
	ProblemReadFile Problem = "read-error"          // the file could not be read
	// ProblemSignature: a signature record is malformed, or a call record
	// links a signature that is not the one recorded before it.
	ProblemSignature Problem = "signature-link"
	// ProblemCheckpoint: a checkpoint does not match the records before it,
	// contradicts itself, or its signature does not verify.
	ProblemCheckpoint Problem = "checkpoint-mismatch"
)

// Problems that make a file incomplete.
const (
	ProblemTorn  Problem = "torn-line"      // the last line is cut off or lacks its newline
	ProblemNoEnd Problem = "no-session-end" // session.start without session.end
	ProblemEmpty Problem = "empty-file"     // no records at all
	// ProblemSignatureUnused: a signature that no later call record links,
	// as a service that stopped between the two leaves it.
	ProblemSignatureUnused Problem = "signature-unused"
	// ProblemCheckpointKey: a checkpoint signed by a key the verifier does
	// not know (the device key was replaced since), so its signature
	// cannot be checked; the chain itself still verifies.
	ProblemCheckpointKey Problem = "checkpoint-unknown-key"
)

// Incomplete reports whether p is what a crash (not tampering) leaves, or
// what cannot be checked without more (an unknown checkpoint key).
func (p Problem) Incomplete() bool {
	return p == ProblemTorn || p == ProblemNoEnd || p == ProblemEmpty || p == ProblemSignatureUnused || p == ProblemCheckpointKey
}

// VerifyOption configures Verify and VerifyFile.
type VerifyOption func(*verifyOptions)

type verifyOptions struct {
	keys note.Verifiers
}

// WithKeys checks every checkpoint's signature against keys (the device
// key). Without it checkpoints are checked against the trail but their
// signatures are not.
func WithKeys(keys note.Verifiers) VerifyOption {
	return func(o *verifyOptions) { o.keys = keys }
}

func buildVerifyOptions(opts []VerifyOption) verifyOptions {
	var o verifyOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// Issue is one finding in a file.
type Issue struct {
	Line    int     `json:"line"` // 1-based; 0 when about the whole file
	Problem Problem `json:"problem"`
	Detail  string  `json:"detail"`
}

// FileReport is the verdict on one audit file.
type FileReport struct {
	Path    string  `json:"path"`
	Name    string  `json:"name"`
	Session string  `json:"session,omitempty"`
	Status  Status  `json:"status"`
	Records int     `json:"records"` // records that verified
	Issues  []Issue `json:"issues,omitempty"`
}

// String is one line for `audit verify`, e.g.
// "x.jsonl: broken at line 7: hash-mismatch: …".
func (f FileReport) String() string {
	if len(f.Issues) == 0 {
		return fmt.Sprintf("%s: %s, %d records", f.Name, f.Status, f.Records)
	}
	parts := make([]string, 0, len(f.Issues))
	for _, is := range f.Issues {
		p := string(is.Problem)
		if is.Line > 0 {
			p = "line " + strconv.Itoa(is.Line) + ": " + p
		}
		if is.Detail != "" {
			p += ": " + is.Detail
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("%s: %s, %d records; %s", f.Name, f.Status, f.Records, strings.Join(parts, "; "))
}

// Totals sums a Report.
type Totals struct {
	Files      int `json:"files"`
	Records    int `json:"records"`
	OK         int `json:"ok"`
	Broken     int `json:"broken"`
	Incomplete int `json:"incomplete"`
	Unreadable int `json:"unreadable"`
}

// Report is the verdict on a whole audit folder.
type Report struct {
	Files  []FileReport `json:"files"` // sorted by name, i.e. by start time
	Totals Totals       `json:"totals"`
}

// OK reports whether no chain is broken and every file could be read.
// Incomplete files (crashes, running sessions) do not make it false.
func (r Report) OK() bool { return r.Totals.Broken == 0 && r.Totals.Unreadable == 0 }

// Err is nil when OK; otherwise it names the first broken (or unreadable)
// file and line, wrapping ErrTampered for a broken chain.
func (r Report) Err() error {
	for _, f := range r.Files {
		if f.Status == StatusBroken {
			return fmt.Errorf("%w: %s", ErrTampered, f)
		}
	}
	for _, f := range r.Files {
		if f.Status == StatusUnreadable {
			return fmt.Errorf("audit file unreadable: %s", f)
		}
	}
	return nil
}

// Merge adds another folder's report to r (an administrator verifying
// every account's trail).
func (r *Report) Merge(o Report) {
	for _, f := range o.Files {
		r.add(f)
	}
}

func (r *Report) add(f FileReport) {
	r.Files = append(r.Files, f)
	r.Totals.Files++
	r.Totals.Records += f.Records
	switch f.Status {
	case StatusOK:
		r.Totals.OK++
	case StatusBroken:
		r.Totals.Broken++
	case StatusIncomplete:
		r.Totals.Incomplete++
	case StatusUnreadable:
		r.Totals.Unreadable++
	}
}

// listFiles returns the audit files in dir sorted by name. A missing folder
// has no files.
func listFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing audit folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), FileExt) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Verify checks every audit file in dir, using every CPU. A missing folder
// gives an empty report. The error is only for a folder that cannot be
// listed or a cancelled ctx; problems with files are in the report.
func Verify(ctx context.Context, dir string, opts ...VerifyOption) (Report, error) {
	o := buildVerifyOptions(opts)
	names, err := listFiles(dir)
	if err != nil {
		return Report{}, err
	}
	results := make([]FileReport, len(names))
	next := make(chan int)
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(names))
	for range workers {
		wg.Go(func() {
			v := newVerifier()
			v.keys = o.keys
			for i := range next {
				results[i] = v.verifyPath(ctx, filepath.Join(dir, names[i]))
			}
		})
	}
feed:
	for i := range names {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("verifying audit trail: %w", err)
	}
	var rep Report
	for _, f := range results {
		rep.add(f)
	}
	return rep, nil
}

// VerifyFile checks one audit file. The error is only for a cancelled ctx;
// a file that cannot be read is reported as StatusUnreadable.
func VerifyFile(ctx context.Context, path string, opts ...VerifyOption) (FileReport, error) {
	v := newVerifier()
	v.keys = buildVerifyOptions(opts).keys
	f := v.verifyPath(ctx, path)
	if err := ctx.Err(); err != nil {
		return f, fmt.Errorf("verifying %s: %w", filepath.Base(path), err)
	}
	return f, nil
}

// verifier holds reusable buffers; one per goroutine.
type verifier struct {
	h       hash.Hash
	sum     [sha256.Size]byte
	hexSum  [hashHexLen]byte
	br      *bufio.Reader
	long    []byte
	fields  lineFields
	session []byte
	prev    [hashHexLen]byte
	brace   [1]byte // "}" for the hash input, kept here so Write does not allocate
	// sigs are this file's signature records, in order, for the links.
	sigs []seenSignature
	// keys verify checkpoint signatures; nil skips that check.
	keys note.Verifiers
}

// seenSignature is a signature record met earlier in the file.
type seenSignature struct {
	id, hash, call string
	line           int
	used           bool
}

func newVerifier() *verifier {
	return &verifier{h: sha256.New(), br: bufio.NewReaderSize(nil, 256<<10), brace: [1]byte{'}'}}
}

func (v *verifier) verifyPath(ctx context.Context, path string) FileReport {
	rep := FileReport{Path: path, Name: filepath.Base(path)}
	f, err := os.Open(path)
	if err != nil {
		rep.Status = StatusUnreadable
		rep.Issues = []Issue{{Problem: ProblemReadFile, Detail: err.Error()}}
		return rep
	}
	defer f.Close()
	v.verifyReader(ctx, f, &rep)
	return rep
}

// readLine returns the next line without its newline; terminated is false
// for a final line without one. The slice is valid until the next call.
func (v *verifier) readLine() (line []byte, terminated bool, err error) {
	line, err = v.br.ReadSlice('\n')
	if err == nil {
		return line[:len(line)-1], true, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return line, false, nil
		}
		return nil, false, err
	}
	v.long = append(v.long[:0], line...)
	for {
		line, err = v.br.ReadSlice('\n')
		v.long = append(v.long, line...)
		if len(v.long) > maxLineBytes+1 {
			return v.long, false, errLineTooLong
		}
		switch {
		case err == nil:
			return v.long[:len(v.long)-1], true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return v.long, false, nil
		default:
			return nil, false, err
		}
	}
}

var errLineTooLong = errors.New("line too long")

func (v *verifier) verifyReader(ctx context.Context, r io.Reader, rep *FileReport) {
	v.br.Reset(r)
	v.session = v.session[:0]
	v.sigs = v.sigs[:0]
	var startsSession, endsSession bool
	lineNo := 0
	fail := func(p Problem, detail string) {
		rep.Status = StatusBroken
		rep.Issues = append(rep.Issues, Issue{Line: lineNo, Problem: p, Detail: detail})
	}
	for {
		if lineNo&4095 == 0 && ctx.Err() != nil {
			rep.Status = StatusUnreadable
			rep.Issues = append(rep.Issues, Issue{Problem: ProblemReadFile, Detail: ctx.Err().Error()})
			return
		}
		line, terminated, err := v.readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		lineNo++
		if errors.Is(err, errLineTooLong) {
			fail(ProblemTooLong, "longer than "+strconv.Itoa(maxLineBytes)+" bytes")
			return
		}
		if err != nil {
			rep.Status = StatusUnreadable
			rep.Issues = append(rep.Issues, Issue{Line: lineNo, Problem: ProblemReadFile, Detail: err.Error()})
			return
		}
		if err := scanLine(line, &v.fields); err != nil {
			var se *scanError
			if !terminated && errors.As(err, &se) && se.torn {
				rep.Issues = append(rep.Issues, Issue{Line: lineNo, Problem: ProblemTorn,
					Detail: "the last line is cut off (" + strconv.Itoa(len(line)) + " bytes), as a crash during a write leaves it"})
				break
			}
			fail(ProblemJSON, err.Error())
			return
		}
		if p, detail := v.checkLine(line, int64(rep.Records)+1); p != "" {
			fail(p, detail)
			return
		}
		fl := &v.fields
		if fl.signature != nil || fl.event.equal(string(EventSignature)) {
			if p, detail := v.checkSignature(line, lineNo); p != "" {
				fail(p, detail)
				return
			}
		}
		isCheckpoint := fl.checkpoint != nil || fl.event.equal(string(EventCheckpoint))
		if isCheckpoint {
			if p, detail := v.checkCheckpoint(line, rep); p.Incomplete() {
				rep.Issues = append(rep.Issues, Issue{Line: lineNo, Problem: p, Detail: detail})
			} else if p != "" {
				fail(p, detail)
				return
			}
		}
		if rep.Records == 0 {
			v.session = append(v.session[:0], fl.session.raw...)
			rep.Session = fl.session.text()
			startsSession = fl.event.equal(string(EventSessionStart))
		}
		if !isCheckpoint {
			// The service's checkpoint follows session.end.
			endsSession = fl.event.equal(string(EventSessionEnd))
		}
		rep.Records++
		copy(v.prev[:], line[len(line)-hashSuffixLen+len(`,"hash":"`):])
		if !terminated {
			rep.Issues = append(rep.Issues, Issue{Line: lineNo, Problem: ProblemTorn,
				Detail: "the last record lacks its newline, as a crash during a write leaves it"})
			break
		}
	}
	for _, sg := range v.sigs {
		if !sg.used {
			rep.Issues = append(rep.Issues, Issue{Line: sg.line, Problem: ProblemSignatureUnused,
				Detail: "no call record after it links this signature: the service stopped before the signed call was recorded"})
		}
	}
	switch {
	case rep.Records == 0 && len(rep.Issues) == 0:
		rep.Issues = append(rep.Issues, Issue{Problem: ProblemEmpty, Detail: "no records"})
	case rep.Records > 0 && startsSession && !endsSession:
		rep.Issues = append(rep.Issues, Issue{Line: rep.Records, Problem: ProblemNoEnd,
			Detail: "no session.end after the last record: the session is still running or its process died"})
	}
	if len(rep.Issues) > 0 {
		rep.Status = StatusIncomplete
	} else {
		rep.Status = StatusOK
	}
}

// checkLine verifies a syntactically valid line (fields already scanned)
// as record number seq of its file.
func (v *verifier) checkLine(line []byte, seq int64) (Problem, string) {
	fl := &v.fields
	if p, detail := v.checkAlone(line); p != "" {
		return p, detail
	}
	if fl.seq != seq {
		return ProblemSeq, "seq is " + strconv.FormatInt(fl.seq, 10) + " where " + strconv.FormatInt(seq, 10) +
			" belongs: a record was removed, inserted or moved"
	}
	if seq == 1 {
		if fl.prev.present && !fl.prev.equal(zeroHash) && !fl.prev.equal("") {
			return ProblemPrev, "the first record links to a previous one: records before it were removed"
		}
	} else if !bytes.Equal(fl.prev.raw, v.prev[:]) {
		return ProblemPrev, "prev does not match the hash of the line before: a record was removed, inserted or moved"
	}
	if seq > 1 && !bytes.Equal(fl.session.raw, v.session) {
		return ProblemSession, "the record belongs to session " + strconv.Quote(fl.session.text()) +
			", not to this file's session " + strconv.Quote(string(v.session))
	}
	return "", ""
}

// checkAlone verifies what a scanned line shows on its own: its hash and
// the members every record has.
func (v *verifier) checkAlone(line []byte) (Problem, string) {
	fl := &v.fields
	// The hash first: it catches any edit, and "the line was changed" is
	// the most precise thing to say about an edited line.
	n := len(line) - hashSuffixLen
	if n < 1 || !bytes.HasPrefix(line[n:], []byte(`,"hash":"`)) || !bytes.HasSuffix(line, []byte(`"}`)) {
		return ProblemHash, "the line does not end with its hash"
	}
	v.h.Reset()
	v.h.Write(line[:n])
	v.h.Write(v.brace[:])
	v.h.Sum(v.sum[:0])
	hex.Encode(v.hexSum[:], v.sum[:])
	stored := line[n+len(`,"hash":"`) : len(line)-2]
	if !bytes.Equal(stored, v.hexSum[:]) {
		return ProblemHash, "the line's content does not match its hash: it was changed after it was written"
	}
	switch {
	case !fl.hasV || fl.badV:
		return ProblemField, `"v" is missing or not an integer`
	case fl.v != Version:
		return ProblemVersion, "record version " + strconv.FormatInt(fl.v, 10) + " is not one this program verifies"
	case !fl.hasSeq || fl.badSeq:
		return ProblemField, `"seq" is missing or not an integer`
	case !fl.session.present || fl.session.notStr || len(fl.session.raw) == 0:
		return ProblemField, `"session" is missing or not a string`
	case !fl.event.present || fl.event.notStr:
		return ProblemField, `"event" is missing or not a string`
	case fl.prev.notStr:
		return ProblemField, `"prev" is not a string`
	}
	return "", ""
}

// checkSignature checks a line that is a signature record or links one
// (21 CFR 11.70: a signature stays linked to the record it signs). The
// line's hash is already verified.
func (v *verifier) checkSignature(line []byte, lineNo int) (Problem, string) {
	fl := &v.fields
	isSig := fl.event.equal(string(EventSignature))
	if fl.signature == nil {
		return ProblemSignature, "a signature record without its signature"
	}
	var sig Signature
	if err := json.Unmarshal(fl.signature, &sig); err != nil {
		return ProblemSignature, "the signature cannot be read: " + err.Error()
	}
	if sig.ID == "" {
		return ProblemSignature, "the signature has no id"
	}
	if isSig {
		switch {
		case sig.Account == "" || sig.Meaning == "" || sig.Call == "" || sig.Time.IsZero():
			return ProblemSignature, "the signature lacks its account, meaning, time or signed call"
		case !KnownMethod(sig.Method):
			return ProblemSignature, "the signature's method " + strconv.Quote(sig.Method) + " is not one this program knows"
		case sig.Verified && sig.Method != MethodTrayPassword:
			return ProblemSignature, "the signature claims a verified password, which only the tray's password check gives"
		case sig.Record != "":
			return ProblemSignature, "a signature record cannot link another signature"
		}
		for _, sg := range v.sigs {
			if sg.id == sig.ID {
				return ProblemSignature, "signature " + sig.ID + " was already recorded on line " + strconv.Itoa(sg.line)
			}
		}
		hash := string(line[len(line)-hashSuffixLen+len(`,"hash":"`) : len(line)-2])
		v.sigs = append(v.sigs, seenSignature{id: sig.ID, hash: hash, call: sig.Call, line: lineNo})
		return "", ""
	}
	if !fl.event.equal(string(EventToolCall)) && !fl.event.equal(string(EventToolDenied)) {
		return ProblemSignature, "a " + fl.event.text() + " record cannot carry a signature"
	}
	for i := range v.sigs {
		sg := &v.sigs[i]
		if sg.id != sig.ID {
			continue
		}
		switch {
		case sg.used:
			return ProblemSignature, "signature " + sig.ID + " (line " + strconv.Itoa(sg.line) + ") already authorised an earlier call"
		case sig.Record != sg.hash:
			return ProblemSignature, "the link to signature " + sig.ID + " does not match the hash of its record on line " + strconv.Itoa(sg.line)
		case sig.Call != sg.call:
			return ProblemSignature, "this call is not the one signed on line " + strconv.Itoa(sg.line)
		}
		sg.used = true
		return "", ""
	}
	return ProblemSignature, "the call links signature " + sig.ID + ", which no earlier record of this file holds"
}

// checkCheckpoint checks a checkpoint line against the records before it
// in this file (rep.Records of them, the last one's hash in v.prev) and,
// with keys, its signature. The line's hash is already verified.
func (v *verifier) checkCheckpoint(line []byte, rep *FileReport) (Problem, string) {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return ProblemCheckpoint, "the checkpoint cannot be read: " + err.Error()
	}
	cp := r.Checkpoint
	switch {
	case r.Event != EventCheckpoint || cp == nil:
		return ProblemCheckpoint, "a checkpoint member outside a checkpoint record, or a checkpoint record without one"
	case cp.Trail != TrailID(rep.Name):
		return ProblemCheckpoint, "the checkpoint is about trail " + strconv.Quote(cp.Trail) + ", not this file"
	}
	lastHash := ""
	if rep.Records > 0 {
		lastHash = string(v.prev[:])
	}
	if cp.Count != int64(rep.Records) || cp.LastSeq != r.Seq-1 || cp.LastHash != lastHash {
		return ProblemCheckpoint, "the checkpoint counts " + strconv.FormatInt(cp.Count, 10) + " records ending in " + short(cp.LastHash) +
			", but " + strconv.Itoa(rep.Records) + " records ending in " + short(lastHash) + " come before it"
	}
	_, p, detail := cp.Check(r.Device, r.Time, v.keys)
	return p, detail
}

// short is the start of a hash, enough to tell hashes apart in a sentence.
func short(h string) string {
	if h == "" {
		return "nothing"
	}
	return h[:min(len(h), 12)] + "…"
}
