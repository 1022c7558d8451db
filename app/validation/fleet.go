package validation

import (
	"context"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// OQ-14: when the policy names audit destinations (AuditOTLPEndpoint,
// AuditSyslog), a record of this run reaches each of them. The service
// reports per destination when it last delivered and the oldest record
// still waiting (localapi.AuditDestination, as `status` and the tray's
// Diagnostics show it); the run reads that, since the receiver itself is
// the lab's and out of its reach.

// fleetWait bounds how long the case waits for delivery: the forwarder
// sends within milliseconds of a record being written when the receiver
// is up, and retries with a backoff when it is not.
const fleetWait = 30 * time.Second

// fleetPoll is how often the case reads the service's status meanwhile.
const fleetPoll = 250 * time.Millisecond

// delivery is where one destination stands with the run's record.
type delivery int

const (
	deliveryPending delivery = iota
	deliveryDone
	deliveryRejected
)

// deliveredRecord judges destination d as the service reports it now,
// against its report at the run's start (zero when it was not configured
// then), for the run's record written at t. Delivered means the
// destination acknowledged something since t and no record from t or
// before still waits for it (cursors advance in order within a trail, and
// the backlog's oldest record is after t or there is none). Records the
// receiver acknowledged but refused since the start (OTLP partial
// success) are not delivered to anyone who can read them.
func deliveredRecord(d, atStart localapi.AuditDestination, t time.Time) delivery {
	switch {
	case d.Rejected > atStart.Rejected:
		return deliveryRejected
	case d.LastDelivery.Before(t):
		return deliveryPending
	case d.Backlog == 0 || d.OldestUndelivered.After(t):
		return deliveryDone
	}
	return deliveryPending
}

func (r *run) checkFleet(ctx context.Context, c *Case) {
	st, err := r.o.Service.Status(ctx, localapi.StatusRequest{})
	if err != nil {
		c.fail("asking the service for its audit destinations: %v", err)
		return
	}
	if len(st.AuditDestinations) == 0 {
		c.skip("not applicable: the policy names no audit destination (AuditOTLPEndpoint, AuditSyslog), so the records stay in this workstation's trail")
		return
	}
	recs, err := r.records(ctx)
	if err != nil {
		c.fail("%v", err)
		return
	}
	if len(recs) == 0 {
		c.fail("no record of this validation run was found in the trail to look for")
		return
	}
	rec := recs[len(recs)-1]
	c.note("record", "%s seq %d hash %s time %s", rec.Event, rec.Seq, short(rec.Hash), rec.Time.Format(time.RFC3339Nano))
	atStart := func(d localapi.AuditDestination) localapi.AuditDestination {
		for _, s := range r.status.AuditDestinations {
			if s.Kind == d.Kind && s.Endpoint == d.Endpoint {
				return s
			}
		}
		return localapi.AuditDestination{}
	}
	deadline := time.Now().Add(fleetWait)
	for {
		pending := 0
		for _, d := range st.AuditDestinations {
			switch deliveredRecord(d, atStart(d), rec.Time) {
			case deliveryRejected:
				c.note(d.Kind+" "+d.Endpoint, "%s", d.Describe(time.Now()))
				c.fail("the %s destination %s refused %d record(s) since the run began", d.Kind, d.Endpoint, d.Rejected-atStart(d).Rejected)
				return
			case deliveryPending:
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			var waiting []string
			for _, d := range st.AuditDestinations {
				c.note(d.Kind+" "+d.Endpoint, "%s", d.Describe(time.Now()))
				if deliveredRecord(d, atStart(d), rec.Time) == deliveryPending {
					waiting = append(waiting, d.Kind+" "+d.Endpoint)
				}
			}
			c.fail("the run's record (seq %d) did not reach %s within %s", rec.Seq, strings.Join(waiting, ", "), fleetWait)
			return
		}
		t := time.NewTimer(fleetPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			c.fail("interrupted while waiting for delivery: %v", ctx.Err())
			return
		case <-t.C:
		}
		if st, err = r.o.Service.Status(ctx, localapi.StatusRequest{}); err != nil {
			c.fail("asking the service for its audit destinations: %v", err)
			return
		}
	}
	var names []string
	for _, d := range st.AuditDestinations {
		c.note(d.Kind+" "+d.Endpoint, "last delivery %s; %s", d.LastDelivery.UTC().Format(time.RFC3339Nano), d.Describe(time.Now()))
		names = append(names, d.Kind+" "+d.Endpoint)
	}
	c.pass("the run's record seq %d (%s) was delivered to %s", rec.Seq, rec.Time.UTC().Format(time.RFC3339), strings.Join(names, ", "))
}
