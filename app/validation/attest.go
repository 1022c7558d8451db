package validation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/guard"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// The report is assembled by the person's own program, which an agent
// running as that account can replace. So the service files a report only
// after holding it against what the service knows itself: the case
// catalogue of its own version (titles, requirements, expected results, the
// set of cases, an empty PQ template), the workstation, the installation
// (it reruns those IQ cases), the account's trail (it verifies it, and
// every record a passing OQ case cites must be the kind of record that case
// shows), and the time of the run. What the service could not observe is
// marked as the program's own statement in the filed report.

// ErrUnsupported means a report claims what the service cannot confirm.
var ErrUnsupported = errors.New("the report is not supported by what the service observed")

// clientSideIQ are the IQ cases only the person's program can run: the
// keychain, which the service cannot open, and the program's version.
var clientSideIQ = []string{"IQ-07", "IQ-08"}

// cited says, per OQ case, what a record the case cites on a pass must
// be: the control the case shows, as the trail recorded it. Citing any
// other record (a setup.write, a refusal of something else) proves
// nothing.
var cited = map[string]func(audit.Record) bool{
	"OQ-02": func(r audit.Record) bool { return r.Event == audit.EventToolDenied && r.Outcome == audit.OutcomeDenied },
	"OQ-04": func(r audit.Record) bool { return r.Event == audit.EventToolCall && r.Outcome == audit.OutcomeOK },
	"OQ-07": func(r audit.Record) bool {
		return r.Event == audit.EventToolCall && slices.Contains(r.Flags, audit.FlagInjectionSuspect)
	},
	"OQ-08": func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeDenied && r.Tool != "" && (r.Event == audit.EventToolDenied || r.Event == audit.EventToolCall)
	},
	"OQ-12": func(r audit.Record) bool { return r.Rule == guard.RuleRateLimit && r.Outcome == audit.OutcomeDenied },
}

// maxRunAge bounds how long after a run its report may be filed.
const maxRunAge = 6 * time.Hour

// Corroboration is the service's own view of an account's run.
type Corroboration struct {
	// Account, Device, ServiceVersion and Hostname are the caller and
	// this service, as the kernel and the service know them.
	Account, Device, ServiceVersion, Hostname string
	Now                                       time.Time
	// Records are the account's audit records from the report's
	// generation on.
	Records []audit.Record
	// TrailVerifies is whether the account's trail verified when the
	// service checked it for this filing.
	TrailVerifies bool
	// IQ are the installation cases the service ran itself (Recheck).
	IQ []Case
	// Catalogue are the cases this version runs (Catalogue).
	Catalogue []Case
}

// Recheck runs, in the service, the IQ cases that do not need the
// person's program: st is the status the service gives the caller, the
// sums file and root as the package installed them, now the service's
// clock.
func Recheck(ctx context.Context, st localapi.Status, sumsFile, sumsRoot string, now time.Time) []Case {
	// The SBOM case compares with the program's version: the service's
	// own (IQ-08 is where the two must agree).
	r := &run{o: Options{SumsFile: sumsFile, SumsRoot: sumsRoot, Version: st.Service.Version, Now: func() time.Time { return now }}, status: st,
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

// Catalogue is every IQ and OQ case this version runs, before it runs.
func Catalogue() []Case {
	r := &run{}
	var out []Case
	for _, d := range slices.Concat(r.iqCases(), r.oqCases()) {
		out = append(out, d.Case)
	}
	return append(out, r.tokenCase(&Report{}).Case)
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

// citedHash finds the record hashes a case's evidence names, in any
// letter case and punctuation; one too short or too long to be a record
// hash makes the report unsupported, so a citation cannot hide.
var citedHash = regexp.MustCompile(`(?i)\bhash\W{0,3}([0-9a-f]+)\b`)

// Corroborate checks rep against what the service observed and returns
// every claim it cannot confirm, joined, wrapped in ErrUnsupported. On
// success it adds to each case a "service check" evidence line saying what
// the service confirmed, or that the case is the program's own statement.
func Corroborate(rep *Report, k Corroboration) error {
	var bad []string
	add := func(format string, a ...any) { bad = append(bad, fmt.Sprintf(format, a...)) }
	confirmed := map[string]string{}

	// Who, where and when.
	if rep.ExecutedBy.Account != k.Account {
		add("it says it was run by %q, but %q is filing it", rep.ExecutedBy.Account, k.Account)
	}
	w := rep.Workstation
	if w.Device != k.Device {
		add("it is about device %q, not this one (%s)", w.Device, k.Device)
	}
	if w.ServiceVersion != k.ServiceVersion {
		add("it names service version %q; this service is %q", w.ServiceVersion, k.ServiceVersion)
	}
	if w.Hostname != k.Hostname || w.OS != runtime.GOOS || w.Arch != runtime.GOARCH {
		add("it describes host %q (%s/%s); this is %q (%s/%s)", w.Hostname, w.OS, w.Arch, k.Hostname, runtime.GOOS, runtime.GOARCH)
	}
	if rep.Generated.After(k.Now.Add(time.Minute)) || rep.Generated.Before(k.Now.Add(-maxRunAge)) {
		add("it was generated at %s; a report is filed within %s of its run", rep.Generated.UTC().Format(time.RFC3339), maxRunAge)
	}
	if rep.DocID != docID(w.Hostname, rep.Generated) {
		add("its document ID %s does not match its host and time", rep.DocID)
	}

	// The cases are this version's, each run during the run.
	if err := sameCatalogue(rep, k.Catalogue); err != nil {
		add("%v", err)
	}
	if !slices.EqualFunc(rep.PQ, pqTemplate(), func(a, b Case) bool { return equalJSON(a, b) }) {
		add("its PQ section is not the blank template (the lab completes PQ on paper or in its own system)")
	}
	var otherRunner, outside []string
	var outsideAt time.Time
	for _, c := range slices.Concat(rep.IQ, rep.OQ) {
		if c.ExecutedBy != rep.ExecutedBy {
			otherRunner = append(otherRunner, c.ID)
		}
		if c.Time.Before(rep.Generated) || c.Time.After(k.Now.Add(time.Minute)) {
			outside, outsideAt = append(outside, c.ID), c.Time
		}
	}
	if len(otherRunner) > 0 {
		add("%s say they were run by someone other than the report's %q", strings.Join(otherRunner, ", "), rep.ExecutedBy.Account)
	}
	switch {
	case len(outside) == 1:
		add("%s ran at %s, outside the run", outside[0], outsideAt.UTC().Format(time.RFC3339))
	case len(outside) > 1:
		add("%s ran outside the run (which began %s)", strings.Join(outside, ", "), rep.Generated.UTC().Format(time.RFC3339))
	}

	// The installation, as the service finds it.
	for _, mine := range k.IQ {
		i := slices.IndexFunc(rep.IQ, func(c Case) bool { return c.ID == mine.ID })
		if i < 0 {
			continue // sameCatalogue said so
		}
		if theirs := rep.IQ[i]; rank(theirs.Result) > rank(mine.Result) {
			add("%s says %s, but the service finds %s: %s", mine.ID, theirs.Result, mine.Result, mine.Actual)
		} else {
			confirmed[mine.ID] = fmt.Sprintf("rerun by the service: %s", mine.Result)
		}
	}
	if c := caseByID(rep.IQ, "IQ-08"); c != nil && c.Result == Pass && w.AppVersion != k.ServiceVersion {
		add("IQ-08 passes, but the report's program is %q and the service %q", w.AppVersion, k.ServiceVersion)
	}

	// The trail since the run began.
	var kills, resumes, signatures int
	byHash := map[string]audit.Record{}
	validationSessions := map[string]bool{}
	for _, r := range k.Records {
		if r.Time.Before(rep.Generated) {
			continue
		}
		byHash[r.Hash] = r
		switch {
		case r.Event == audit.EventValidationRun && r.Reason == rep.DocID:
			add("%s was already filed (record %s)", rep.DocID, short(r.Hash))
		case r.Event == audit.EventSessionStart && r.Client.Name == ClientName:
			validationSessions[r.Session] = true
		case r.Event == audit.EventKill && r.Outcome == audit.OutcomeOK:
			kills++
		case r.Event == audit.EventResume && r.Outcome == audit.OutcomeOK:
			resumes++
		case r.Event == audit.EventSignature:
			signatures++
		}
	}
	// A cited prefix must name one record: with two, which one the map
	// gave first would decide the verdict.
	find := func(h string) (audit.Record, bool) {
		var found audit.Record
		n := 0
		for full, r := range byHash {
			if strings.HasPrefix(full, strings.ToLower(h)) {
				found, n = r, n+1
			}
		}
		return found, n == 1
	}
	for _, c := range rep.OQ {
		var hashes []string
		for _, e := range c.Evidence {
			for _, m := range citedHash.FindAllStringSubmatch(e.Value, -1) {
				if len(m[1]) < 8 || len(m[1]) > 64 {
					add("%s's evidence %q names a hash the service cannot look up", c.ID, e.Value)
					continue
				}
				hashes = append(hashes, m[1])
			}
		}
		if c.Result != Pass {
			continue
		}
		want, backed := cited[c.ID]
		if backed && len(hashes) == 0 {
			add("%s passed without citing the record its call left", c.ID)
		}
		for _, h := range hashes {
			r, ok := find(h)
			switch {
			case !ok:
				add("%s cites record %s, which does not name one record of your audit trail since the run began", c.ID, h)
			case backed && !validationSessions[r.Session]:
				add("%s cites record %s of session %s, which is not a %s session of this run", c.ID, h, r.Session, ClientName)
			case backed && !want(r):
				add("%s cites record %s (%s, %s, rule %q), which is not what %s shows", c.ID, h, r.Event, r.Outcome, r.Rule, c.ID)
			case backed:
				confirmed[c.ID] = fmt.Sprintf("record %s (seq %d, %s, %s) is in the trail", short(r.Hash), r.Seq, r.Event, r.Outcome)
			}
		}
		switch c.ID {
		case "OQ-05":
			if !k.TrailVerifies {
				add("OQ-05 passes, but the service finds this account's trail does not verify")
			} else {
				confirmed[c.ID] = "the service verified the account's trail when filing"
			}
		case "OQ-09":
			if kills == 0 || resumes == 0 {
				add("OQ-09 passes, but the trail holds %d kill and %d resume records since the run began", kills, resumes)
			} else {
				confirmed[c.ID] = fmt.Sprintf("%d kill and %d resume records since the run began", kills, resumes)
			}
		case "OQ-11":
			if signatures == 0 {
				add("OQ-11 passes, but the trail holds no signature record since the run began")
			} else {
				confirmed[c.ID] = fmt.Sprintf("%d signature record(s) since the run began", signatures)
			}
		}
	}
	if len(validationSessions) == 0 && slices.ContainsFunc(rep.OQ, func(c Case) bool { return c.Result == Pass }) {
		add("OQ cases passed, but no %s session is in your audit trail since the run began", ClientName)
	}
	if len(bad) > 0 {
		// The sentence goes into the trail, whose fields are capped:
		// name the first few claims and count the rest.
		const shown = 8
		if len(bad) > shown {
			bad = append(bad[:shown], fmt.Sprintf("and %d more", len(bad)-shown))
		}
		return fmt.Errorf("%w: %s; run scispot-mcp validate again and file its report unedited", ErrUnsupported, strings.Join(bad, "; "))
	}
	for _, cs := range [][]Case{rep.IQ, rep.OQ} {
		for i := range cs {
			v, ok := confirmed[cs[i].ID]
			if !ok {
				v = "not observable by the service: the result is scispot-mcp's statement"
			}
			cs[i].Evidence = append(cs[i].Evidence, Evidence{Name: "service check", Value: v})
		}
	}
	return nil
}

// sameCatalogue checks that rep holds exactly the catalogue's IQ and OQ
// cases, each with the catalogue's title, requirements and expected result,
// and its steps first.
func sameCatalogue(rep *Report, cat []Case) error {
	got := slices.Concat(rep.IQ, rep.OQ)
	if len(got) != len(cat) {
		return fmt.Errorf("it has %d IQ and OQ cases; this version runs %d", len(got), len(cat))
	}
	for _, want := range cat {
		c := caseByID(got, want.ID)
		switch {
		case c == nil:
			return fmt.Errorf("it lacks %s", want.ID)
		case c.Title != want.Title || c.Expected != want.Expected || !slices.Equal(c.Requirements, want.Requirements):
			return fmt.Errorf("%s's title, expected result or requirements are not this version's", want.ID)
		case len(c.Steps) < len(want.Steps) || !slices.Equal(c.Steps[:len(want.Steps)], want.Steps):
			return fmt.Errorf("%s's steps are not this version's", want.ID)
		}
	}
	return nil
}

func caseByID(cs []Case, id string) *Case {
	for i := range cs {
		if cs[i].ID == id {
			return &cs[i]
		}
	}
	return nil
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
