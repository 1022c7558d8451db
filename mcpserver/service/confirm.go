package service

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/confirm"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// pending is a write waiting for the person.
type pending struct {
	req    localapi.Confirmation
	answer chan confirm.Answer
}

// ask puts a write to the person through the account's tray (its event
// stream) and waits for an answer the service itself checked: a process
// of the account can pretend to be the tray, but not know the password.
func (s *Service) ask(ctx context.Context, u *user, req confirm.Request) (confirm.Answer, error) {
	if u.hub.approvers() == 0 {
		// No tray is following this account: nobody could answer.
		return confirm.Answer{}, confirm.ErrNoAnswer
	}
	if req.ID == "" {
		req.ID = confirm.NewID()
	}
	deadline := s.cfg.Now().Add(confirm.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	p := &pending{answer: make(chan confirm.Answer, 1), req: localapi.Confirmation{
		ID: req.ID, Session: req.Session, ClientName: req.ClientName, ClientVersion: req.ClientVersion,
		Tool: req.Tool, Target: req.Target, Change: req.Change, Destructive: req.Destructive,
		Time: req.Time, Deadline: deadline, Current: req.Current,
		Meanings: req.Meanings, ReasonRequired: req.ReasonRequired,
	}}
	u.mu.Lock()
	u.pending[req.ID] = p
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		delete(u.pending, req.ID)
		u.mu.Unlock()
		u.hub.publish(localapi.Event{Kind: localapi.EventConfirmDone, ID: req.ID})
	}()
	confirmation := p.req
	u.hub.publish(localapi.Event{Kind: localapi.EventConfirm, Confirm: &confirmation})
	select {
	case a := <-p.answer:
		return a, nil
	case <-ctx.Done():
		return confirm.Answer{ID: req.ID, TimedOut: true}, confirm.ErrNoAnswer
	}
}

// pendingFor lists the writes waiting for the account (a tray that starts
// late shows them).
func (u *user) pendingConfirmations() []localapi.Confirmation {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]localapi.Confirmation, 0, len(u.pending))
	for _, p := range u.pending {
		out = append(out, p.req)
	}
	return out
}

// maxPasswordFailures in a minute before the service stops checking for a
// while: PAM's own delay slows guessing, this ends it.
const maxPasswordFailures = 5

// checkPerson verifies that the account's owner is present: the account
// password, checked by the service. In the user-demo instance nothing can
// be checked (it runs as the person), and nothing there needs protecting.
func (s *Service) checkPerson(ctx context.Context, c *caller, password, what string) *localapi.Error {
	if s.cfg.Mode == localapi.ModeUserDemo {
		return nil
	}
	now := s.cfg.Now()
	c.user.mu.Lock()
	recent := c.user.failures[:0]
	for _, t := range c.user.failures {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	c.user.failures = recent
	tooMany := len(recent) >= maxPasswordFailures
	c.user.mu.Unlock()
	if tooMany {
		return errorf(http.StatusTooManyRequests, "password-attempts", "Too many wrong passwords for %s in the last minute; wait a minute and try again.", c.account.Name)
	}
	if password == "" {
		return errorf(http.StatusUnauthorized, "password-needed", "To %s, the service needs the password of the account %s (it checks it itself; no process can answer for you).", what, c.account.Name)
	}
	if s.cfg.CheckPassword == nil {
		return errorf(http.StatusForbidden, "password-unsupported", "This build of the Scispot MCP service cannot check passwords, so it cannot %s; ask your IT admin.", what)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.cfg.CheckPassword(ctx, c.account.Name, password); err != nil {
		c.user.mu.Lock()
		c.user.failures = append(c.user.failures, now)
		c.user.mu.Unlock()
		s.log.Warn("password check failed", "account", c.account.Name, "for", what, "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return errorf(http.StatusServiceUnavailable, "password-check", "The password could not be checked in time; try again.")
		}
		return errorf(http.StatusUnauthorized, "password-wrong", "That is not the password of the account %s, so the service did not %s.", c.account.Name, what)
	}
	return nil
}

// handleAnswer is POST confirm/answer: the person's decision on a write.
// Denying needs nothing. Signing — with a meaning that approves the write
// or one that rejects it — needs a meaning from the question's list, the
// reason when the policy asks for one, and the account password, which
// the service checks itself: that check is what makes the signature the
// person's (21 CFR 11.200: a signature component only its owner knows),
// and the record says so.
func (s *Service) handleAnswer(w http.ResponseWriter, r *http.Request, c *caller) {
	var a localapi.Answer
	if e := readJSON(r, &a); e != nil {
		writeError(w, e)
		return
	}
	c.user.mu.Lock()
	p, ok := c.user.pending[a.ID]
	c.user.mu.Unlock()
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "", "That write is no longer waiting for an answer (it was answered or timed out)."))
		return
	}
	ans := confirm.Answer{ID: a.ID, Approved: a.Approved, By: c.account.Name}
	if a.Approved {
		if e := checkSignature(p.req, &a); e != nil {
			writeError(w, e)
			return
		}
		if e := s.checkPerson(r.Context(), c, a.Password, "sign the write"); e != nil {
			writeError(w, e)
			return
		}
		ans.Meaning, ans.Reason = a.Meaning, a.Reason
		ans.Verified = s.cfg.Mode == localapi.ModeSystem
		ans.Name = c.account.Name
		if s.cfg.FullName != nil {
			if n, err := s.cfg.FullName(c.account.Name); err == nil && n != "" {
				ans.Name = n
			} else if err != nil {
				s.log.Warn("no printed name for the signer; the account name stands in", "account", c.account.Name, "err", err)
			}
		}
	}
	ans.At = s.cfg.Now().UTC()
	select {
	case p.answer <- ans:
		writeJSON(w, map[string]bool{"ok": true})
	default:
		writeError(w, errorf(http.StatusConflict, "", "That write was already answered."))
	}
}

// checkSignature refuses a signature that lacks its meaning or reason,
// before the password is checked (an incomplete form costs no attempt).
func checkSignature(q localapi.Confirmation, a *localapi.Answer) *localapi.Error {
	a.Reason = strings.TrimSpace(a.Reason)
	if len(q.Meanings) > 0 && !slices.Contains(q.Meanings, a.Meaning) {
		return errorf(http.StatusBadRequest, "signature-invalid", "Choose what your signature means: %s.", strings.Join(q.Meanings, ", "))
	}
	if q.ReasonRequired && a.Reason == "" {
		return errorf(http.StatusBadRequest, "reason-required", "Give the reason for the change: the admin policy requires one with every signature.")
	}
	if len(a.Reason) > maxReasonBytes {
		return errorf(http.StatusBadRequest, "signature-invalid", "The reason is longer than %d characters; say it in fewer words.", maxReasonBytes)
	}
	return nil
}

// maxReasonBytes bounds a reason for change.
const maxReasonBytes = 2000
