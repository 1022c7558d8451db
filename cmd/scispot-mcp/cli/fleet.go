package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/scispot/mcp-desktop/mcpserver/fleet"
)

const fleetVerifyUsage = "audit fleet-verify PATH... [--keys FILE] [--allowed-clients LIST] [--json]"

// runFleetVerify is `audit fleet-verify`: the admin's check of what the
// log pipeline stored, on any machine, without the service. Exit 0 when
// every trail verifies and nothing is found, 1 when something is broken
// or found, 2 for a usage mistake or an input that cannot be read.
func runFleetVerify(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "audit fleet-verify", fleetVerifyUsage)
	keysFile := fs.String("keys", "", "the devices' verifier keys, one per line (# comments): what `scispot-mcpd --print-device-key` or `status --json` (device_key) showed")
	allowed := fs.String("allowed-clients", "", "comma-separated AI client names the lab allows (e.g. claude-ai,cursor); others are reported")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("name the files (or folders) the log pipeline stored")
	}
	opts := fleet.Options{}
	if *keysFile != "" {
		if opts.Keys, err = readKeys(*keysFile); err != nil {
			return err
		}
	}
	if *allowed != "" {
		for _, c := range strings.Split(*allowed, ",") {
			if c = strings.TrimSpace(c); c != "" {
				opts.AllowedClients = append(opts.AllowedClients, c)
			}
		}
	}
	files, err := inputFiles(paths)
	if err != nil {
		fmt.Fprintf(env.Stderr, "scispot-mcp audit fleet-verify: %v\n", err)
		return &exitCodeError{ExitUsage}
	}
	v := fleet.New(opts)
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "scispot-mcp audit fleet-verify: %v\n", err)
			return &exitCodeError{ExitUsage}
		}
		err = v.Read(ctx, path, f)
		f.Close()
		if err != nil {
			fmt.Fprintf(env.Stderr, "scispot-mcp audit fleet-verify: %v\n", err)
			return &exitCodeError{ExitUsage}
		}
	}
	rep := v.Report()
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteTable(env.Stdout); err != nil {
		return err
	}
	if rep.Found() {
		return &exitCodeError{ExitFailed}
	}
	return nil
}

// inputFiles expands folders into the regular files under them, in name
// order.
func inputFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readKeys reads verifier keys, one per line; blank lines and lines
// starting with # are skipped.
func readKeys(path string) (note.Verifiers, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--keys: %v", err)
	}
	defer f.Close()
	var vs []note.Verifier
	// A key pasted twice would make the list ambiguous, and every
	// checkpoint of that device would then fail to verify.
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || seen[line] {
			continue
		}
		seen[line] = true
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, usagef("--keys %s line %d is not a verifier key (name+hash+key, as status --json shows device_key)", path, n)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("--keys: %v", err)
	}
	if len(vs) == 0 {
		return nil, usagef("--keys %s holds no keys", path)
	}
	return note.VerifierList(vs...), nil
}
