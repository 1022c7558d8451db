package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// HourWindow is the span MaxBytesPerHour counts over.
const HourWindow = time.Hour

// Usage file format, version 1:
//
//	{"v": 1,
//	 "minutes": [{"start": "2025-06-02T09:30:00Z", "bytes": 48213}, …],
//	 "damaged_until": "2025-06-02T10:41:00Z"}
//
// One entry per minute that passed results on, for the minutes still in the
// window; "damaged_until" is present while a damaged file is being paid for
// (see HourlyBudget). Bump usageVersion on any incompatible change: an
// unknown version reads as damaged, never as empty.
const usageVersion = 1

// bucketLife is how long a minute's bytes count. Bytes are counted per
// minute, so a bucket lives one minute longer than the window: every byte
// counts for at least an hour, never less (the guard errs on the strict
// side by under a minute).
const bucketLife = HourWindow + time.Minute

// maxBuckets bounds what a usage file may hold; more is damage.
const maxBuckets = 10_000

// lockRetry is how often a contended lock is retried. Sections under the
// lock are one small read or read-modify-write, so waits are short.
const lockRetry = time.Millisecond

type usageFile struct {
	V            int           `json:"v"`
	Minutes      []usageMinute `json:"minutes"`
	DamagedUntil *time.Time    `json:"damaged_until,omitempty"`
}

type usageMinute struct {
	Start time.Time `json:"start"`
	Bytes int64     `json:"bytes"`
}

// BudgetOptions adjusts a HourlyBudget. Nil and the zero value are valid.
type BudgetOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives notes about damaged usage files; nil discards them.
	Logger *slog.Logger
}

// HourlyBudget enforces MaxBytesPerHour, the bulk-export guard: at most
// limit result bytes passed to AI clients in any hour, per OS user per
// device, across every session and process. Its state is one small JSON
// file in the user's state directory (so per user and per device), read
// and written under a cross-process file lock (see write for how an update
// lands in one write), so it survives restarts and concurrent processes
// never lose each other's counts.
//
// The gateway calls it twice per call:
//
//   - Check before forwarding: when the hour's budget is already used up the
//     call is refused without reaching Scispot. Check only reads.
//   - Add once the result is known: the result's bytes are counted only if
//     they fit; a result that would take the hour past the limit is
//     refused, not passed on, and not counted (it never reached the AI).
//     Concurrent calls may all pass Check, but Add decides under the lock,
//     so the limit holds exactly.
//
// A damaged usage file (not JSON, an unknown version, impossible numbers)
// must not switch the guard off, and must not be a way to reset it: the
// file is set aside as <path>.damaged, logged, and the whole budget counts
// as used until an hour after the damaged file was last written. An empty
// or all-zero file, which is what a power cut can leave behind (the file is
// not fsynced, to keep the per-call cost low), reads as no usage; a file
// torn some other way reads as damaged, the strict side.
//
// A HourlyBudget is safe for concurrent use.
type HourlyBudget struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	// mu serialises this value's use of lock: a Flock tracks one holder,
	// so two goroutines must not share it at once.
	mu     sync.Mutex
	lock   *flock.Flock
	limit  int64
	warned bool // a damaged file was logged already by Check
	cache  usageCache
}

// usageCache is the usage file's content as this value last read or wrote
// it, and its decoding. Nothing changes either after they are stored.
type usageCache struct {
	raw    []byte
	parsed usageFile
}

// OpenHourlyBudget returns the budget kept in the file at path (which need
// not exist yet; its directory is created). A limit of 0 or less refuses
// every call.
func OpenHourlyBudget(path string, limit int64, opts *BudgetOptions) (*HourlyBudget, error) {
	if path == "" {
		return nil, errors.New("opening the hourly budget: no usage file path")
	}
	var o BudgetOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("opening the hourly budget: %w", err)
	}
	return &HourlyBudget{
		path:  path,
		now:   o.Now,
		log:   o.Logger,
		lock:  flock.New(path+".lock", flock.SetPermissions(0o600)),
		limit: limit,
	}, nil
}

// SetLimit changes the limit (after a policy change).
func (b *HourlyBudget) SetLimit(limit int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.limit = limit
}

// Path is the usage file.
func (b *HourlyBudget) Path() string { return b.path }

// Check reports how many bytes may still pass in this hour. When none may,
// it returns a *Refusal matching ErrHourlyBudget (and ErrUsageDamaged while
// a damaged file is paid for); when the usage file cannot be read, a
// *Refusal matching ErrUsageUnavailable. Any error means: refuse the call.
func (b *HourlyBudget) Check(ctx context.Context) (remaining int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	unlock, err := b.lockFile(ctx, false)
	if err != nil {
		return 0, err
	}
	defer unlock()

	now := b.now()
	st, damaged, err := b.read(now)
	if err != nil {
		return 0, b.unavailable("read", err)
	}
	if damaged && !b.warned {
		b.warned = true
		b.log.Warn("usage record damaged; the hourly budget counts as used up until an hour after it was last written",
			"path", b.path, "until", st.DamagedUntil)
	}
	if r := b.refusalBefore(st, now); r != nil {
		return 0, r
	}
	return b.limit - st.used(now), nil
}

// Add counts n result bytes if they fit in this hour's budget. When they
// do not, nothing is counted and it returns a *Refusal matching
// ErrHourlyBudget: the result must not be passed on. When the usage file
// cannot be read or written, a *Refusal matching ErrUsageUnavailable: the
// result must not be passed on either (it could not be counted).
func (b *HourlyBudget) Add(ctx context.Context, n int64) error {
	if n < 0 {
		return fmt.Errorf("counting result bytes: negative size %d", n)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	unlock, err := b.lockFile(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()

	now := b.now()
	st, damaged, err := b.read(now)
	if err != nil {
		return b.unavailable("read", err)
	}
	if damaged {
		if err := b.setAside(); err != nil {
			return b.unavailable("set aside", err)
		}
		if err := b.write(st); err != nil {
			return b.unavailable("update", err)
		}
	}
	if r := b.refusalBefore(st, now); r != nil {
		return r
	}
	used := st.used(now)
	if n > b.limit-used {
		return b.refusalAfter(st, now, used, n)
	}
	if n == 0 {
		return nil
	}
	minute := now.UTC().Truncate(time.Minute)
	if k := len(st.Minutes); k > 0 && st.Minutes[k-1].Start.Equal(minute) {
		st.Minutes[k-1].Bytes += n
	} else {
		st.Minutes = append(st.Minutes, usageMinute{Start: minute, Bytes: n})
	}
	if err := b.write(st); err != nil {
		return b.unavailable("update", err)
	}
	return nil
}

func (b *HourlyBudget) lockFile(ctx context.Context, exclusive bool) (unlock func(), err error) {
	try, tryCtx, what := b.lock.TryRLock, b.lock.TryRLockContext, "reading"
	if exclusive {
		try, tryCtx, what = b.lock.TryLock, b.lock.TryLockContext, "updating"
	}
	ok, err := try()
	if err == nil && !ok {
		ok, err = tryCtx(ctx, lockRetry)
	}
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting to lock the usage record for %s: %w", what, err)
		}
		return nil, b.unavailable("lock", err)
	}
	return func() {
		if err := b.lock.Unlock(); err != nil {
			b.log.Warn("unlocking the usage record", "path", b.path, "err", err)
		}
	}, nil
}

// read loads the usage state, pruned to the window. A damaged file comes
// back as damaged=true with a state that charges the whole budget until an
// hour after the file's last write.
func (b *HourlyBudget) read(now time.Time) (st usageFile, damaged bool, err error) {
	st.V = usageVersion
	raw, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	if len(bytes.Trim(raw, " \t\r\n\x00")) == 0 {
		return st, false, nil
	}
	f, perr := b.parse(raw)
	if perr != nil {
		info, serr := os.Stat(b.path)
		written := now
		if serr == nil && info.ModTime().Before(now) {
			written = info.ModTime()
		}
		until := written.Add(HourWindow).UTC()
		st.DamagedUntil = &until
		b.log.Debug("usage record damaged", "path", b.path, "err", perr)
		return st, true, nil
	}
	// Keep only what still counts. A minute stamped after now (the clock
	// stepped back) is moved to now: it still counts, for a full hour.
	cur := now.UTC().Truncate(time.Minute)
	for _, m := range f.Minutes {
		if m.Start.After(cur) {
			m.Start = cur
		}
		if now.Before(m.Start.Add(bucketLife)) && m.Bytes > 0 {
			st.Minutes = append(st.Minutes, m)
		}
	}
	if f.DamagedUntil != nil && now.Before(*f.DamagedUntil) {
		st.DamagedUntil = f.DamagedUntil
	}
	return st, false, nil
}

// parse decodes raw, reusing the last decode when the file is what this
// process last read or wrote, as it mostly is: decoding an hour of minutes
// would be most of a call's budget cost.
func (b *HourlyBudget) parse(raw []byte) (usageFile, error) {
	if b.cache.raw != nil && bytes.Equal(raw, b.cache.raw) {
		return b.cache.parsed, nil
	}
	var f usageFile
	if err := parseUsage(raw, &f); err != nil {
		b.cache = usageCache{}
		return usageFile{}, err
	}
	b.cache = usageCache{raw: raw, parsed: f}
	return f, nil
}

func parseUsage(raw []byte, f *usageFile) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data")
	}
	if f.V != usageVersion {
		return fmt.Errorf("unknown version %d", f.V)
	}
	if len(f.Minutes) > maxBuckets {
		return fmt.Errorf("%d minutes", len(f.Minutes))
	}
	for _, m := range f.Minutes {
		if m.Bytes < 0 || m.Start.IsZero() {
			return fmt.Errorf("impossible minute %v: %d bytes", m.Start, m.Bytes)
		}
	}
	return nil
}

// used is the bytes counted in the window; it saturates instead of
// overflowing on absurd files.
func (st *usageFile) used(now time.Time) int64 {
	var sum int64
	for _, m := range st.Minutes {
		if !now.Before(m.Start.Add(bucketLife)) {
			continue
		}
		if sum > (1<<63-1)-m.Bytes {
			return 1<<63 - 1
		}
		sum += m.Bytes
	}
	return sum
}

// freeAt is when the bytes counted now drop to at most target.
func (st *usageFile) freeAt(now time.Time, target int64) time.Time {
	used := st.used(now)
	for _, m := range st.Minutes { // oldest first
		if used <= target {
			break
		}
		if now.Before(m.Start.Add(bucketLife)) {
			used -= m.Bytes
			if used <= target {
				return m.Start.Add(bucketLife)
			}
		}
	}
	return now.Add(bucketLife)
}

// write stores st. The usual way is to overwrite the file in place with
// one write: no new file, no rename, so a call costs a few system calls and
// wakes the state folder's watchers (every serve's kill switch) once, not
// three times. The new content is padded with spaces to the old length so
// no stale tail is left and the one write is the whole change (JSON ignores
// trailing spaces). When the file is missing, or would shrink by more than
// maxPadding, it is replaced by temporary file and rename instead.
func (b *HourlyBudget) write(st usageFile) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	content, err := b.overwrite(data)
	if errors.Is(err, errReplace) {
		content, err = data, b.replace(data)
	}
	if err != nil {
		b.cache = usageCache{}
		return err
	}
	b.cache = usageCache{raw: content, parsed: st}
	b.cache.parsed.Minutes = slices.Clone(st.Minutes)
	return nil
}

// maxPadding is how much shorter new content may be than the file before
// the file is replaced rather than padded: about a page.
const maxPadding = 4096

// errReplace says the file must be replaced, not overwritten.
var errReplace = errors.New("usage file needs replacing")

// overwrite writes data over the file's start, padded to its old length,
// and returns the file's new content.
func (b *HourlyBudget) overwrite(data []byte) ([]byte, error) {
	f, err := os.OpenFile(b.path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errReplace
	}
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	pad := info.Size() - int64(len(data))
	if !info.Mode().IsRegular() || pad > maxPadding {
		f.Close()
		return nil, errReplace
	}
	if pad > 0 {
		data = append(data, bytes.Repeat([]byte{' '}, int(pad))...)
	}
	_, werr := f.WriteAt(data, 0)
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, err
	}
	return data, nil
}

// replace writes data to a temporary file and renames it over the file.
func (b *HourlyBudget) replace(data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(b.path), "."+filepath.Base(b.path)+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	// Readers and writers all hold the lock, so nothing has the file open
	// across the rename (which Windows would refuse).
	if err := os.Rename(tmp.Name(), b.path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}

// setAside keeps a damaged file for inspection, replacing an older one.
func (b *HourlyBudget) setAside() error {
	dst := b.path + ".damaged"
	if err := os.Rename(b.path, dst); err != nil {
		return err
	}
	b.log.Warn("usage record damaged; set aside, and the hourly budget counts as used up until an hour after it was last written",
		"path", b.path, "kept_as", dst)
	return nil
}

// unavailable is the refusal when the usage record cannot be used; verb
// says what failed ("read", "update", "lock", "set aside").
func (b *HourlyBudget) unavailable(verb string, err error) *Refusal {
	// The sentence names the path once, so it keeps only the OS's reason.
	cause := err
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	}
	return &Refusal{Rule: RuleHourlyBudget, err: fmt.Errorf("%w: %w", ErrUsageUnavailable, err),
		Sentence: fmt.Sprintf("Scispot MCP Desktop could not %s its usage record %s (%v), so it cannot apply the hourly limit your admin set (MaxBytesPerHour); check that the file and its folder belong to you and are writable.", verb, b.path, cause)}
}

// refusalBefore refuses a call when nothing may pass now.
func (b *HourlyBudget) refusalBefore(st usageFile, now time.Time) *Refusal {
	if b.limit <= 0 {
		return &Refusal{Rule: RuleHourlyBudget, err: ErrHourlyBudget,
			Sentence: "Your admin has set MaxBytesPerHour to 0, so no Scispot results may pass to AI tools on this computer; ask your admin if you need access."}
	}
	if st.DamagedUntil != nil && now.Before(*st.DamagedUntil) {
		wait := st.DamagedUntil.Sub(now)
		return &Refusal{Rule: RuleHourlyBudget, err: fmt.Errorf("%w: %w", ErrHourlyBudget, ErrUsageDamaged), RetryAfter: wait,
			Sentence: fmt.Sprintf("Scispot MCP Desktop's record of results passed to AI tools on this computer was damaged, so the hourly limit your admin set (MaxBytesPerHour) counts as used up for %d more min; the damaged file was kept as %s.", ceilMinutes(wait), filepath.Base(b.path)+".damaged")}
	}
	used := st.used(now)
	if used < b.limit {
		return nil
	}
	wait := st.freeAt(now, b.limit-1).Sub(now)
	return &Refusal{Rule: RuleHourlyBudget, err: ErrHourlyBudget, RetryAfter: wait,
		Sentence: fmt.Sprintf("Scispot results passed to AI tools on this computer reached %s in the last hour, the limit your admin set (MaxBytesPerHour); part of it frees up in %d min.", formatBytes(b.limit), ceilMinutes(wait))}
}

// refusalAfter refuses a result of n bytes that does not fit.
func (b *HourlyBudget) refusalAfter(st usageFile, now time.Time, used, n int64) *Refusal {
	size, limit := formatPair(n, b.limit)
	if n > b.limit {
		return &Refusal{Rule: RuleHourlyBudget, err: ErrHourlyBudget,
			Sentence: fmt.Sprintf("This result (%s) is larger than the %s per hour your admin allows to pass to AI tools (MaxBytesPerHour), so it was withheld; narrow the filter or ask for fewer rows per page.", size, limit)}
	}
	wait := st.freeAt(now, b.limit-n).Sub(now)
	total := int64(1<<63 - 1)
	if used <= total-n {
		total = used + n
	}
	sum, _ := formatPair(total, b.limit)
	return &Refusal{Rule: RuleHourlyBudget, err: ErrHourlyBudget, RetryAfter: wait,
		Sentence: fmt.Sprintf("This result (%s) would bring Scispot results passed to AI tools on this computer to %s in the last hour, over the %s your admin allows (MaxBytesPerHour), so it was withheld; retry in %d min or ask for fewer rows.", size, sum, limit, ceilMinutes(wait))}
}
