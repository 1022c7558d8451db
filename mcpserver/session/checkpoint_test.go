package session_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/session"
)

// The host signs a checkpoint into a trail each period that saw new
// records, none in a quiet one, and one after session.end.
func TestCheckpointsEveryPeriodWithActivityAndAtTheEnd(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, audit.SignerName("device-1"))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	w := newWorldWith(t, "", func(c *session.Config) {
		c.Checkpoints, c.CheckpointEvery = signer, 40*time.Millisecond
	})
	cs := w.connect(t)
	checkpoints := func() (n int, last audit.Record) {
		recs, _ := w.records(t)
		for _, r := range recs {
			if r.Event == audit.EventCheckpoint {
				n++
			}
		}
		if len(recs) > 0 {
			last = recs[len(recs)-1]
		}
		return n, last
	}
	// settled waits until the trail's last record is a checkpoint that
	// follows more than `after` others, and returns how many there are.
	settled := func(after int) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n, last := checkpoints()
			if n > after && last.Event == audit.EventCheckpoint {
				return n
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d checkpoints, the last record is %s", n, last.Event)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	call(t, cs, "list_labsheets", map[string]any{})
	n := settled(0)
	time.Sleep(200 * time.Millisecond) // quiet periods: no checkpoint
	if again, _ := checkpoints(); again != n {
		t.Fatalf("%d checkpoints after quiet periods, want %d", again, n)
	}
	call(t, cs, "list_labsheets", map[string]any{})
	n = settled(n)
	cs.Close()
	settled(n)
	recs, _ := w.records(t)
	if n := len(recs); recs[n-1].Event != audit.EventCheckpoint || recs[n-2].Event != audit.EventSessionEnd {
		t.Fatalf("the trail ends with %s, %s", recs[n-2].Event, recs[n-1].Event)
	}
	rep, err := audit.Verify(context.Background(), statedir.AuditDir(w.state), audit.WithKeys(note.VerifierList(verifier)))
	if err != nil || !rep.OK() || rep.Totals.OK != 1 {
		t.Fatalf("verify: %v\n%+v", err, rep)
	}
}
