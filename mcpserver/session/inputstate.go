package session

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// The request state of an input_required result is what the client
// echoes back with its answer. It must not let a client (or an AI agent
// driving one) make up an approval: it is only an unguessable name for a
// question the gateway keeps itself, bound to the exact call and trail,
// answerable once, and only for a while.

// inputStateTTL is how long a question put through input_required waits
// for the client's retry: longer than the tray's minute, because the
// client shows it among other things, short enough that the value shown
// is still the value now.
const inputStateTTL = 5 * time.Minute

// maxPendingInputs bounds the questions a host keeps; a client that asks
// for more loses its oldest.
const maxPendingInputs = 32

// inputState is a question awaiting the client's retry.
type inputState struct {
	id      string
	trail   string // the audit session the call belongs to
	call    string // audit.CallDigest of the tool and arguments
	before  *audit.Value
	expires time.Time
}

// inputStates are a host's open questions.
type inputStates struct {
	mu      sync.Mutex
	pending []inputState
}

func newInputStateID() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// put keeps st, dropping expired questions and, beyond the bound, the
// oldest.
func (s *inputStates) put(st inputState, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.pending[:0]
	for _, p := range s.pending {
		if now.Before(p.expires) {
			kept = append(kept, p)
		}
	}
	if len(kept) >= maxPendingInputs {
		kept = append(kept[:0], kept[len(kept)-maxPendingInputs+1:]...)
	}
	s.pending = append(kept, st)
}

// take removes and returns the question named id, if it is still open.
// Taking is final: a state answers one retry, whatever that retry holds.
func (s *inputStates) take(id string, now time.Time) (inputState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.pending {
		if p.id != id {
			continue
		}
		s.pending = append(s.pending[:i], s.pending[i+1:]...)
		return p, now.Before(p.expires)
	}
	return inputState{}, false
}
