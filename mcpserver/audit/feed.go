package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ErrFeedStarted is returned by a second call to Feed.Run.
var ErrFeedStarted = errors.New("audit feed is already running")

// FeedOptions configures NewFeed. The zero value is ready to use.
type FeedOptions struct {
	// Alive reports whether a process runs; nil means ProcessAlive.
	Alive func(pid int) bool
	// Logger receives problems with single files; nil discards them.
	Logger *slog.Logger
}

// SessionState is a live session as the feed sees it.
type SessionState struct {
	Session   string
	PID       int
	User      string
	Device    string
	Client    Client
	Transport Transport
	Started   time.Time // time of its session.start
	LastSeen  time.Time // time of its latest record
	File      string    // the session file's name
}

// Feed follows an audit folder and delivers every record appended after it
// started (for `audit tail -f` and the tray's live activity), and keeps
// track of live sessions. It watches the folder with fsnotify; nothing
// polls.
//
// A record counts as appended once its line is complete: a partly written
// line waits for its newline. Records already in the folder when Run
// starts are not delivered (Read returns them); every record completed after
// Ready is closed is delivered exactly once. To show history and then follow
// without a gap, Subscribe, start Run, wait for Ready, Read, and skip feed
// records already shown (same session and seq).
type Feed struct {
	dir   string
	alive func(int) bool
	log   *slog.Logger
	ready chan struct{}

	mu      sync.Mutex
	started bool
	stopped bool
	subs    map[*subscriber]struct{}
	live    map[string]SessionState // by file name

	// Owned by the Run goroutine.
	files map[string]*followed // by file name
	buf   []byte
}

type followed struct {
	offset int64 // just past the last complete line handled
}

type subscriber struct {
	ch   chan Record
	done chan struct{}
	once sync.Once
}

// NewFeed returns a Feed for dir. Nothing happens until Run.
func NewFeed(dir string, opts FeedOptions) *Feed {
	alive := opts.Alive
	if alive == nil {
		alive = ProcessAlive
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{
		dir:   dir,
		alive: alive,
		log:   log,
		ready: make(chan struct{}),
		subs:  map[*subscriber]struct{}{},
		live:  map[string]SessionState{},
		files: map[string]*followed{},
	}
}

// Ready is closed once Run has started watching and has taken stock of the
// files already there.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Subscribe returns a channel that receives every new record, in the order
// of each file's lines, and a function that ends the subscription (the
// channel is then left open but receives nothing more). The channel is
// closed when Run returns. A subscriber that does not keep up holds back
// delivery to all (records are never dropped); buf sets its channel's
// buffer.
func (f *Feed) Subscribe(buf int) (<-chan Record, func()) {
	s := &subscriber{ch: make(chan Record, max(buf, 0)), done: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		close(s.ch)
		return s.ch, func() {}
	}
	f.subs[s] = struct{}{}
	return s.ch, func() {
		s.once.Do(func() { close(s.done) })
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}
}

// Sessions returns the live sessions, oldest first: files that start with
// session.start, have no session.end, and whose process is alive.
func (f *Feed) Sessions() []SessionState {
	f.mu.Lock()
	states := make([]SessionState, 0, len(f.live))
	for _, s := range f.live {
		states = append(states, s)
	}
	f.mu.Unlock()
	// The pid check runs outside the lock: it is a system call per session.
	states = slices.DeleteFunc(states, func(s SessionState) bool { return !f.alive(s.PID) })
	slices.SortFunc(states, func(a, b SessionState) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.File, b.File)
	})
	return states
}

// Run watches the folder (creating it 0700 if missing) until ctx is done,
// then closes every subscriber's channel and returns nil. It returns an
// error if watching cannot start. Run may be called once.
func (f *Feed) Run(ctx context.Context) error {
	f.mu.Lock()
	if f.started {
		f.mu.Unlock()
		return ErrFeedStarted
	}
	f.started = true
	f.mu.Unlock()
	defer f.stop()

	if err := ensureDir(f.dir); err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("starting audit folder watcher: %w", err)
	}
	defer w.Close()
	// Watch before taking stock, so no file slips between the two.
	if err := w.Add(f.dir); err != nil {
		return fmt.Errorf("watching audit folder: %w", err)
	}
	names, err := listFiles(f.dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		f.takeStock(name)
	}
	close(f.ready)

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			f.handle(ctx, ev)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: catch up on every file.
				f.log.Warn("audit feed: watcher overflowed, rescanning", "dir", f.dir)
				f.rescan(ctx)
				continue
			}
			f.log.Warn("audit feed: watcher error", "err", err)
		}
	}
}

func (f *Feed) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	for s := range f.subs {
		close(s.ch)
	}
	clear(f.subs)
}

func (f *Feed) handle(ctx context.Context, ev fsnotify.Event) {
	name := filepath.Base(ev.Name)
	if !strings.HasSuffix(name, FileExt) || filepath.Clean(filepath.Dir(ev.Name)) != filepath.Clean(f.dir) {
		return
	}
	switch {
	case ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write):
		f.follow(ctx, name)
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		delete(f.files, name)
		f.mu.Lock()
		delete(f.live, name)
		f.mu.Unlock()
	}
}

func (f *Feed) rescan(ctx context.Context) {
	names, err := listFiles(f.dir)
	if err != nil {
		f.log.Warn("audit feed: rescanning", "err", err)
		return
	}
	for _, name := range names {
		f.follow(ctx, name)
	}
}

// takeStock records a file present when Run starts: its live-session state
// from its first and last lines, and its end as the place to follow from.
// Nothing is delivered.
func (f *Feed) takeStock(name string) {
	path := filepath.Join(f.dir, name)
	fh, err := os.Open(path)
	if err != nil {
		f.log.Warn("audit feed: opening file", "file", name, "err", err)
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		f.log.Warn("audit feed: reading file", "file", name, "err", err)
		return
	}
	size := st.Size()
	const chunk = 64 << 10
	head := make([]byte, min(size, chunk))
	if _, err := io.ReadFull(fh, head); err != nil {
		f.log.Warn("audit feed: reading file", "file", name, "err", err)
		return
	}
	tail := head
	tailStart := int64(0)
	if size > chunk {
		tailStart = size - chunk
		tail = make([]byte, chunk)
		if _, err := fh.ReadAt(tail, tailStart); err != nil {
			f.log.Warn("audit feed: reading file", "file", name, "err", err)
			return
		}
	}
	end := bytes.LastIndexByte(tail, '\n')
	if end < 0 {
		// No complete line in the tail: follow from the start if the
		// file is that small, else from the end of the head's lines.
		if size <= chunk {
			f.files[name] = &followed{offset: 0}
			return
		}
		f.files[name] = &followed{offset: size}
		return
	}
	f.files[name] = &followed{offset: tailStart + int64(end) + 1}

	firstEnd := bytes.IndexByte(head, '\n')
	if firstEnd < 0 {
		return
	}
	first, err := parseRecord(head[:firstEnd])
	if err != nil || first.Event != EventSessionStart {
		return
	}
	// The last record that is not a checkpoint: the service writes one
	// after session.end.
	var last Record
	for lines := tail[:end]; ; {
		lastStart := bytes.LastIndexByte(lines, '\n') + 1
		last, err = parseRecord(lines[lastStart:])
		if err != nil || last.Event != EventCheckpoint || lastStart == 0 {
			break
		}
		lines = lines[:lastStart-1]
	}
	if err != nil || last.Event == EventSessionEnd {
		return
	}
	st2 := stateFrom(name, first)
	st2.LastSeen = last.Time
	f.mu.Lock()
	f.live[name] = st2
	f.mu.Unlock()
}

func stateFrom(name string, r Record) SessionState {
	return SessionState{
		Session:   r.Session,
		PID:       r.PID,
		User:      r.User,
		Device:    r.Device,
		Client:    r.Client,
		Transport: r.Transport,
		Started:   r.Time,
		LastSeen:  r.Time,
		File:      name,
	}
}

// follow reads a file's new complete lines and delivers their records. A
// file not seen before is new since Run started and is read from its start.
func (f *Feed) follow(ctx context.Context, name string) {
	st := f.files[name]
	if st == nil {
		st = &followed{}
		f.files[name] = st
	}
	fh, err := os.Open(filepath.Join(f.dir, name))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.log.Warn("audit feed: opening file", "file", name, "err", err)
		}
		return
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		f.log.Warn("audit feed: reading file", "file", name, "err", err)
		return
	}
	if info.Size() < st.offset {
		f.log.Warn("audit feed: file shrank; following from its new end", "file", name)
		st.offset = info.Size()
		return
	}
	if info.Size() == st.offset {
		return
	}
	n := info.Size() - st.offset
	if int64(cap(f.buf)) < n {
		f.buf = make([]byte, n)
	}
	buf := f.buf[:n]
	got, err := fh.ReadAt(buf, st.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		f.log.Warn("audit feed: reading file", "file", name, "err", err)
		return
	}
	buf = buf[:got]
	for {
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			return // a partly written line waits for its newline
		}
		line := buf[:nl]
		buf = buf[nl+1:]
		st.offset += int64(nl + 1)
		r, err := parseRecord(line)
		if err != nil {
			f.log.Warn("audit feed: skipping unreadable line", "file", name, "err", err)
			continue
		}
		f.track(name, r)
		if !f.deliver(ctx, r) {
			return
		}
	}
}

// track updates the live sessions with a new record.
func (f *Feed) track(name string, r Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Event {
	case EventSessionStart:
		f.live[name] = stateFrom(name, r)
	case EventSessionEnd:
		delete(f.live, name)
	default:
		if s, ok := f.live[name]; ok {
			s.LastSeen = r.Time
			f.live[name] = s
		}
	}
}

// deliver sends r to every subscriber; false when ctx ended first.
func (f *Feed) deliver(ctx context.Context, r Record) bool {
	f.mu.Lock()
	subs := make([]*subscriber, 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- r:
		case <-s.done:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
