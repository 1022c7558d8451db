package audit

import "bytes"

// LineChecker checks stored lines one at a time, away from their file:
// what a verifier of records gathered from a log pipeline needs (package
// fleet), where a trail's lines arrive mixed with other trails', perhaps
// twice or out of order. It checks what a line shows on its own — valid
// JSON, its hash, the members every record has — and hands back the
// members the chain and the fleet's findings need, without allocating for
// ordinary lines. Not safe for concurrent use.
type LineChecker struct{ v *verifier }

// NewLineChecker returns a LineChecker.
func NewLineChecker() *LineChecker { return &LineChecker{v: newVerifier()} }

// LineFacts is what Check read from a line. Its slices point into the line
// or into the checker, valid until the next Check.
type LineFacts struct {
	Seq int64
	// Hash is the line's hash (64 hex digits); Prev the previous record's,
	// empty for a first record.
	Hash, Prev []byte
	// String members, unescaped; empty when absent.
	Session, Event, User, Device, Token, Outcome []byte
	ResultBytes                                  int64
	// Client and Flags are the raw JSON of those members, nil when absent.
	Client, Flags []byte
	// Checkpoint: the record is (or claims to be) a checkpoint; decode the
	// line as a Record to check it.
	Checkpoint bool
}

// Check verifies line (one stored record, without its newline) on its own.
// A problem is ProblemJSON, ProblemHash, ProblemField or ProblemVersion.
func (c *LineChecker) Check(line []byte) (LineFacts, Problem, string) {
	v := c.v
	if err := scanLine(line, &v.fields); err != nil {
		return LineFacts{}, ProblemJSON, err.Error()
	}
	if p, detail := v.checkAlone(line); p != "" {
		return LineFacts{}, p, detail
	}
	fl := &v.fields
	text := func(f field) []byte {
		if !f.present || f.notStr {
			return nil
		}
		if f.escaped {
			return []byte(f.text())
		}
		return f.raw
	}
	facts := LineFacts{
		Seq:  fl.seq,
		Hash: line[len(line)-hashSuffixLen+len(`,"hash":"`) : len(line)-2],
		Prev: text(fl.prev), Session: text(fl.session), Event: text(fl.event),
		User: text(fl.user), Device: text(fl.device), Token: text(fl.token),
		Outcome: text(fl.outcome),
		Client:  fl.client, Flags: fl.flags,
		Checkpoint: fl.checkpoint != nil || fl.event.equal(string(EventCheckpoint)),
	}
	if fl.hasResultBytes && !fl.badResultBytes {
		facts.ResultBytes = fl.resultBytes
	}
	if bytes.Equal(facts.Prev, []byte(zeroHash)) {
		facts.Prev = nil
	}
	return facts, "", ""
}
