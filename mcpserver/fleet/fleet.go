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
	"fmt"
	"io"
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
	// ProblemNoCheckpoint: a session ended without the signed checkpoint
	// the service writes after session.end (checked with --keys only).
	ProblemNoCheckpoint = "no-checkpoint"
	// ProblemAfterEnd: a record after the checkpoint that closed an ended
	// session. The service writes nothing there, and no signature covers
	// it: someone who could write to the pipeline chained it on.
	ProblemAfterEnd = "unsigned-after-end"
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

// entries are a trail's records by seq, in blocks, so a growing trail
// never copies what it holds.
type entries struct {
	blocks [][]entry
	n      int64 // the highest seq held
}

const entryBlock = 512

// at returns seq's entry, making room for it. Only blocks that hold a
// record are allocated, so a forged huge seq costs little.
func (es *entries) at(seq int64) *entry {
	b := int((seq - 1) / entryBlock)
	for len(es.blocks) <= b {
		es.blocks = append(es.blocks, nil)
	}
	if es.blocks[b] == nil {
		es.blocks[b] = make([]entry, entryBlock)
	}
	es.n = max(es.n, seq)
	return &es.blocks[b][(seq-1)%entryBlock]
}

var noEntry entry

// get returns seq's entry (1 <= seq <= n), a missing one as not present.
func (es *entries) get(seq int64) *entry {
	blk := es.blocks[(seq-1)/entryBlock]
	if blk == nil {
		return &noEntry
	}
	return &blk[(seq-1)%entryBlock]
}

type checkpointSeen struct {
	seq            int64
	count, lastSeq int64
	lastHash       [32]byte
	at             loc
	// trusted: its signature verified with --keys (or no keys were
	// given). Only a trusted checkpoint closes a session or cuts a copy:
	// anyone who can write to the pipeline can sign one with a key of
	// their own.
	trusted bool
}

type trail struct {
	device, session, id string
	user                string
	entries             entries
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

	// rd reads and parses lines on a goroutine of its own; free are the
	// chunks it fills, handed back and forth.
	rd   *reader
	free chan *chunk
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
		rd: &reader{br: bufio.NewReaderSize(nil, 1<<20)}, free: make(chan *chunk, 4),
	}
	for range cap(v.free) {
		v.free <- &chunk{}
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
//
// A second goroutine reads and parses the lines (the OTLP scan is about
// half the work) while this one checks the records and keeps the trails,
// so two cores share the work; the trails themselves are kept by this
// goroutine alone.
func (v *Verifier) Read(ctx context.Context, name string, r io.Reader) error {
	file := uint32(len(v.files))
	v.files = append(v.files, name)
	v.formats = append(v.formats, map[Format]int{})
	out := make(chan *chunk, cap(v.free))
	done := make(chan struct{})
	go v.rd.run(r, file, audit.TrailID(name), v.free, out, done)
	var err error
	for c := range out {
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = v.take(c)
		}
		if err != nil && done != nil {
			close(done) // the reader stops; drain what it sent
			done = nil
		}
		c.reset()
		v.free <- c
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// take checks and keeps what one chunk holds.
func (v *Verifier) take(c *chunk) error {
	v.lines += c.lines
	for f, n := range c.formats {
		if n > 0 {
			v.formats[c.file][formats[f]] += n
		}
	}
	for i := range c.items {
		it := &c.items[i]
		if it.problem != "" {
			v.issue(nil, it.at, 0, it.problem, it.detail)
			continue
		}
		v.record(c.buf[it.body.start:it.body.end], it.at, c.buf[it.trail.start:it.trail.end], c.buf[it.device.start:it.device.end], it.local)
	}
	return c.err
}

// isOTLP tells an OTLP JSON line from an audit record: its first member.
func isOTLP(line []byte) bool {
	head := line[:min(len(line), 64)]
	return bytes.Contains(head, []byte(`"resourceLogs"`)) || bytes.Contains(head, []byte(`"resource_logs"`))
}

// record takes one record's exact JSON line. trailID and device are what
// the transport said about it (attributes, structured data, file name);
// local is true for a workstation's own trail file.
func (v *Verifier) record(body []byte, at loc, trailID, device []byte, local bool) {
	facts, p, detail := v.lc.Check(body)
	if p != "" {
		where := ""
		if len(trailID) > 0 {
			where = " (trail " + string(trailID) + ")"
		}
		v.issue(nil, at, 0, string(p), detail+where)
		return
	}
	t := v.trailFor(facts.Device, facts.Session)
	if len(trailID) > 0 {
		ofSession := isTrailOf(trailID, t.session)
		if t.id == "" && ofSession {
			t.id = string(trailID)
		}
		if !ofSession && !local {
			v.issue(t, at, facts.Seq, ProblemMisfiled, "delivered as trail "+strconv.Quote(string(trailID))+" but the record belongs to session "+strconv.Quote(t.session))
		}
	}
	if len(device) > 0 && string(device) != t.device {
		v.issue(t, at, facts.Seq, ProblemMisfiled, "delivered as from device "+strconv.Quote(string(device))+" but the record names device "+strconv.Quote(t.device))
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
	e := t.entries.at(seq)
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

// isTrailOf reports whether a trail id names session's file
// ("<time>-<session>").
func isTrailOf(trailID []byte, session string) bool {
	n := len(trailID) - len(session)
	return n > 0 && trailID[n-1] == '-' && string(trailID[n:]) == session
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
	if !isTrailOf([]byte(cp.Trail), t.session) || (t.id != "" && cp.Trail != t.id) {
		v.issue(t, at, seq, string(audit.ProblemCheckpoint), "the checkpoint is about trail "+strconv.Quote(cp.Trail)+", not this one")
		return
	}
	if t.id == "" {
		t.id = cp.Trail
	}
	_, p, detail := cp.Check(r.Device, r.Time, v.opts.Keys)
	switch {
	case p != "":
		v.issue(t, at, seq, string(p), detail)
	case v.opts.Keys != nil:
		v.checked.verified++
	default:
		v.checked.unchecked++
	}
	c := checkpointSeen{seq: seq, count: cp.Count, lastSeq: cp.LastSeq, at: at, trusted: p == ""}
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
	var gapStart, endSeq int64
	started, ended := false, false
	for seq := int64(1); seq <= t.entries.n; seq++ {
		e := t.entries.get(seq)
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
		case seq > 1 && t.entries.get(seq-1).present && (!e.hasPrev || e.prev != t.entries.get(seq-1).hash):
			v.issue(t, e.at, seq, string(audit.ProblemPrev), "prev does not match the hash of seq "+strconv.FormatInt(seq-1, 10)+" ("+v.where(t.entries.get(seq-1).at)+")")
		}
		started = started || (seq == 1 && e.kind == kindStart)
		if e.kind == kindEnd {
			ended, endSeq = true, seq
		}
	}
	last := t.entries.n
	if started && !ended && last > 0 {
		v.issue(t, t.entries.get(last).at, last, string(audit.ProblemNoEnd), "no session.end: the session was still running, its process died, or its end never arrived")
	}
	// closing is the last trusted checkpoint after session.end; one that
	// did not verify is reported on its own and closes nothing.
	var closing, anyClosing int64
	for _, c := range t.checkpoints {
		if ended && c.seq > endSeq {
			anyClosing = max(anyClosing, c.seq)
			if c.trusted {
				closing = max(closing, c.seq)
			}
		}
	}
	if ended && v.opts.Keys != nil && anyClosing == 0 {
		v.issue(t, t.entries.get(endSeq).at, endSeq, ProblemNoCheckpoint,
			"no signed checkpoint after session.end: the device had no usable key, or the checkpoint never arrived")
	}
	if closing > 0 {
		for seq := closing + 1; seq <= t.entries.n; seq++ {
			if e := t.entries.get(seq); e.present {
				v.issue(t, e.at, seq, ProblemAfterEnd, fmt.Sprintf("a record after the checkpoint (seq %d) that closed the ended session: the service writes nothing there and no signature covers it", closing))
			}
		}
	}
	for _, c := range t.checkpoints {
		if c.count != c.seq-1 || c.lastSeq != c.seq-1 {
			v.issue(t, c.at, c.seq, string(audit.ProblemCheckpoint), fmt.Sprintf("the checkpoint counts %d records up to seq %d, but it is record %d", c.count, c.lastSeq, c.seq))
			continue
		}
		if c.seq > 1 {
			if prev := t.entries.get(c.seq - 1); prev.present && prev.hash != c.lastHash {
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
			if c := &t.checkpoints[i]; c.trusted && c.seq > m && (cut == nil || c.seq < cut.seq) {
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
