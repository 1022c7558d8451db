package fleet

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// Issue is one problem, named by where it was read.
type Issue struct {
	Problem string `json:"problem"`
	// Seq is the record's place in its trail, when known.
	Seq  int64  `json:"seq,omitempty"`
	File string `json:"file,omitempty"`
	// Line is the input line (1-based); 0 for a whole file. Record is the
	// log record within an OTLP JSON line (1-based).
	Line   int    `json:"line,omitempty"`
	Record int    `json:"record,omitempty"`
	Detail string `json:"detail"`
}

// Where is "file:line" (and the record within an OTLP line).
func (is Issue) Where() string {
	s := is.File
	if is.Line > 0 {
		s += ":" + strconv.Itoa(is.Line)
	}
	if is.Record > 0 {
		s += " (record " + strconv.Itoa(is.Record) + ")"
	}
	return s
}

// incomplete problems are what a crash or an unregistered key leaves,
// not evidence of tampering; they still count as found.
func incomplete(problem string) bool {
	return problem == string(audit.ProblemNoEnd) || problem == string(audit.ProblemCheckpointKey) || problem == ProblemNoCheckpoint
}

// TrailReport is one trail with problems.
type TrailReport struct {
	Device  string `json:"device"`
	Trail   string `json:"trail,omitempty"`
	Session string `json:"session"`
	User    string `json:"user,omitempty"`
	Records int64  `json:"records"`
	LastSeq int64  `json:"last_seq"`
	// Status is "broken" (tampering or loss) or "incomplete" (never
	// ended, or a checkpoint by an unknown key).
	Status string  `json:"status"`
	Issues []Issue `json:"issues"`
}

// SharedToken is a token fingerprint seen from more than one OS account
// or more than one device.
type SharedToken struct {
	Token    string   `json:"token"`
	Accounts []string `json:"accounts"`
	Devices  []string `json:"devices"`
	Records  int64    `json:"records"`
}

// OutsideClient is an AI client not in --allowed-clients.
type OutsideClient struct {
	Client   string   `json:"client"`
	Accounts []string `json:"accounts"`
	Devices  []string `json:"devices"`
	Records  int64    `json:"records"`
}

// UserReport is one OS account's activity across devices.
type UserReport struct {
	User           string `json:"user"`
	Devices        int    `json:"devices"`
	Records        int64  `json:"records"`
	Denials        int64  `json:"denials"`
	InjectionFlags int64  `json:"injection_flags"`
	BytesReturned  int64  `json:"bytes_returned"`
}

// InputReport says what was read from one input.
type InputReport struct {
	File    string         `json:"file"`
	Formats map[Format]int `json:"formats"` // lines of each format
}

// Totals sum a Report.
type Totals struct {
	Lines      int64 `json:"lines"`
	Records    int64 `json:"records"`    // distinct records
	Duplicates int64 `json:"duplicates"` // the same record delivered again
	Devices    int   `json:"devices"`
	Trails     int   `json:"trails"`
	OK         int   `json:"ok"`
	Broken     int   `json:"broken"`
	Incomplete int   `json:"incomplete"`
	// Checkpoints whose signature verified, and those not checked because
	// no keys were given.
	CheckpointsVerified  int64 `json:"checkpoints_verified"`
	CheckpointsUnchecked int64 `json:"checkpoints_unchecked"`
}

// Report is fleet-verify's verdict.
type Report struct {
	Inputs []InputReport `json:"inputs"`
	Totals Totals        `json:"totals"`
	// Problems are lines that belong to no trail: unreadable, edited
	// (their hash fails), or in no known format.
	Problems []Issue       `json:"problems"`
	Trails   []TrailReport `json:"trails"` // only trails with issues
	// The policy findings.
	SharedTokens   []SharedToken   `json:"shared_tokens"`
	OutsideClients []OutsideClient `json:"outside_clients"`
	Users          []UserReport    `json:"users"`
}

// Found reports whether anything is broken or found: a problem line, a
// trail with issues, a shared token, a client outside the allowed list or
// an injection flag. Denials and bytes returned are reported, not found:
// a denial is the policy working.
func (r *Report) Found() bool {
	if len(r.Problems) > 0 || len(r.Trails) > 0 || len(r.SharedTokens) > 0 || len(r.OutsideClients) > 0 {
		return true
	}
	for _, u := range r.Users {
		if u.InjectionFlags > 0 {
			return true
		}
	}
	return false
}

// Report checks every trail read so far and returns the verdict. Call it
// once, after the last Read.
func (v *Verifier) Report() Report {
	rep := Report{Problems: v.issues}
	rep.Totals.Lines = v.lines
	for i, f := range v.files {
		rep.Inputs = append(rep.Inputs, InputReport{File: f, Formats: v.formats[i]})
	}
	devices := map[string]struct{}{}
	for _, t := range v.trails {
		v.finish(t)
		devices[t.device] = struct{}{}
		rep.Totals.Trails++
		rep.Totals.Records += t.records
		rep.Totals.Duplicates += t.dups
		if len(t.issues) == 0 {
			rep.Totals.OK++
			continue
		}
		tr := TrailReport{Device: t.device, Trail: t.id, Session: t.session, User: t.user, Records: t.records,
			LastSeq: t.entries.n, Status: string(audit.StatusIncomplete), Issues: t.issues}
		for _, is := range t.issues {
			if !incomplete(is.Problem) {
				tr.Status = string(audit.StatusBroken)
			}
		}
		if tr.Status == string(audit.StatusBroken) {
			rep.Totals.Broken++
		} else {
			rep.Totals.Incomplete++
		}
		slices.SortStableFunc(tr.Issues, func(a, b Issue) int { return cmp.Compare(a.Seq, b.Seq) })
		rep.Trails = append(rep.Trails, tr)
	}
	rep.Totals.Devices = len(devices)
	rep.Totals.CheckpointsVerified, rep.Totals.CheckpointsUnchecked = v.checked.verified, v.checked.unchecked
	slices.SortFunc(rep.Trails, func(a, b TrailReport) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Trail, b.Trail), cmp.Compare(a.Session, b.Session))
	})
	for tok, ts := range v.tokens {
		if len(ts.users) > 1 || len(ts.devices) > 1 {
			rep.SharedTokens = append(rep.SharedTokens, SharedToken{Token: tok, Accounts: sorted(ts.users), Devices: sorted(ts.devices), Records: ts.records})
		}
	}
	slices.SortFunc(rep.SharedTokens, func(a, b SharedToken) int { return cmp.Compare(a.Token, b.Token) })
	for name, cs := range v.clients {
		rep.OutsideClients = append(rep.OutsideClients, OutsideClient{Client: name, Accounts: sorted(cs.users), Devices: sorted(cs.devices), Records: cs.records})
	}
	slices.SortFunc(rep.OutsideClients, func(a, b OutsideClient) int { return cmp.Compare(a.Client, b.Client) })
	for name, u := range v.users {
		rep.Users = append(rep.Users, UserReport{User: name, Devices: len(u.devices), Records: u.records, Denials: u.denials,
			InjectionFlags: u.injections, BytesReturned: u.results})
	}
	slices.SortFunc(rep.Users, func(a, b UserReport) int { return cmp.Compare(a.User, b.User) })
	if rep.Problems == nil {
		rep.Problems = []Issue{}
	}
	if rep.Trails == nil {
		rep.Trails = []TrailReport{}
	}
	if rep.SharedTokens == nil {
		rep.SharedTokens = []SharedToken{}
	}
	if rep.OutsideClients == nil {
		rep.OutsideClients = []OutsideClient{}
	}
	if rep.Users == nil {
		rep.Users = []UserReport{}
	}
	return rep
}

func sorted(set map[string]struct{}) []string {
	return slices.Sorted(maps.Keys(set))
}

// WriteTable writes the report for an admin to read.
func (r *Report) WriteTable(w io.Writer) error {
	t := r.Totals
	fmt.Fprintf(w, "%d records (%d delivered more than once) in %d trails from %d devices, %d lines in %d inputs\n",
		t.Records, t.Duplicates, t.Trails, t.Devices, t.Lines, len(r.Inputs))
	fmt.Fprintf(w, "trails: %d ok, %d broken, %d incomplete\n", t.OK, t.Broken, t.Incomplete)
	switch {
	case t.CheckpointsUnchecked > 0:
		fmt.Fprintf(w, "checkpoints: %d signatures not checked: give the devices' keys with --keys\n", t.CheckpointsUnchecked)
	default:
		fmt.Fprintf(w, "checkpoints: %d signatures verified\n", t.CheckpointsVerified)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(cells ...string) {
		for i := range cells {
			cells[i] = cell(cells[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nLINES THAT BELONG TO NO TRAIL")
		row("WHERE", "PROBLEM", "DETAIL")
		for _, is := range r.Problems {
			row(is.Where(), is.Problem, is.Detail)
		}
		tw.Flush()
	}
	if len(r.Trails) > 0 {
		fmt.Fprintln(w, "\nTRAILS WITH PROBLEMS")
		row("DEVICE", "TRAIL", "USER", "SEQ", "PROBLEM", "WHERE", "DETAIL")
		for _, tr := range r.Trails {
			for _, is := range tr.Issues {
				row(abbrev(tr.Device), orDash(cmp.Or(tr.Trail, tr.Session)), orDash(tr.User), strconv.FormatInt(is.Seq, 10), is.Problem, is.Where(), is.Detail)
			}
		}
		tw.Flush()
	}
	if len(r.SharedTokens) > 0 {
		fmt.Fprintln(w, "\nSHARED TOKENS (one token per person: each of these was used by more than one account or device)")
		row("TOKEN", "ACCOUNTS", "DEVICES", "RECORDS")
		for _, s := range r.SharedTokens {
			row(s.Token, strings.Join(s.Accounts, ", "), abbrevAll(s.Devices), strconv.FormatInt(s.Records, 10))
		}
		tw.Flush()
	}
	if len(r.OutsideClients) > 0 {
		fmt.Fprintln(w, "\nAI CLIENTS OUTSIDE --allowed-clients")
		row("CLIENT", "ACCOUNTS", "DEVICES", "RECORDS")
		for _, c := range r.OutsideClients {
			row(c.Client, strings.Join(c.Accounts, ", "), abbrevAll(c.Devices), strconv.FormatInt(c.Records, 10))
		}
		tw.Flush()
	}
	if len(r.Users) > 0 {
		fmt.Fprintln(w, "\nACCOUNTS")
		row("USER", "DEVICES", "RECORDS", "DENIALS", "INJECTION FLAGS", "BYTES RETURNED")
		for _, u := range r.Users {
			row(orDash(u.User), strconv.Itoa(u.Devices), strconv.FormatInt(u.Records, 10), strconv.FormatInt(u.Denials, 10),
				strconv.FormatInt(u.InjectionFlags, 10), strconv.FormatInt(u.BytesReturned, 10))
		}
		tw.Flush()
	}
	if r.Found() {
		_, err := fmt.Fprintln(w, "\nverdict: problems found (see above)")
		return err
	}
	_, err := fmt.Fprintln(w, "\nverdict: every trail verifies; nothing found")
	return err
}

// abbrev shortens a 64-hex device id for a table; --json has it whole.
func abbrev(device string) string {
	if len(device) > 16 {
		return device[:12] + "…"
	}
	return orDash(device)
}

func abbrevAll(devices []string) string {
	out := make([]string, len(devices))
	for i, d := range devices {
		out[i] = abbrev(d)
	}
	return strings.Join(out, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cell keeps a table cell on one line and free of terminal controls: the
// input is whatever the pipeline stored.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
