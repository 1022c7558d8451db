package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

const validateUsage = "validate [--out DIR] [--operator NAME] [--json] | validate --verify FILE"

func runValidate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "validate", validateUsage)
	out := fs.String("out", ".", "folder for the report files")
	operator := fs.String("operator", "", "the name of the person running the validation, printed in the report")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verify := fs.String("verify", "", "check a report file against its validation.run record in the audit trail")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := env.service(ctx, false)
	if err != nil {
		return err
	}
	if *verify != "" {
		return verifyReport(ctx, env, c, *verify)
	}
	if fi, err := os.Stat(*out); err != nil || !fi.IsDir() {
		return usagef("--out %s is not an existing folder", *out)
	}
	token, tokenErr := storedToken(ctx, env)
	st, err := c.Status(ctx, localapi.StatusRequest{})
	if err != nil {
		return apiError(err)
	}
	opts := validation.Options{
		Service: c, Version: env.Build.Version, Commit: env.Build.Commit, Operator: *operator,
		Token: token, TokenError: tokenErr,
		SumsFile: validation.DefaultSums, SumsRoot: "/",
	}
	if st.Service.Mode == localapi.ModeSystem {
		// Lifting the kill switch after OQ-09 needs the person.
		opts.Password = func() (string, error) {
			// The same answer signs OQ-11's demo write: say so before
			// it is given.
			if env.StdinIsTerminal != nil && env.StdinIsTerminal() {
				fmt.Fprintln(env.Stderr, "The account password lifts the kill switch after OQ-09 and, where the policy allows writes, signs OQ-11's demo write (an approving meaning, reason \"Validation …: demo write signed to qualify electronic signatures\") in your name. Press Enter without one to skip both cases.")
			}
			return readPassword(env, st.User.Name)
		}
	}
	if !*asJSON {
		opts.Progress = func(done, total int, cs validation.Case) {
			fmt.Fprintf(env.Stderr, "[%2d/%d] %s %-4s %s\n", done, total, cs.ID, cs.Result, cs.Title)
		}
	}
	rep, err := validation.Run(ctx, opts)
	if err != nil {
		return apiError(err)
	}
	filed, err := validation.File(ctx, c, rep, *out, token, "cli")
	if err != nil {
		return apiError(err)
	}
	files := filed.Files
	if *asJSON {
		b, err := rep.Marshal()
		if err != nil {
			return err
		}
		env.Stdout.Write(b)
	} else {
		s := rep.Summary
		fmt.Fprintf(env.Stdout, "Validation %s: %s (%d passed, %d failed, %d skipped).\n", rep.DocID, s.Result, s.Pass, s.Fail, s.Skip)
		for _, f := range files {
			fmt.Fprintf(env.Stdout, "  %s\n", f)
		}
		fmt.Fprintln(env.Stdout, "Recorded in the audit trail as validation.run; check a filed copy with `scispot-mcp validate --verify FILE`.")
	}
	if rep.Summary.Result != validation.Pass {
		return &exitCodeError{code: ExitFailed}
	}
	return nil
}

// verifyReport finds the validation.run record naming the file's SHA-256.
func verifyReport(ctx context.Context, env Env, c *localapi.Client, path string) error {
	// The answer is what a reviewer relies on: from the system service
	// only, never from one the account started on a socket of its own.
	sys := *c
	sys.System = true
	c = &sys
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the report: %w", err)
	}
	d := validation.Digest(filepath.Base(path), b)
	recs, err := c.Records(ctx, localapi.RecordsQuery{All: true})
	if err != nil {
		return apiError(err)
	}
	for _, r := range slices.Backward(recs) {
		if r.Event != audit.EventValidationRun {
			continue
		}
		var run validation.RunRecord
		if json.Unmarshal(r.Args, &run) != nil {
			continue
		}
		for _, f := range run.Files {
			if f.SHA256 == d.SHA256 {
				if err := recordIntact(ctx, c, r); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s is %s of validation %s, recorded %s by %s on device %s (record %s); summary: %s, %d passed, %d failed, %d skipped.\n",
					path, f.Name, run.DocID, r.Time.UTC().Format("2006-01-02 15:04:05 UTC"), r.User, r.Device, r.Hash, run.Summary.Result, run.Summary.Pass, run.Summary.Fail, run.Summary.Skip)
				return nil
			}
		}
	}
	return fmt.Errorf("%s (SHA-256 %s) matches no validation run in the audit trail you can read: it was changed after the run, or was made on another workstation or by another account", path, d.SHA256)
}

// recordIntact checks the chain of the trail file holding the
// validation.run record r: a record in a broken file proves nothing.
func recordIntact(ctx context.Context, c *localapi.Client, r audit.Record) error {
	res, err := c.Verify(ctx, true)
	if err != nil {
		return apiError(err)
	}
	for _, f := range res.Report.Files {
		// A broken file may not name its session; its file name does.
		if f.Session != r.Session && !strings.HasSuffix(strings.TrimSuffix(f.Name, ".jsonl"), "-"+r.Session) {
			continue
		}
		if f.Status == audit.StatusBroken || f.Status == audit.StatusUnreadable {
			return fmt.Errorf("the validation.run record of %s is in a trail file that does not verify (%s)", r.Reason, f)
		}
		return nil
	}
	return fmt.Errorf("the trail file holding the validation.run record of %s (session %s) was not found by audit verify", r.Reason, r.Session)
}
