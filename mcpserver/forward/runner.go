package forward

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"
	"time"
)

// runner is the delivery loop of one destination.
type runner struct {
	dest     destination
	dir      string // cursor folder
	state    string // the service's state folder, where the trails are
	log      *slog.Logger
	now      func() time.Time
	debounce time.Duration
	wake     chan struct{}

	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// confirmed cursors are on disk: the destination has the records.
	confirmed map[string]Cursor
	// sent cursors are ahead of confirmed while a batch waits for its
	// ConfirmAfter; after a failure they fall back to confirmed.
	sent    map[string]Cursor
	pending []pendingBatch
	st      Status
	// counts caches backlog counts by trail for status.
	counts map[string]backlogCount
}

type pendingBatch struct {
	at      time.Time
	cursors []Cursor
}

func (f *Forwarder) newRunner(d destination) *runner {
	r := &runner{
		dest:     d,
		dir:      filepath.Join(f.cursorRoot(), d.ID()),
		state:    f.cfg.StateDir,
		log:      f.log.With("destination", d.Kind(), "endpoint", d.Endpoint()),
		now:      f.cfg.Now,
		debounce: f.cfg.Debounce,
		wake:     make(chan struct{}, 1),
		st:       Status{Kind: d.Kind(), Endpoint: d.Endpoint()},
	}
	cs, err := loadCursors(r.dir, func(name string, err error) {
		r.log.Warn("a delivery cursor is damaged; its trail is sent again from the start", "file", name, "err", err)
	})
	if err != nil {
		r.log.Warn("delivery cursors could not be read; trails are sent again from the start", "err", err)
		cs = map[string]Cursor{}
	}
	r.confirmed = cs
	r.sent = maps.Clone(cs)
	if err := d.Healthy(); err != nil {
		r.st.LastError, r.st.LastErrorTime = fmtErr(err), r.now()
	}
	return r
}

func (r *runner) start(ctx context.Context) {
	if r.cancel != nil {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.loop(ctx)
	}()
	r.wake <- struct{}{}
}

func (r *runner) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	r.dest.Close()
}

func (r *runner) loop(ctx context.Context) {
	attempt := 0
	var retry <-chan time.Time
	for {
		// Pending syslog batches become confirmed as time passes, so wake
		// up for them even when no record arrives.
		var confirmTick <-chan time.Time
		if d, ok := r.nextConfirm(); ok {
			confirmTick = time.After(d)
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			if retry != nil {
				continue // backing off; the timer will come
			}
			select {
			case <-time.After(r.debounce):
			case <-ctx.Done():
				return
			}
		case <-retry:
			retry = nil
		case <-confirmTick:
		}
		for {
			more, err := r.round(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				var se *sendError
				if !errors.As(err, &se) {
					se = &sendError{err: err}
				}
				d := backoff(attempt, se)
				attempt++
				r.log.Debug("delivery failed; retrying", "in", d, "err", err)
				retry = time.After(d)
				break
			}
			attempt = 0
			if !more {
				break
			}
		}
	}
}

// nextConfirm is when the oldest pending batch may be confirmed.
func (r *runner) nextConfirm() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return 0, false
	}
	return max(r.pending[0].at.Add(r.dest.ConfirmAfter()).Sub(r.now()), time.Millisecond), true
}

// round confirms what may be confirmed and sends one batch; more is true
// when there is more to send at once.
func (r *runner) round(ctx context.Context) (more bool, err error) {
	if err := r.confirm(); err != nil {
		return false, err
	}
	trails, err := listTrails(r.state)
	switch {
	case errors.Is(err, errPartialList):
		// Deliver what could be listed; forget nothing, since a trail
		// not listed may still be there (its cursor would be lost and
		// the whole trail sent again).
		r.log.Warn("listing the trails", "err", err)
	case err != nil:
		return false, err
	default:
		r.forget(trails)
	}
	r.mu.Lock()
	sent := maps.Clone(r.sent)
	r.mu.Unlock()

	// Trails with something to send are dealt out to the destination's
	// lanes, which send at once: a trail is in one lane per round and
	// rounds follow each other, so each trail stays in order.
	lanes := make([]lane, max(r.dest.Lanes(), 1))
	next := 0
	for _, tf := range trails {
		c := sent[tf.ID]
		if c.Offset > tf.Size {
			// The trail is shorter than what was delivered: it was cut or
			// replaced. Send it again from the start (duplicates are
			// harmless; the lab's verification shows the cut).
			r.log.Warn("a trail is shorter than what was delivered; sending it again from the start", "trail", tf.ID)
			c = Cursor{Trail: tf.ID}
			sent[tf.ID] = c
			r.mu.Lock()
			r.sent[tf.ID] = c
			r.mu.Unlock()
		}
		if c.Offset >= tf.Size {
			continue
		}
		l := -1
		for range lanes {
			if !lanes[next].full() {
				l = next
			}
			next = (next + 1) % len(lanes)
			if l >= 0 {
				break
			}
		}
		if l < 0 {
			more = true
			break
		}
		ln := &lanes[l]
		before := len(ln.items)
		ln.items, err = readItems(tf, c.Offset, maxBatchRecords-len(ln.items), maxBatchBytes-ln.bytes, ln.items)
		if err != nil {
			r.log.Warn("reading a trail", "trail", tf.ID, "err", err)
			continue
		}
		for _, it := range ln.items[before:] {
			ln.bytes += int64(len(it.Line)) + 1
		}
	}
	var wg sync.WaitGroup
	for i := range lanes {
		ln := &lanes[i]
		// A full lane means there may be more at once; a torn last line
		// alone waits for the next wake-up.
		more = more || ln.full()
		if len(ln.items) == 0 {
			continue
		}
		for _, it := range ln.items {
			if it.Line != nil {
				ln.records = append(ln.records, it)
			}
		}
		if len(ln.records) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ln.rejected, ln.err = r.dest.Send(ctx, ln.records)
		}()
	}
	wg.Wait()
	var firstErr error
	for i := range lanes {
		ln := &lanes[i]
		if ln.err != nil {
			firstErr = cmp.Or(firstErr, ln.err)
			continue
		}
		if len(ln.items) > 0 {
			r.commit(ln, sent)
		}
	}
	if firstErr != nil {
		r.failed(firstErr)
		return false, firstErr
	}
	return more, nil
}

// lane is one batch of a round.
type lane struct {
	items    []Item // lines read, blank ones included (they move cursors)
	records  []Item // what is sent
	bytes    int64
	rejected int64
	err      error
}

func (l *lane) full() bool { return len(l.items) >= maxBatchRecords || l.bytes >= maxBatchBytes }

// commit advances the cursor of every trail in a delivered lane to its
// last line; for destinations without acknowledgements it waits in
// pending for ConfirmAfter.
func (r *runner) commit(ln *lane, sent map[string]Cursor) {
	last := map[string]Cursor{}
	for _, it := range ln.items {
		c, ok := last[it.Trail]
		if !ok {
			c = sent[it.Trail]
			c.Trail = it.Trail
		}
		c.Offset = it.end
		if it.Line != nil && !it.Bad {
			c.Seq, c.Hash = it.Fields.Seq, it.Fields.Hash
		}
		last[it.Trail] = c
	}
	cs := make([]Cursor, 0, len(last))
	for _, c := range last {
		cs = append(cs, c)
	}
	now := r.now()
	r.mu.Lock()
	for _, c := range cs {
		r.sent[c.Trail] = c
	}
	r.st.Connected = true
	r.st.LastDelivery = now
	r.st.Delivered += int64(len(ln.records))
	r.st.Rejected += ln.rejected
	if ln.rejected > 0 {
		// Acknowledged, so not sent again: the receiver's own logs say
		// why (its partial-success message is in them too).
		r.log.Warn("the receiver acknowledged records but rejected some", "rejected", ln.rejected)
	}
	r.st.LastError, r.st.LastErrorTime = "", time.Time{}
	if r.dest.ConfirmAfter() > 0 {
		r.pending = append(r.pending, pendingBatch{at: now, cursors: cs})
		r.mu.Unlock()
		return
	}
	for _, c := range cs {
		r.confirmed[c.Trail] = c
	}
	r.mu.Unlock()
	if err := saveCursors(r.dir, cs); err != nil {
		// The records are delivered; a cursor not saved only means they
		// go again after a restart.
		r.log.Warn("saving delivery cursors", "err", err)
	}
}

// confirm moves pending batches older than ConfirmAfter to confirmed, if
// the destination still looks healthy; otherwise everything pending is
// sent again.
func (r *runner) confirm() error {
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	if err := r.dest.Healthy(); err != nil {
		r.failed(err)
		return &sendError{err: err}
	}
	now := r.now()
	var cs []Cursor
	r.mu.Lock()
	for len(r.pending) > 0 && !r.pending[0].at.Add(r.dest.ConfirmAfter()).After(now) {
		for _, c := range r.pending[0].cursors {
			r.confirmed[c.Trail] = c
		}
		cs = append(cs, r.pending[0].cursors...)
		r.pending = r.pending[1:]
	}
	r.mu.Unlock()
	if err := saveCursors(r.dir, dedupe(cs)); err != nil {
		r.log.Warn("saving delivery cursors", "err", err)
	}
	return nil
}

// dedupe keeps the last cursor of each trail.
func dedupe(cs []Cursor) []Cursor {
	last := map[string]int{}
	for i, c := range cs {
		last[c.Trail] = i
	}
	out := make([]Cursor, 0, len(last))
	for i, c := range cs {
		if last[c.Trail] == i {
			out = append(out, c)
		}
	}
	return out
}

// failed records an error and rewinds what was sent but not confirmed.
func (r *runner) failed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Connected = false
	r.st.LastError, r.st.LastErrorTime = fmtErr(err), r.now()
	r.sent = maps.Clone(r.confirmed)
	r.pending = nil
}

// forget drops cursors of trails whose files are gone (removed by
// retention): nothing is left to deliver.
func (r *runner) forget(trails []trailFile) {
	present := make(map[string]bool, len(trails))
	for _, t := range trails {
		present[t.ID] = true
	}
	r.mu.Lock()
	var gone []string
	for id := range r.confirmed {
		if !present[id] {
			gone = append(gone, id)
			delete(r.confirmed, id)
			delete(r.sent, id)
		}
	}
	r.mu.Unlock()
	for _, id := range gone {
		if err := removeCursor(r.dir, id); err != nil {
			r.log.Warn("removing a delivery cursor", "trail", id, "err", err)
		}
	}
}

// status reports the destination with its backlog counted from the
// confirmed cursors.
func (r *runner) status(trails []trailFile) Status {
	r.mu.Lock()
	st := r.st
	confirmed := maps.Clone(r.confirmed)
	r.mu.Unlock()
	counts := map[string]backlogCount{}
	for _, tf := range trails {
		off := confirmed[tf.ID].Offset
		if off >= tf.Size {
			continue
		}
		r.mu.Lock()
		prev := r.counts[tf.ID]
		r.mu.Unlock()
		c, err := backlog(tf.Path, off, tf.Size, prev)
		if err != nil {
			continue
		}
		counts[tf.ID] = c
		st.Backlog += c.records
		if c.records > 0 && !c.oldest.IsZero() && (st.Oldest.IsZero() || c.oldest.Before(st.Oldest)) {
			st.Oldest = c.oldest
		}
	}
	r.mu.Lock()
	r.counts = counts
	r.mu.Unlock()
	return st
}

// oldest is the time of the oldest record not confirmed.
func (r *runner) oldest(trails []trailFile) (time.Time, bool) {
	r.mu.Lock()
	confirmed := maps.Clone(r.confirmed)
	r.mu.Unlock()
	var oldest time.Time
	found := false
	for _, tf := range trails {
		off := confirmed[tf.ID].Offset
		if off >= tf.Size {
			continue
		}
		t, ok, err := firstUndelivered(tf.Path, off)
		if err != nil || !ok || t.IsZero() {
			continue
		}
		if !found || t.Before(oldest) {
			oldest, found = t, true
		}
	}
	return oldest, found
}
