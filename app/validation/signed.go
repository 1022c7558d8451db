package validation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// OQ-11: a demo write signed the way the tray signs one. The validation
// session cannot ask the person itself (it has no elicitation), so the
// service puts the write to the account's approval streams; the run
// follows one as the tray does and answers with a meaning, a reason and
// the account password, which the service checks. The records must then
// show the signature manifestation (21 CFR 11.50), linked to the call
// (11.70), with the reason for the change (Annex 11 §9).

// signedWrite is a demo write this case knows how to make, carrying a
// mark only this run knows so that the run answers its own write and no
// other.
type signedWrite struct {
	tool string
	args func(mark string) map[string]any
}

// signedWrites are tried in this order; the first the policy shows on the
// demo workspace is used.
func signedWrites() []signedWrite {
	return []signedWrite{
		{demoWriteTool, func(mark string) map[string]any {
			return demoWriteArgs(map[string]any{"Notes": mark})
		}},
		{"write_to_experiment", func(mark string) map[string]any {
			return map[string]any{"hrid": "EXP-0002", "html": "<p>" + mark + "</p>"}
		}},
	}
}

// newMark is the text the case writes: random, so that a process of the
// account that watches the approval stream cannot have a write of its
// own answered by naming it the same way in advance.
func newMark() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "Written by validation OQ-11 (" + hex.EncodeToString(b[:]) + ")"
}

// ownQuestion says whether a write waiting for approval is this case's:
// from a validation session, for the tool, carrying the mark.
func ownQuestion(q *localapi.Confirmation, tool, mark string) bool {
	return q != nil && q.ClientName == ClientName && q.Tool == tool && strings.Contains(q.Change, mark)
}

// authorising picks the first meaning on the question's list that lets a
// write through ("Approved"), as a person approving it would.
func authorising(meanings []string) string {
	for _, m := range meanings {
		if policy.MeaningAuthorises(m) {
			return m
		}
	}
	return ""
}

// approval is what the run's approval stream did.
type approval struct {
	asked *localapi.Confirmation
	err   error
	// others counts writes that looked like this case's after it had
	// answered its own; they were denied.
	others int
}

// approve answers, on stream, the first write matching own with sign
// (ID and meaning filled in) and denies any later one that matches too;
// it leaves every other write to the person's tray. It returns when the
// stream ends.
func (r *run) approve(ctx context.Context, stream *localapi.EventStream, own func(*localapi.Confirmation) bool, sign localapi.Answer) approval {
	var out approval
	for e := range stream.C {
		if e.Kind != localapi.EventConfirm || !own(e.Confirm) {
			continue
		}
		if out.asked != nil {
			out.others++
			_ = r.o.Service.Answer(context.WithoutCancel(ctx), localapi.Answer{ID: e.Confirm.ID})
			continue
		}
		q := *e.Confirm
		out.asked = &q
		sign.ID, sign.Meaning = q.ID, authorising(q.Meanings)
		if out.err = r.o.Service.Answer(ctx, sign); out.err != nil {
			// Not left waiting a minute for a signature that will not come.
			_ = r.o.Service.Answer(context.WithoutCancel(ctx), localapi.Answer{ID: q.ID})
		}
	}
	return out
}

func (r *run) checkSignature(ctx context.Context, c *Case) {
	verdicts, err := r.toolVerdicts(ctx)
	if err != nil {
		c.fail("%v", err)
		return
	}
	var writes []string
	var w *signedWrite
	for _, t := range verdicts {
		if t.Write && t.Visible {
			writes = append(writes, t.Tool.Name)
		}
	}
	for _, sw := range signedWrites() {
		if w == nil && slices.Contains(writes, sw.tool) {
			w = &sw
		}
	}
	allow, _ := r.effective("AllowWriteTools").(bool)
	switch {
	case !allow || len(writes) == 0:
		c.skip("not applicable: the policy allows no write tools on the demo workspace, so no write is signed on this workstation")
		return
	case w == nil:
		c.skip("the policy allows the write tools %s, none of which this run can make on the demo workspace (it writes with %s); include a signed write in PQ", strings.Join(writes, ", "), demoWriteTool)
		return
	}
	c.note("write tools allowed", "%s", strings.Join(writes, ", "))
	if confirm, _ := r.effective("ConfirmWrites").(bool); !confirm {
		c.fail("the policy allows writes with ConfirmWrites off, so they reach Scispot without the person's signature")
		return
	}
	password, err := r.password()
	if err != nil {
		c.skip("no account password was available to sign the demo write (%v); run validate interactively to include this case", err)
		return
	}

	mark := newMark()
	args := w.args(mark)
	reason := fmt.Sprintf("Validation %s: demo write %s signed to qualify electronic signatures", firstNonEmpty(r.docID, "run"), w.tool)
	c.note("tool", "%s", w.tool)
	c.note("reason given", "%s", reason)

	// The stream is open before the call, so the service has someone to
	// ask; a tray of the person's that is running shows the question too
	// until the run's answer closes it.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := r.o.Service.Approvals(sctx)
	if err != nil {
		c.fail("following the account's approvals: %v", err)
		return
	}
	answered := make(chan approval, 1)
	go func() {
		answered <- r.approve(sctx, stream, func(q *localapi.Confirmation) bool { return ownQuestion(q, w.tool, mark) },
			localapi.Answer{Approved: true, Reason: reason, Password: password})
	}()
	s, err := r.open(ctx)
	if err != nil {
		stop()
		<-answered
		c.fail("%v", err)
		return
	}
	t0 := time.Now()
	res, text, err := s.call(ctx, w.tool, args)
	t1 := time.Now()
	s.close()
	stop()
	ap := <-answered
	switch {
	case err != nil:
		c.fail("calling %s: %v", w.tool, err)
		return
	case ap.asked == nil:
		c.fail("the write was never put to the person for a signature (%.200s)", text)
		return
	case ap.err != nil:
		c.fail("the signature with the account password was refused: %v", ap.err)
		return
	case ap.others > 0:
		c.fail("%d other write(s) carrying this case's mark asked for approval while it ran; they were denied", ap.others)
		return
	case res.IsError:
		c.fail("the signed write %s was refused: %q", w.tool, text)
		return
	}

	sig, call, err := r.signedRecords(ctx, w.tool, reason)
	if err != nil {
		c.fail("%v", err)
		return
	}
	sg := sig.Signature
	c.note("signature record", "seq %d hash %s session %s", sig.Seq, short(sig.Hash), sig.Session)
	c.note("call record", "%s seq %d hash %s outcome %s, links signature record %s", call.Event, call.Seq, short(call.Hash), call.Outcome, short(call.Signature.Record))
	c.note("signer", "%s (%s)", sg.Name, sg.Account)
	c.note("meaning", "%s", sg.Meaning)
	c.note("signed at", "%s", sg.Time.Format(time.RFC3339Nano))
	c.note("reason", "%s", sg.Reason)
	c.note("method", "%s, password checked by the service: %v", sg.Method, sg.Verified)
	c.note("call signed", "%s", short(sg.Call))
	b, _ := json.Marshal(args)
	system := r.status.Service.Mode == localapi.ModeSystem
	switch {
	case sg.Name == "" || sg.Account != r.status.User.Name:
		c.fail("the signature names %q (%q), not the account %s", sg.Name, sg.Account, r.status.User.Name)
	case sg.Meaning != authorising(ap.asked.Meanings) || !sg.Approves:
		c.fail("the signature's meaning %q (approves %v) is not the one given, %q", sg.Meaning, sg.Approves, authorising(ap.asked.Meanings))
	case sg.Reason != reason:
		c.fail("the signature's reason is %q, not the one given", sg.Reason)
	case sg.Time.Before(t0.Add(-time.Second)) || sg.Time.After(t1.Add(time.Second)):
		c.fail("the signature's time %s is not when it was given (%s to %s)", sg.Time, t0, t1)
	case system && (sg.Method != audit.MethodTrayPassword || !sg.Verified):
		c.fail("the signature does not say the service checked the password (method %s, verified %v)", sg.Method, sg.Verified)
	case sg.Call != audit.CallDigest(w.tool, b):
		c.fail("the signature names call %s, not the write made", short(sg.Call))
	case call.Seq <= sig.Seq || call.Outcome != audit.OutcomeOK || call.Signature.ID != sg.ID:
		c.fail("the call record (seq %d, outcome %s) does not follow and link the signature (seq %d)", call.Seq, call.Outcome, sig.Seq)
	default:
		if err := r.verified(ctx); err != nil {
			c.fail("the signature was recorded but the trail does not verify: %v", err)
			return
		}
		c.pass("%s signed %q by %s (%s) at %s with the reason %q, password checked by the service; the call's record (seq %d) links the signature record %s (seq %d) and the trail verifies",
			w.tool, sg.Meaning, sg.Name, sg.Account, sg.Time.UTC().Format(time.RFC3339), sg.Reason, call.Seq, short(sig.Hash), sig.Seq)
	}
}

// signedRecords finds the validation's signature record carrying reason
// and the call record that links it.
func (r *run) signedRecords(ctx context.Context, tool, reason string) (sig, call audit.Record, err error) {
	recs, err := r.records(ctx)
	if err != nil {
		return sig, call, err
	}
	found := false
	for _, x := range recs {
		if x.Event == audit.EventSignature && x.Tool == tool && x.Signature != nil && x.Signature.Reason == reason {
			sig, found = x, true
		}
	}
	if !found {
		return sig, call, fmt.Errorf("no signature record with the reason given was found in the trail")
	}
	for _, x := range recs {
		if x.Session == sig.Session && x.Hash != sig.Hash && x.Signature != nil && x.Signature.Record == sig.Hash {
			return sig, x, nil
		}
	}
	return sig, call, fmt.Errorf("signature record seq %d (%s) is linked from no call record", sig.Seq, short(sig.Hash))
}

// verified has the service verify the account's trail, the signature
// links included.
func (r *run) verified(ctx context.Context) error {
	res, err := r.o.Service.Verify(ctx, false)
	if err != nil {
		return err
	}
	return res.Report.Err()
}
