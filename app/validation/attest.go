package validation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// The report is assembled by the person's own program, which an agent
// running as that account can replace. So the service files a report only
// after holding its claims against what the service knows itself: the
// installation (it reruns those IQ cases), and the account's audit trail,
// which every OQ case's calls, refusals and kill switch left behind. A
// report that claims more than the service can see is refused.

// ErrUnsupported means a report claims what the service cannot confirm.
var ErrUnsupported = errors.New("the report is not supported by what the service observed")

// clientSideIQ are the IQ cases only the person's program can run: its
// own version, and the keychain, which the service cannot open.
var clientSideIQ = []string{"IQ-07", "IQ-08"}

// recordBacked are the OQ cases whose pass cites the audit record the
// case's call left; each cited hash must be in the account's trail.
var recordBacked = []string{"OQ-02", "OQ-04", "OQ-07", "OQ-08", "OQ-12"}

// maxRunAge bounds how long after a run its report may be filed; OQ
// evidence older than that would have to be found in a long trail, and a
// report that old is a re-run's job.
const maxRunAge = 6 * time.Hour

// Corroboration is the service's own view of an account's run.
type Corroboration struct {
	// Account, Device and ServiceVersion are the caller and this
	// service, as the kernel and the service know them.
	Account, Device, ServiceVersion string
	Now                             time.Time
	// Records are the account's audit records from the report's
	// generation on.
	Records []audit.Record
	// IQ are the installation cases the service ran itself (Recheck).
	IQ []Case
}

// Recheck runs, in the service, the IQ cases that do not need the
// person's program: st is the status the service gives the caller, the
// sums file and root as the package installed them.
func Recheck(ctx context.Context, st localapi.Status, sumsFile, sumsRoot string) []Case {
	// The SBOM case compares with the program's version: the service's
	// own (IQ-08 is where the two must agree).
	r := &run{o: Options{SumsFile: sumsFile, SumsRoot: sumsRoot, Version: st.Service.Version, Now: time.Now}, status: st,
		by: Executor{Account: "scispot-mcpd"}}
	var out []Case
	for _, d := range r.iqCases() {
		if slices.Contains(clientSideIQ, d.Case.ID) {
			continue
		}
		out = append(out, r.exec(ctx, d))
	}
	return out
}

// rank orders results by how much they claim.
func rank(r Result) int {
	switch r {
	case Pass:
		return 2
	case Skip:
		return 1
	}
	return 0
}

var citedHash = regexp.MustCompile(`\bhash ([0-9a-f]{8,64})\b`)

// Corroborate checks rep against what the service observed and returns
// every claim it cannot confirm, joined, wrapped in ErrUnsupported.
func Corroborate(rep *Report, k Corroboration) error {
	var bad []string
	add := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	if rep.ExecutedBy.Account != k.Account {
		add("it says it was run by %q, but %q is filing it", rep.ExecutedBy.Account, k.Account)
	}
	for _, c := range slices.Concat(rep.IQ, rep.OQ) {
		if c.ExecutedBy.Account != k.Account {
			add("%s says it was run by %q", c.ID, c.ExecutedBy.Account)
		}
	}
	if rep.Workstation.Device != k.Device {
		add("it is about device %s, not this one (%s)", rep.Workstation.Device, k.Device)
	}
	if rep.Workstation.ServiceVersion != k.ServiceVersion {
		add("it names service version %q; this service is %q", rep.Workstation.ServiceVersion, k.ServiceVersion)
	}
	if rep.Generated.After(k.Now.Add(time.Minute)) || rep.Generated.Before(k.Now.Add(-maxRunAge)) {
		add("it was generated at %s; a report is filed within %s of its run", rep.Generated.UTC().Format(time.RFC3339), maxRunAge)
	}
	for _, mine := range k.IQ {
		i := slices.IndexFunc(rep.IQ, func(c Case) bool { return c.ID == mine.ID })
		if i < 0 {
			add("%s is missing", mine.ID)
			continue
		}
		if theirs := rep.IQ[i]; rank(theirs.Result) > rank(mine.Result) {
			add("%s says %s, but the service finds %s: %s", mine.ID, theirs.Result, mine.Result, mine.Actual)
		}
	}

	var validation, kills, resumes int
	hashes := make([]string, 0, len(k.Records))
	for _, r := range k.Records {
		if r.Time.Before(rep.Generated) {
			continue
		}
		hashes = append(hashes, r.Hash)
		switch {
		case r.Event == audit.EventValidationRun && r.Reason == rep.DocID:
			add("%s was already filed (record %s)", rep.DocID, short(r.Hash))
		case r.Event == audit.EventSessionStart && r.Client.Name == ClientName:
			validation++
		case r.Event == audit.EventKill && r.Outcome == audit.OutcomeOK:
			kills++
		case r.Event == audit.EventResume && r.Outcome == audit.OutcomeOK:
			resumes++
		}
	}
	inTrail := func(h string) bool {
		return slices.ContainsFunc(hashes, func(full string) bool { return strings.HasPrefix(full, h) })
	}
	passed := false
	for _, c := range rep.OQ {
		if c.Result != Pass {
			continue
		}
		passed = true
		cited := 0
		for _, e := range c.Evidence {
			for _, m := range citedHash.FindAllStringSubmatch(e.Value, -1) {
				cited++
				if !inTrail(m[1]) {
					add("%s cites record %s, which is not in your audit trail since the run began", c.ID, m[1])
				}
			}
		}
		if cited == 0 && slices.Contains(recordBacked, c.ID) {
			add("%s passed without citing the record its call left", c.ID)
		}
		if c.ID == "OQ-09" && (kills == 0 || resumes == 0) {
			add("OQ-09 passed, but the trail holds %d kill and %d resume records since the run began", kills, resumes)
		}
	}
	if passed && validation == 0 {
		add("OQ cases passed, but no %s session is in your audit trail since the run began", ClientName)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrUnsupported, strings.Join(bad, "; "))
	}
	return nil
}
