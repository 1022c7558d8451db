package audit

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Signature manifest: the signatures of a trail as a QA reviewer reads
// them (`scispot-mcp audit export --signatures`): who signed what, when,
// with what meaning and reason, how the signer was verified, and what
// became of the call they signed.

// ManifestEntry is one signature with the call it signed.
type ManifestEntry struct {
	// Signed is when the person signed (UTC).
	Signed  time.Time `json:"signed"`
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Account string    `json:"account"`
	Meaning string    `json:"meaning"`
	// Approves: the meaning lets the write through.
	Approves bool   `json:"approves"`
	Reason   string `json:"reason"`
	Method   string `json:"method"`
	// Verified: the service checked the account password.
	Verified bool   `json:"verified"`
	Tool     string `json:"tool"`
	Target   string `json:"target"`
	// Args are the signed call's arguments as recorded.
	Args    json.RawMessage `json:"args,omitempty"`
	Client  string          `json:"client"`
	Session string          `json:"session"`
	Device  string          `json:"device,omitempty"`
	// Outcome is the linked call's: ok, error or denied, or OutcomeNotRecorded.
	Outcome string `json:"outcome"`
	// OutcomeReason says why the call failed or was refused.
	OutcomeReason string  `json:"outcome_reason,omitempty"`
	Change        *Change `json:"change,omitempty"`
	// SignatureRecord and CallRecord are the two records' hashes.
	SignatureRecord string `json:"signature_record"`
	CallRecord      string `json:"call_record,omitempty"`
}

// OutcomeNotRecorded is the outcome of a signature no call record links
// (the service stopped in between, or the call is outside the range read).
const OutcomeNotRecorded = "not recorded"

// Manifest pairs every signature record in records with the call record
// that links it, in signing order.
func Manifest(records []Record) []ManifestEntry {
	type key struct{ session, id string }
	calls := map[key]*Record{}
	for i := range records {
		r := &records[i]
		if r.Event != EventSignature && r.Signature != nil && r.Signature.ID != "" {
			calls[key{r.Session, r.Signature.ID}] = r
		}
	}
	var out []ManifestEntry
	for i := range records {
		r := &records[i]
		if r.Event != EventSignature || r.Signature == nil {
			continue
		}
		s := r.Signature
		e := ManifestEntry{
			Signed: s.Time.UTC(), ID: s.ID, Name: s.Name, Account: s.Account, Meaning: s.Meaning,
			Approves: s.Approves, Reason: s.Reason, Method: s.Method, Verified: s.Verified,
			Tool: r.Tool, Target: s.Target, Args: r.Args, Client: strings.TrimSpace(r.Client.Name + " " + r.Client.Version),
			Session: r.Session, Device: r.Device, Outcome: OutcomeNotRecorded, SignatureRecord: r.Hash,
		}
		if e.Signed.IsZero() {
			e.Signed = r.Time.UTC()
		}
		if c, ok := calls[key{r.Session, s.ID}]; ok && c.Signature.Record == r.Hash {
			e.Outcome, e.CallRecord, e.Change = string(c.Outcome), c.Hash, c.Change
			if c.Outcome != OutcomeOK {
				e.OutcomeReason = c.Reason
			}
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b ManifestEntry) int {
		return cmp.Or(a.Signed.Compare(b.Signed), cmp.Compare(a.Session, b.Session))
	})
	return out
}

// Manifest formats.
const (
	ManifestTable Format = "table"
	ManifestCSV   Format = "csv"
	ManifestJSON  Format = "json"
)

// ManifestCSVHeader is the header of a CSV manifest; columns are only ever
// appended.
var ManifestCSVHeader = []string{
	"signed", "name", "account", "meaning", "approves", "reason", "method", "verified",
	"tool", "target", "client", "session", "outcome", "outcome_reason",
	"before_sha256", "before_bytes", "after_sha256", "after_bytes", "change_error",
	"signature_record", "call_record", "id", "device", "args",
}

// ExportManifest writes entries as a table for people, CSV (text cells
// defused against spreadsheet formulas, as in Export) or a JSON array.
func ExportManifest(w io.Writer, entries []ManifestEntry, format Format) error {
	var err error
	switch format {
	case ManifestTable:
		err = manifestTable(w, entries)
	case ManifestCSV:
		err = manifestCSV(w, entries)
	case ManifestJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if entries == nil {
			entries = []ManifestEntry{}
		}
		err = enc.Encode(entries)
	default:
		return fmt.Errorf("%w: %q (use table, csv or json)", ErrUnknownFormat, format)
	}
	if err != nil {
		return fmt.Errorf("exporting the signature manifest: %w", err)
	}
	return nil
}

func manifestTable(w io.Writer, entries []ManifestEntry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SIGNED (UTC)\tSIGNER\tMEANING\tREASON\tTOOL\tTARGET\tCLIENT\tCALL\tVERIFIED BY")
	for _, e := range entries {
		signer := e.Name
		if e.Account != "" && e.Account != e.Name {
			signer += " (" + e.Account + ")"
		}
		verified := "not verified: " + methodWords(e.Method)
		if e.Verified {
			verified = "account password, checked by the service"
		}
		call := e.Outcome
		if e.OutcomeReason != "" {
			call += ": " + e.OutcomeReason
		}
		fmt.Fprintln(tw, strings.Join([]string{
			e.Signed.Format("2006-01-02 15:04:05"), cellText(signer), cellText(e.Meaning), cellText(orDash(e.Reason)),
			cellText(e.Tool), cellText(orDash(e.Target)), cellText(orDash(e.Client)), cellText(call), verified,
		}, "\t"))
	}
	return tw.Flush()
}

// methodWords says how an unverified signature was given.
func methodWords(m string) string {
	switch m {
	case MethodElicitation:
		return "answered in the AI client (elicitation)"
	case MethodInputRequired:
		return "answered in the AI client (input_required)"
	case MethodTray:
		return "answered in the tray without a password check"
	}
	return m
}

// cellText keeps a table cell on one line and unable to move the cursor.
func cellText(s string) string {
	return printable(strings.ReplaceAll(s, "\t", " "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func manifestCSV(w io.Writer, entries []ManifestEntry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ManifestCSVHeader); err != nil {
		return err
	}
	digest := func(v *Value) (string, string) {
		if v == nil {
			return "", ""
		}
		return v.SHA256, strconv.FormatInt(v.Bytes, 10)
	}
	for _, e := range entries {
		var before, after *Value
		var changeErr string
		if e.Change != nil {
			before, after, changeErr = e.Change.Before, e.Change.After, e.Change.Error
		}
		bs, bb := digest(before)
		as, ab := digest(after)
		row := []string{
			formatTime(e.Signed), cell(e.Name), cell(e.Account), cell(e.Meaning), strconv.FormatBool(e.Approves),
			cell(e.Reason), cell(e.Method), strconv.FormatBool(e.Verified), cell(e.Tool), cell(e.Target),
			cell(e.Client), cell(e.Session), cell(e.Outcome), cell(e.OutcomeReason),
			bs, bb, as, ab, cell(changeErr), e.SignatureRecord, e.CallRecord, e.ID, cell(e.Device), cell(string(e.Args)),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
