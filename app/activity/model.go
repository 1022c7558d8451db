// Package activity is the tray's Activity window: a live table of tool
// calls across every session, filters, a details pane, the live sessions
// with a Stop button each, and a calls-per-minute chart of the last hour.
//
// Model holds every rule (what is a row, newest first, filtering, the cap,
// the chart's buckets, the details' text) and is tested without a display;
// the Fyne view only renders it. Records and live sessions come from the
// workstation service (its trail, then its event stream); they reach the
// model on the follower's goroutine and the view through fyne.Do, so
// widgets are only touched on the UI thread.
package activity

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// DefaultMaxRows is how many calls the window keeps: the newest 100,000,
// a few tens of MB for typical arguments (each record's args are capped at
// audit.MaxArgsBytes by the writer). Older calls stay in the audit trail
// and its export.
const DefaultMaxRows = 100_000

// ChartMinutes is the span of the calls-per-minute chart.
const ChartMinutes = 60

// Outcome filter values besides the audit outcomes.
const OutcomeAll = ""

// Filter selects rows. Zero fields match everything.
type Filter struct {
	// Text matches, case-insensitively, the tool, client, arguments,
	// reason, session, user and flags.
	Text string
	// Outcome is audit.OutcomeOK, OutcomeError, OutcomeDenied or OutcomeAll.
	Outcome audit.Outcome
	// Client is a client name, or "" for all.
	Client string
}

func (f Filter) match(r *audit.Record, lowerText string) bool {
	if f.Outcome != OutcomeAll && outcomeOf(r) != f.Outcome {
		return false
	}
	if f.Client != "" && r.Client.Name != f.Client {
		return false
	}
	if lowerText == "" {
		return true
	}
	for _, s := range []string{r.Tool, r.Client.Name, string(r.Args), r.Reason, r.Session, r.User, strings.Join(r.Flags, " ")} {
		if strings.Contains(strings.ToLower(s), lowerText) {
			return true
		}
	}
	return false
}

// IsCall reports whether a record is a tool call the window lists: a call
// that ran (tool.call) or one the gateway refused (tool.denied).
func IsCall(r audit.Record) bool {
	return r.Event == audit.EventToolCall || r.Event == audit.EventToolDenied
}

// outcomeOf treats a tool.denied record without an outcome as denied.
func outcomeOf(r *audit.Record) audit.Outcome {
	if r.Outcome == "" && r.Event == audit.EventToolDenied {
		return audit.OutcomeDenied
	}
	return r.Outcome
}

// Model is the Activity window's state. It is safe for concurrent use; the
// view calls it on the UI thread, the single-instance socket reads Total
// from its own goroutine.
type Model struct {
	mu  sync.Mutex
	max int
	loc *time.Location

	// rows is a ring of the newest calls: the row with id i is at
	// rows[i%max]; ids first..next-1 are kept.
	rows        []audit.Record
	first, next uint64
	// seen is the highest seq taken per session, so the history read and
	// the live feed can overlap without duplicates.
	seen map[string]int64

	filter    Filter
	lowerText string
	// visible are the ids matching filter, oldest first.
	visible []uint64

	clients  map[string]bool
	sessions []localapi.Session
	err      error
}

// NewModel returns an empty model keeping at most max rows (DefaultMaxRows
// when max <= 0). Times are shown in loc (time.Local when nil).
func NewModel(max int, loc *time.Location) *Model {
	if max <= 0 {
		max = DefaultMaxRows
	}
	if loc == nil {
		loc = time.Local
	}
	return &Model{max: max, loc: loc, seen: map[string]int64{}, clients: map[string]bool{}}
}

// Add takes records in the order they were written (history first, then
// the feed). Records that are not calls, and records already taken (same
// session, seq not higher), are ignored. It reports how many rows it added.
func (m *Model) Add(recs ...audit.Record) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := 0
	for _, r := range recs {
		if r.Seq <= m.seen[r.Session] {
			continue
		}
		m.seen[r.Session] = r.Seq
		if !IsCall(r) {
			continue
		}
		if m.rows == nil {
			m.rows = make([]audit.Record, 0, min(m.max, 1024))
		}
		id := m.next
		m.next++
		if len(m.rows) < m.max {
			m.rows = append(m.rows, r)
		} else {
			m.rows[id%uint64(m.max)] = r
		}
		if m.next-m.first > uint64(m.max) {
			m.first++
		}
		if r.Client.Name != "" {
			m.clients[r.Client.Name] = true
		}
		if m.filter.match(&r, m.lowerText) {
			m.visible = append(m.visible, id)
		}
		added++
	}
	// Drop the ids that fell out of the ring.
	i := 0
	for i < len(m.visible) && m.visible[i] < m.first {
		i++
	}
	if i > 0 {
		m.visible = slices.Delete(m.visible, 0, i)
	}
	return added
}

func (m *Model) recordLocked(id uint64) *audit.Record {
	return &m.rows[id%uint64(m.max)]
}

// SetFilter changes the filter and recomputes the visible rows.
func (m *Model) SetFilter(f Filter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.filter = f
	m.lowerText = strings.ToLower(strings.TrimSpace(f.Text))
	m.visible = m.visible[:0]
	for id := m.first; id < m.next; id++ {
		if m.filter.match(m.recordLocked(id), m.lowerText) {
			m.visible = append(m.visible, id)
		}
	}
}

// Filter returns the current filter.
func (m *Model) Filter() Filter {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.filter
}

// Len is the number of rows the filter shows.
func (m *Model) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.visible)
}

// Total is the number of calls kept, whatever the filter.
func (m *Model) Total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int(m.next - m.first)
}

// Record returns the i-th visible row, newest first.
func (m *Model) Record(i int) (audit.Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 || i >= len(m.visible) {
		return audit.Record{}, false
	}
	return *m.recordLocked(m.visible[len(m.visible)-1-i]), true
}

// Visible returns the rows the filter shows, oldest first (for export).
func (m *Model) Visible() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]audit.Record, len(m.visible))
	for i, id := range m.visible {
		out[i] = *m.recordLocked(id)
	}
	return out
}

// Clients are the client names seen, sorted.
func (m *Model) Clients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.clients))
	for c := range m.clients {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// SetSessions replaces the live sessions (the service's status lists
// them oldest first).
func (m *Model) SetSessions(s []localapi.Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions = slices.Clone(s)
}

// Sessions are the live sessions, newest first.
func (m *Model) Sessions() []localapi.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.sessions)
	slices.Reverse(out)
	return out
}

// SetError records a problem the window must show (the history could not
// be read, the feed stopped); nil clears it.
func (m *Model) SetError(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Err is the problem to show, if any.
func (m *Model) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Columns are the table's headers; Cells gives a row in the same order.
func Columns() []string {
	return []string{"Time", "AI client", "Tool", "Arguments", "Outcome", "Duration", "Size", "Flags"}
}

// Cells renders a record as the table shows it.
func (m *Model) Cells(r audit.Record) []string {
	return []string{
		r.Time.In(m.loc).Format("15:04:05"),
		clientLabel(r.Client),
		r.Tool,
		ArgSummary(r.Args, 80),
		string(outcomeOf(&r)),
		duration(r),
		Size(r.ResultBytes),
		strings.Join(r.Flags, ", "),
	}
}

func clientLabel(c audit.Client) string {
	if c.Name == "" {
		return "unknown client"
	}
	return c.Name
}

func duration(r audit.Record) string {
	if r.Event == audit.EventToolDenied && r.DurationMS == 0 {
		return ""
	}
	return fmt.Sprintf("%d ms", r.DurationMS)
}

// Size renders a byte count the way people read it.
func Size(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1000/1000)
	}
}

// ArgSummary is the arguments on one line, at most max runes: compact
// JSON without the outer braces, control characters removed.
func ArgSummary(args json.RawMessage, max int) string {
	if len(args) == 0 {
		return ""
	}
	s := string(args)
	var v map[string]any
	if json.Unmarshal(args, &v) == nil {
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			b, _ := json.Marshal(v[k])
			parts = append(parts, k+"="+string(b))
		}
		s = strings.Join(parts, " ")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// Bucket is one minute of the chart.
type Bucket struct {
	Start  time.Time
	OK     int // calls that ran (ok or error)
	Denied int // calls refused by policy or guards
}

// Chart counts the calls of the last ChartMinutes minutes before now, one
// bucket per minute, oldest first. Denied calls are counted apart. The
// filter does not apply: the chart is the whole workstation's load.
func (m *Model) Chart(now time.Time) []Bucket {
	end := now.Truncate(time.Minute).Add(time.Minute)
	start := end.Add(-ChartMinutes * time.Minute)
	out := make([]Bucket, ChartMinutes)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * time.Minute)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Rows arrive roughly in time order, so walk back from the newest and
	// stop well past the window (sessions may interleave a little).
	for id := m.next; id > m.first; id-- {
		r := m.recordLocked(id - 1)
		if r.Time.Before(start.Add(-time.Minute)) {
			break
		}
		if r.Time.Before(start) || !r.Time.Before(end) {
			continue
		}
		b := &out[int(r.Time.Sub(start)/time.Minute)]
		if outcomeOf(r) == audit.OutcomeDenied {
			b.Denied++
		} else {
			b.OK++
		}
	}
	return out
}

// Field is one line of the details pane.
type Field struct {
	Label, Value string
}

// Details are the fields of a record for the details pane. chain is the
// verdict on the record's file, "" while it is being checked.
func (m *Model) Details(r audit.Record, chain string) []Field {
	args := ""
	if len(r.Args) > 0 {
		var v any
		if json.Unmarshal(r.Args, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			args = string(b)
		} else {
			args = string(r.Args)
		}
	}
	client := clientLabel(r.Client)
	if r.Client.Version != "" {
		client += " " + r.Client.Version
	}
	if chain == "" {
		chain = "checking…"
	}
	f := []Field{
		{"Time", r.Time.In(m.loc).Format("2006-01-02 15:04:05.000 MST")},
		{"Tool", r.Tool},
		{"Outcome", string(outcomeOf(&r))},
		{"Reason", r.Reason},
		{"AI client", client},
		{"Duration", duration(r)},
		{"Result size", Size(r.ResultBytes)},
		{"Flags", strings.Join(r.Flags, ", ")},
		{"Arguments", args},
		{"Signature", signatureLink(r.Signature)},
		{"Previous value", changeValue(r.Change, true)},
		{"New value", changeValue(r.Change, false)},
		{"User", r.User},
		{"Session", r.Session},
		{"Process", pid(r.PID)},
		{"Transport", string(r.Transport)},
		{"Device", r.Device},
		{"Token fingerprint", r.Token},
		{"Record", fmt.Sprintf("seq %d, hash %s", r.Seq, short(r.Hash))},
		{"Audit chain", chain},
	}
	return slices.DeleteFunc(f, func(f Field) bool { return f.Value == "" })
}

// signatureLink names the signature record a call's record links.
func signatureLink(s *audit.Signature) string {
	if s == nil || s.Record == "" {
		return ""
	}
	return "signature " + short(s.ID) + ", record " + short(s.Record) + " (audit export --signatures shows who signed, the meaning and the reason)"
}

// changeValue is a write's previous (or new) value as recorded: the value
// when it is kept inline, its size and digest otherwise.
func changeValue(c *audit.Change, before bool) string {
	if c == nil {
		return ""
	}
	v := c.After
	if before {
		v = c.Before
	}
	switch {
	case v == nil && before && c.Error != "":
		return c.Error
	case v == nil:
		return ""
	case len(v.Value) > 0:
		return string(v.Value)
	}
	return fmt.Sprintf("%s, SHA-256 %s", Size(v.Bytes), v.SHA256)
}

func pid(p int) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprint(p)
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// ChainStatus words a file verdict for the details pane.
func ChainStatus(rep audit.FileReport) string {
	switch rep.Status {
	case audit.StatusOK:
		return fmt.Sprintf("intact (%d records in %s)", rep.Records, rep.Name)
	case audit.StatusIncomplete:
		return fmt.Sprintf("intact so far (%d records; session still running or ended abruptly)", rep.Records)
	default:
		return rep.String()
	}
}
