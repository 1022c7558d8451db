// Package fleet verifies audit trails as a lab's log pipeline stored them
// (`scispot-mcp audit fleet-verify`): the OpenTelemetry Collector's file
// exporter output (OTLP JSON lines), rsyslog's RFC 5424 files, and raw
// trail files copied from a workstation, in any mix.
//
//	input lines ─▶ detect format ─▶ each record's exact JSON line
//	   ─▶ audit.LineChecker (JSON, hash) ─▶ trail (device, session) by seq
//	   ─▶ dedupe (at-least-once delivery) / conflict (same seq, other content)
//	   ─▶ per trail: chain, gaps, session.end, checkpoints, local copy cut short
//	   ─▶ across trails: tokens shared by accounts or devices, clients
//	      outside the allowed list, denials, injection flags, bytes per user
//
// Input is streamed: per record only its hashes and where it was read are
// kept (about 80 bytes), never its text, so inputs of many GB fit.
package fleet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// Options configure a Verifier.
type Options struct {
	// Keys verify checkpoint signatures (the devices' verifier keys); nil
	// leaves signatures unchecked, which the report says.
	Keys note.Verifiers
	// AllowedClients are the AI client names (as records carry them) the
	// lab allows; nil skips that finding.
	AllowedClients []string
}

// Format is how an input line is written.
type Format string

// Formats.
const (
	FormatOTLP   Format = "otlp"   // one OTLP JSON ExportLogsServiceRequest per line
	FormatSyslog Format = "syslog" // one RFC 5424 message per line
	FormatTrail  Format = "trail"  // one audit record per line, a workstation's own file
)

// Problems fleet-verify reports besides the audit package's.
const (
	ProblemUnrecognised = "unrecognised-line" // no format fleet-verify reads
	ProblemConflict     = "conflict"          // two different records with one seq in one trail
	ProblemGap          = "seq-gap"           // records missing from a trail
	ProblemCut          = "cut-after-checkpoint"
	ProblemShortCopy    = "local-copy-short" // a local trail file ends before what the pipeline holds
	ProblemMisfiled     = "trail-mismatch"   // a record's trail id does not match its session
)

// maxLine bounds one input line: a collector batch of thousands of records
// is one line.
const maxLine = 256 << 20

// maxSeq bounds a seq, so a forged huge seq cannot make the verifier
// allocate its whole range.
const maxSeq = 1 << 26

// loc is where a record was read: input file, line, and record within an
// OTLP line (from 1; 0 for other formats).
type loc struct{ file, line, rec uint32 }

type kind uint8

const (
	kindOther kind = iota
	kindStart
	kindEnd
	kindCheckpoint
)

// entry is what is kept of one record.
type entry struct {
	hash, prev [32]byte
	at         loc
	present    bool
	hasPrev    bool
	kind       kind
}

type checkpointSeen struct {
	seq            int64
	count, lastSeq int64
	lastHash       [32]byte
	at             loc
}

type trail struct {
	device, session, id string
	user                string
	entries             []entry
	records, dups       int64
	checkpoints         []checkpointSeen
	issues              []Issue
	// localMax is, per raw trail file holding this trail, its highest
	// seq; pipelineMax the highest seq that came through the pipeline.
	localMax    map[uint32]int64
	pipelineMax int64
	// The client name of the last distinct client member seen.
	clientRaw  []byte
	clientName string
}

// Verifier reads inputs and builds a Report. Not safe for concurrent use.
type Verifier struct {
	opts    Options
	allowed map[string]bool
	lc      *audit.LineChecker

	files   []string
	formats []map[Format]int
	lines   int64
	issues  []Issue // problems of lines that belong to no trail
	trails  map[string]*trail
	last    *trail // the trail of the previous record: records come in runs

	tokens  map[string]*tokenStats
	users   map[string]*userStats
	clients map[string]*clientStats
	checked struct{ verified, unchecked int64 }

	otlp   otlpScanner
	syslog syslogMessage
	br     *bufio.Reader
	long   []byte
}

type tokenStats struct {
	users, devices map[string]struct{}
	records        int64
}

type userStats struct {
	devices                               map[string]struct{}
	records, denials, injections, results int64
}

type clientStats struct {
	users, devices map[string]struct{}
	records        int64
}

// New returns a Verifier.
func New(opts Options) *Verifier {
	v := &Verifier{
		opts: opts, lc: audit.NewLineChecker(), trails: map[string]*trail{},
		tokens: map[string]*tokenStats{}, users: map[string]*userStats{}, clients: map[string]*clientStats{},
		br: bufio.NewReaderSize(nil, 1<<20),
	}
	if opts.AllowedClients != nil {
		v.allowed = map[string]bool{}
		for _, c := range opts.AllowedClients {
			v.allowed[strings.ToLower(strings.TrimSpace(c))] = true
		}
	}
	return v
}

// Read reads one input. name is how problems name it (its path). The
// error is for input that cannot be read at all; problems with lines are
// in the report.
func (v *Verifier) Read(ctx context.Context, name string, r io.Reader) error {
	file := uint32(len(v.files))
	v.files = append(v.files, name)
	v.formats = append(v.formats, map[Format]int{})
	v.br.Reset(r)
	for lineNo := uint32(1); ; lineNo++ {
		if lineNo&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := v.readLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		at := loc{file: file, line: lineNo}
		if errors.Is(err, errLineTooLong) {
			v.issue(nil, at, 0, string(audit.ProblemTooLong), "longer than "+strconv.Itoa(maxLine)+" bytes")
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s at line %d: %w", name, lineNo, err)
		}
		v.lines++
		v.readLine1(line, at)
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline (or \r\n); the slice
// is valid until the next call. A too long line is skipped whole.
func (v *Verifier) readLine() ([]byte, error) {
	line, err := v.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		v.long = append(v.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = v.br.ReadSlice('\n')
			if len(v.long) <= maxLine {
				v.long = append(v.long, line...)
			}
		}
		line = v.long
		if len(line) > maxLine {
			if err == nil || errors.Is(err, io.EOF) {
				err = errLineTooLong
			}
			return nil, err
		}
	}
	if errors.Is(err, io.EOF) && len(line) > 0 {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

func (v *Verifier) readLine1(line []byte, at loc) {
	trimmed := bytes.TrimLeft(line, " \t")
	switch {
	case len(trimmed) == 0:
	case trimmed[0] == '<':
		v.formats[at.file][FormatSyslog]++
		m := &v.syslog
		if err := parseSyslog(line, m); err != nil {
			v.issue(nil, at, 0, ProblemUnrecognised, "not an RFC 5424 message: "+err.Error())
			return
		}
		v.record(m.msg, at, string(m.trail), string(m.device), false)
	case trimmed[0] == '{' && isOTLP(trimmed):
		v.formats[at.file][FormatOTLP]++
		err := v.otlp.parse(trimmed, func(i int, r otlpRecord) {
			at := at
			at.rec = uint32(i)
			if !r.hasBody {
				v.issue(nil, at, 0, ProblemUnrecognised, "the log record has no string body")
				return
			}
			v.record(r.body, at, r.trail, r.device, false)
		})
		if err != nil {
			v.issue(nil, at, 0, string(audit.ProblemJSON), "not OTLP JSON: "+err.Error()+" (records before the error were read)")
		}
	case trimmed[0] == '{':
		v.formats[at.file][FormatTrail]++
		v.record(trimmed, at, audit.TrailID(v.files[at.file]), "", true)
	default:
		v.issue(nil, at, 0, ProblemUnrecognised, "neither OTLP JSON, an RFC 5424 message nor an audit record")
	}
}

// isOTLP tells an OTLP JSON line from an audit record: its first member.
func isOTLP(line []byte) bool {
	head := line[:min(len(line), 64)]
	return bytes.Contains(head, []byte(`"resourceLogs"`))
}

// record takes one record's exact JSON line. trailID and device are what
// the transport said about it (attributes, structured data, file name);
// local is true for a workstation's own trail file.
func (v *Verifier) record(body []byte, at loc, trailID, device string, local bool) {
	facts, p, detail := v.lc.Check(body)
	if p != "" {
		where := ""
		if trailID != "" {
			where = " (trail " + trailID + ")"
		}
		v.issue(nil, at, 0, string(p), detail+where)
		return
	}
	t := v.trailFor(facts.Device, facts.Session)
	if t.id == "" && trailID != "" && strings.HasSuffix(trailID, "-"+t.session) {
		t.id = trailID
	}
	if trailID != "" && !strings.HasSuffix(trailID, "-"+t.session) && !local {
		v.issue(t, at, facts.Seq, ProblemMisfiled, "delivered as trail "+strconv.Quote(trailID)+" but the record belongs to session "+strconv.Quote(t.session))
	}
	if device != "" && device != t.device {
		v.issue(t, at, facts.Seq, ProblemMisfiled, "delivered as from device "+strconv.Quote(device)+" but the record names device "+strconv.Quote(t.device))
	}
	seq := facts.Seq
	if seq < 1 || seq > maxSeq {
		v.issue(t, at, seq, string(audit.ProblemField), "seq "+strconv.FormatInt(seq, 10)+" is out of range")
		return
	}
	if local {
		if t.localMax == nil {
			t.localMax = map[uint32]int64{}
		}
		t.localMax[at.file] = max(t.localMax[at.file], seq)
	} else {
		t.pipelineMax = max(t.pipelineMax, seq)
	}
	if int64(len(t.entries)) < seq {
		t.entries = slices.Grow(t.entries, int(seq)-len(t.entries))[:seq]
	}
	e := &t.entries[seq-1]
	var h [32]byte
	hex.Decode(h[:], facts.Hash)
	if e.present {
		if e.hash == h {
			t.dups++
			return
		}
		v.issue(t, at, seq, ProblemConflict, "seq "+strconv.FormatInt(seq, 10)+" differs from the record read at "+v.where(e.at)+
			": two different records claim the same place in the trail")
		return
	}
	*e = entry{hash: h, at: at, present: true}
	if len(facts.Prev) == 2*len(e.prev) {
		e.hasPrev = true
		hex.Decode(e.prev[:], facts.Prev)
	}
	switch string(facts.Event) {
	case string(audit.EventSessionStart):
		e.kind = kindStart
	case string(audit.EventSessionEnd):
		e.kind = kindEnd
	case string(audit.EventCheckpoint):
		e.kind = kindCheckpoint
	}
	t.records++
	if t.user == "" {
		t.user = string(facts.User)
	}
	v.account(t, &facts)
	if facts.Checkpoint {
		v.checkpoint(t, body, at, seq)
	}
}

// trailFor finds or starts the trail of a (device, session).
func (v *Verifier) trailFor(device, session []byte) *trail {
	if t := v.last; t != nil && t.session == string(session) && t.device == string(device) {
		return t
	}
	key := string(device) + "\x00" + string(session)
	t, ok := v.trails[key]
	if !ok {
		t = &trail{device: string(device), session: string(session)}
		v.trails[key] = t
	}
	v.last = t
	return t
}

// account adds a record (counted once) to the policy findings.
func (v *Verifier) account(t *trail, f *audit.LineFacts) {
	u := v.users[string(f.User)]
	if u == nil {
		u = &userStats{devices: map[string]struct{}{}}
		v.users[string(f.User)] = u
	}
	u.records++
	addTo(u.devices, t.device)
	if string(f.Outcome) == string(audit.OutcomeDenied) {
		u.denials++
	}
	if len(f.Flags) > 0 && bytes.Contains(f.Flags, []byte(`"`+audit.FlagInjectionSuspect+`"`)) {
		u.injections++
	}
	u.results += f.ResultBytes
	if len(f.Token) > 0 {
		ts := v.tokens[string(f.Token)]
		if ts == nil {
			ts = &tokenStats{users: map[string]struct{}{}, devices: map[string]struct{}{}}
			v.tokens[string(f.Token)] = ts
		}
		ts.records++
		addTo(ts.users, string(f.User))
		addTo(ts.devices, t.device)
	}
	if v.allowed != nil && len(f.Client) > 0 {
		if !bytes.Equal(f.Client, t.clientRaw) {
			var c struct {
				Name string `json:"name"`
			}
			json.Unmarshal(f.Client, &c)
			t.clientRaw, t.clientName = append(t.clientRaw[:0], f.Client...), c.Name
		}
		if t.clientName != "" && !v.allowed[strings.ToLower(t.clientName)] {
			cs := v.clients[t.clientName]
			if cs == nil {
				cs = &clientStats{users: map[string]struct{}{}, devices: map[string]struct{}{}}
				v.clients[t.clientName] = cs
			}
			cs.records++
			addTo(cs.users, string(f.User))
			addTo(cs.devices, t.device)
		}
	}
}

// addTo adds k to a set; looking up first spares the string copy.
func addTo(set map[string]struct{}, k string) {
	if _, ok := set[k]; !ok {
		set[k] = struct{}{}
	}
}

// checkpoint reads a checkpoint record and checks what it says on its
// own (note, signature); what it says about the trail is checked once
// the whole trail is read.
func (v *Verifier) checkpoint(t *trail, body []byte, at loc, seq int64) {
	var r audit.Record
	if err := json.Unmarshal(body, &r); err != nil || r.Checkpoint == nil || r.Event != audit.EventCheckpoint {
		v.issue(t, at, seq, string(audit.ProblemCheckpoint), "a checkpoint member outside a checkpoint record, or a checkpoint record without one")
		return
	}
	cp := r.Checkpoint
	if !strings.HasSuffix(cp.Trail, "-"+t.session) || (t.id != "" && cp.Trail != t.id) {
		v.issue(t, at, seq, string(audit.ProblemCheckpoint), "the checkpoint is about trail "+strconv.Quote(cp.Trail)+", not this one")
		return
	}
	if t.id == "" {
		t.id = cp.Trail
	}
	if _, p, detail := cp.Check(r.Device, r.Time, v.opts.Keys); p != "" {
		v.issue(t, at, seq, string(p), detail)
	} else if v.opts.Keys != nil {
		v.checked.verified++
	} else {
		v.checked.unchecked++
	}
	c := checkpointSeen{seq: seq, count: cp.Count, lastSeq: cp.LastSeq, at: at}
	if len(cp.LastHash) != 2*len(c.lastHash) {
		v.issue(t, at, seq, string(audit.ProblemCheckpoint), "the checkpoint's last_hash is not a hash")
		return
	}
	hex.Decode(c.lastHash[:], []byte(cp.LastHash))
	t.checkpoints = append(t.checkpoints, c)
}

func (v *Verifier) issue(t *trail, at loc, seq int64, problem, detail string) {
	is := Issue{Problem: problem, Seq: seq, File: v.files[at.file], Line: int(at.line), Record: int(at.rec), Detail: detail}
	if t == nil {
		v.issues = append(v.issues, is)
		return
	}
	t.issues = append(t.issues, is)
}

// where names a record's place for a sentence: file:line, and the record
// within an OTLP line.
func (v *Verifier) where(at loc) string {
	s := v.files[at.file] + ":" + strconv.Itoa(int(at.line))
	if at.rec > 0 {
		s += " (record " + strconv.Itoa(int(at.rec)) + ")"
	}
	return s
}

// finish checks what needs the whole trail.
func (v *Verifier) finish(t *trail) {
	var gapStart int64
	started, ended := false, false
	for i := range t.entries {
		seq := int64(i) + 1
		e := &t.entries[i]
		if !e.present {
			if gapStart == 0 {
				gapStart = seq
			}
			continue
		}
		if gapStart != 0 {
			n := seq - gapStart
			v.issue(t, e.at, seq, ProblemGap, fmt.Sprintf("%s missing before this record: %s lost in the pipeline, or removed", seqRange(gapStart, seq-1), plural(n, "record")))
			gapStart = 0
		}
		switch {
		case seq == 1 && e.hasPrev:
			v.issue(t, e.at, seq, string(audit.ProblemPrev), "the first record links to a previous one: records before it were removed")
		case seq > 1 && t.entries[i-1].present && (!e.hasPrev || e.prev != t.entries[i-1].hash):
			v.issue(t, e.at, seq, string(audit.ProblemPrev), "prev does not match the hash of seq "+strconv.FormatInt(seq-1, 10)+" ("+v.where(t.entries[i-1].at)+")")
		}
		started = started || (seq == 1 && e.kind == kindStart)
		ended = ended || e.kind == kindEnd
	}
	last := int64(len(t.entries))
	if started && !ended && last > 0 {
		v.issue(t, t.entries[last-1].at, last, string(audit.ProblemNoEnd), "no session.end: the session was still running, its process died, or its end never arrived")
	}
	for _, c := range t.checkpoints {
		if c.count != c.seq-1 || c.lastSeq != c.seq-1 {
			v.issue(t, c.at, c.seq, string(audit.ProblemCheckpoint), fmt.Sprintf("the checkpoint counts %d records up to seq %d, but it is record %d", c.count, c.lastSeq, c.seq))
			continue
		}
		if c.seq > 1 {
			if prev := &t.entries[c.seq-2]; prev.present && prev.hash != c.lastHash {
				v.issue(t, c.at, c.seq, string(audit.ProblemCheckpoint), "the checkpoint's last hash is not the hash of seq "+strconv.FormatInt(c.seq-1, 10)+" ("+v.where(prev.at)+"): the trail was rewritten")
			}
		}
	}
	files := make([]uint32, 0, len(t.localMax))
	for f := range t.localMax {
		files = append(files, f)
	}
	slices.Sort(files)
	for _, f := range files {
		m := t.localMax[f]
		at := loc{file: f}
		var cut *checkpointSeen
		for i := range t.checkpoints {
			if c := &t.checkpoints[i]; c.seq > m && (cut == nil || c.seq < cut.seq) {
				cut = c
			}
		}
		switch {
		case cut != nil:
			v.issue(t, at, m, ProblemCut, fmt.Sprintf("cut after checkpoint at seq %d: this copy ends at seq %d, but the checkpoint read at %s was signed when the trail held %d records",
				cut.seq, m, v.where(cut.at), cut.count))
		case t.pipelineMax > m:
			v.issue(t, at, m, ProblemShortCopy, fmt.Sprintf("this copy ends at seq %d, but the pipeline delivered records up to seq %d", m, t.pipelineMax))
		}
	}
}

func seqRange(a, b int64) string {
	if a == b {
		return "seq " + strconv.FormatInt(a, 10)
	}
	return "seq " + strconv.FormatInt(a, 10) + "–" + strconv.FormatInt(b, 10)
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.FormatInt(n, 10) + " " + word + "s"
}

// shortName is a file's name for a table: its base name.
func shortName(path string) string { return filepath.Base(path) }
