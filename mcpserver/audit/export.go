package audit

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format is an export format.
type Format string

// Export formats.
const (
	FormatCSV   Format = "csv"
	FormatJSONL Format = "jsonl"
)

// CSVHeader is the fixed header row of a CSV export. Columns are only ever
// appended, never reordered, so spreadsheets built on an export keep working.
var CSVHeader = []string{
	"time", "session", "event", "user", "device", "client", "client_version",
	"tool", "outcome", "reason", "duration_ms", "result_bytes", "flags",
	"args", "token", "seq", "hash", "rule", "signature", "change",
}

// Export writes records in format.
//
// JSONL writes each record's canonical line, so an exported record still
// verifies (HashRecord gives its hash). CSV writes CSVHeader, then one row
// per record: time as in the record, flags joined with ";", args as compact
// JSON. Text cells that a spreadsheet would run as a formula (starting with
// =, +, -, @, tab or carriage return) are prefixed with a single quote:
// arguments come from an AI client and must not become code in Excel.
func Export(w io.Writer, records []Record, format Format) error {
	switch format {
	case FormatJSONL:
		return exportJSONL(w, records)
	case FormatCSV:
		return exportCSV(w, records)
	default:
		return fmt.Errorf("%w: %q (use csv or jsonl)", ErrUnknownFormat, format)
	}
}

func exportJSONL(w io.Writer, records []Record) error {
	bw := bufio.NewWriter(w)
	var buf []byte
	for i := range records {
		buf = appendLine(buf[:0], &records[i])
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("exporting audit records: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("exporting audit records: %w", err)
	}
	return nil
}

func exportCSV(w io.Writer, records []Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("exporting audit records: %w", err)
	}
	row := make([]string, len(CSVHeader))
	for i := range records {
		r := &records[i]
		row = row[:0]
		row = append(row,
			formatTime(r.Time),
			cell(r.Session),
			cell(string(r.Event)),
			cell(r.User),
			cell(r.Device),
			cell(r.Client.Name),
			cell(r.Client.Version),
			cell(r.Tool),
			cell(string(r.Outcome)),
			cell(r.Reason),
			intCell(r.DurationMS),
			intCell(r.ResultBytes),
			cell(strings.Join(r.Flags, ";")),
			cell(string(r.Args)),
			cell(r.Token),
			strconv.FormatInt(r.Seq, 10),
			cell(r.Hash),
			cell(r.Rule),
			cell(string(signatureJSON(r.Signature))),
			cell(string(changeJSON(r.Change))),
		)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("exporting audit records: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("exporting audit records: %w", err)
	}
	return nil
}

// signatureJSON and changeJSON are the canonical JSON of a record's
// signature and change, for one CSV cell each.
func signatureJSON(s *Signature) []byte {
	if s == nil {
		return nil
	}
	return appendSignature(nil, s)
}

func changeJSON(c *Change) []byte {
	if c.IsZero() {
		return nil
	}
	return appendChange(nil, c)
}

// cell defuses spreadsheet formulas (CSV injection).
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

func intCell(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// FormatLine renders a record as one human line for `audit tail`:
// time, user, client, tool (or event), outcome, duration, size and flags,
// e.g.
//
//	2026-11-24 10:15:00.123  alice  Claude Desktop 0.9.2  list_samples  ok  12ms  3.4 KB  [injection-suspect]
//
// Times are shown in loc (UTC when nil). Control characters in the text are
// replaced, so a crafted tool name cannot move the terminal's cursor.
func FormatLine(r Record, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	parts := []string{r.Time.In(loc).Format("2006-01-02 15:04:05.000")}
	add := func(s string) {
		if s == "" {
			s = "-"
		}
		parts = append(parts, printable(s))
	}
	add(r.User)
	add(strings.TrimSpace(r.Client.Name + " " + r.Client.Version))
	what := r.Tool
	if r.Event != EventToolCall {
		what = strings.TrimSpace(string(r.Event) + " " + r.Tool)
	}
	add(what)
	add(string(r.Outcome))
	if r.Event == EventToolCall || r.DurationMS > 0 {
		parts = append(parts, strconv.FormatInt(r.DurationMS, 10)+"ms")
	}
	if r.ResultBytes > 0 {
		parts = append(parts, humanBytes(r.ResultBytes))
	}
	if len(r.Flags) > 0 {
		parts = append(parts, "["+printable(strings.Join(r.Flags, ","))+"]")
	}
	if s := r.Signature; s != nil && r.Event == EventSignature {
		who := s.Name
		if s.Account != "" && s.Account != s.Name {
			who += " (" + s.Account + ")"
		}
		how := "not verified, " + s.Method
		if s.Verified {
			how = "password checked"
		}
		parts = append(parts, printable(fmt.Sprintf("%s by %s, %s: %s", s.Meaning, who, how, orDash(s.Reason))))
	}
	if c := r.Checkpoint; c != nil && r.Event == EventCheckpoint {
		parts = append(parts, printable(fmt.Sprintf("%d records signed by %s", c.Count, c.Key)))
	}
	if r.Reason != "" && r.Outcome != OutcomeOK {
		parts = append(parts, printable(r.Reason))
	}
	return strings.Join(parts, "  ")
}

// printable replaces control characters (including ESC) with '?'.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, suffix := float64(n)/unit, "KB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + suffix
}
