package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

const auditUsage = "audit verify [--all] [--json] | audit tail [-f] [-n N] [--json] | audit export [--all] [--format csv|jsonl] [--since T] [--until T] | audit export --signatures [--all] [--format table|csv|json] [--since T] [--until T] | audit fleet-verify PATH... [--keys FILE] [--allowed-clients LIST] [--json]"

func runAudit(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 {
		return usagef("say what to do: verify, tail, export or fleet-verify")
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(ctx, env, args[1:])
	case "tail":
		return runAuditTail(ctx, env, args[1:])
	case "export":
		return runAuditExport(ctx, env, args[1:])
	case "fleet-verify":
		return runFleetVerify(ctx, env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(env.Stderr, "usage: scispot-mcp %s\n", auditUsage)
		fmt.Fprintln(env.Stderr, "  verify  check every session file's hash chain; names the file and line of the first break")
		fmt.Fprintln(env.Stderr, "  tail    recent records across all sessions, oldest first; -f follows new ones")
		fmt.Fprintln(env.Stderr, "  export  every record in a time range, as CSV or JSON lines, for a QA reviewer;")
		fmt.Fprintln(env.Stderr, "          --signatures: the signature manifest (who signed which write, when, meaning, reason, how verified)")
		fmt.Fprintln(env.Stderr, "  fleet-verify  verify trails as the lab's log pipeline stored them (collector OTLP JSON, rsyslog")
		fmt.Fprintln(env.Stderr, "          RFC 5424, trail files); finds gaps, bad checkpoints, shared tokens; exit 1 when anything is found")
		return nil
	}
	return usagef("unknown audit command %q", args[0])
}

func runAuditVerify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit verify", "audit verify [--all] [--json]")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	all := fs.Bool("all", false, "every account's trail (administrators, run as root)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := env.service(ctx, true)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := c.Verify(ctx, *all)
	if err != nil {
		return fmt.Errorf("verifying the audit trail: %w", apiError(err))
	}
	rep, dir := res.Report, res.Dir
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		for _, f := range rep.Files {
			if f.Status != audit.StatusOK {
				fmt.Fprintln(env.Stdout, f.String())
			}
		}
		t := rep.Totals
		fmt.Fprintf(env.Stdout, "%d files, %d records in %s: %d ok, %d incomplete (crash or still running), %d broken, %d unreadable (%s)\n",
			t.Files, t.Records, dir, t.OK, t.Incomplete, t.Broken, t.Unreadable, time.Since(start).Round(time.Millisecond))
	}
	if err := rep.Err(); err != nil {
		return fmt.Errorf("the audit trail does not verify: %w", err)
	}
	return nil
}

func parseTime(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, usagef("%s %q is not a time: use RFC 3339 (2026-11-24T09:00:00Z), a date (2026-11-24) or a duration back from now (24h)", flag, v)
}

func runAuditTail(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit tail", "audit tail [-f] [-n N] [--json]")
	follow := fs.Bool("f", false, "keep following new records from every session")
	n := fs.Int("n", 20, "how many recent records to show first")
	asJSON := fs.Bool("json", false, "print records as JSON lines")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := env.service(ctx, true)
	if err != nil {
		return err
	}
	print := func(r audit.Record) {
		if *asJSON {
			b, _ := r.MarshalJSON()
			fmt.Fprintf(env.Stdout, "%s\n", b)
		} else {
			fmt.Fprintln(env.Stdout, audit.FormatLine(r, time.Local))
		}
	}
	var events *localapi.EventStream
	if *follow {
		// Subscribe before reading history, then skip what history showed,
		// so nothing falls between the two.
		if events, err = c.Events(ctx); err != nil {
			return apiError(err)
		}
	}
	recs, err := c.Records(ctx, localapi.RecordsQuery{})
	if err != nil {
		return fmt.Errorf("reading the audit trail: %w", apiError(err))
	}
	shown := map[string]bool{}
	for _, r := range recs {
		shown[r.Hash] = true
	}
	if *n >= 0 && len(recs) > *n {
		recs = recs[len(recs)-*n:]
	}
	for _, r := range recs {
		print(r)
	}
	if !*follow {
		return nil
	}
	for e := range events.C {
		if e.Kind == localapi.EventRecord && e.Record != nil && !shown[e.Record.Hash] {
			print(*e.Record)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("the Scispot MCP service ended the stream: %w", events.Err())
}

func runAuditExport(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit export", "audit export [--signatures] [--all] [--format csv|jsonl|table|json] [--since T] [--until T]")
	all := fs.Bool("all", false, "every account's records (administrators, run as root)")
	signatures := fs.Bool("signatures", false, "the signature manifest: each write signature with its signer, time, meaning, reason, verification and the call it signed")
	format := fs.String("format", "", "csv or jsonl (default csv); with --signatures table, csv or json (default table)")
	since := fs.String("since", "", "only records at or after this time (RFC 3339, a date, or a duration such as 24h)")
	until := fs.String("until", "", "only records before this time")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	f := audit.Format(strings.ToLower(*format))
	switch {
	case *signatures && f == "":
		f = audit.ManifestTable
	case *signatures && f != audit.ManifestTable && f != audit.ManifestCSV && f != audit.ManifestJSON:
		return usagef("with --signatures, --format must be table, csv or json")
	case *signatures:
	case f == "":
		f = audit.FormatCSV
	case f != audit.FormatCSV && f != audit.FormatJSONL:
		return usagef("--format must be csv or jsonl")
	}
	s, err := parseTime("--since", *since)
	if err != nil {
		return err
	}
	u, err := parseTime("--until", *until)
	if err != nil {
		return err
	}
	c, err := env.service(ctx, true)
	if err != nil {
		return err
	}
	recs, err := c.Records(ctx, localapi.RecordsQuery{Since: s, Until: u, All: *all})
	if err != nil {
		return fmt.Errorf("reading the audit trail: %w", apiError(err))
	}
	if *signatures {
		return audit.ExportManifest(env.Stdout, audit.Manifest(recs), f)
	}
	return audit.Export(env.Stdout, recs, f)
}
