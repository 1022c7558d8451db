package validation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// ClientName is how a validation run's MCP sessions identify themselves,
// so the trail tells validation apart from lab work.
const ClientName = "scispot-mcp-validate"

// Service is what a run needs of the workstation service;
// *localapi.Client is one.
type Service interface {
	Status(ctx context.Context, r localapi.StatusRequest) (localapi.Status, error)
	Tools(ctx context.Context, r localapi.ToolsRequest) ([]localapi.ToolInfo, error)
	OpenMCP(ctx context.Context, o localapi.MCPOptions) (net.Conn, string, error)
	Records(ctx context.Context, q localapi.RecordsQuery) ([]audit.Record, error)
	Verify(ctx context.Context, all bool) (localapi.VerifyResult, error)
	Kill(ctx context.Context, r localapi.KillRequest) error
	Resume(ctx context.Context, r localapi.KillRequest) error
	// Approvals follows the account's events as the tray does, so that
	// the signed-write case can answer its own write with the password;
	// Answer gives that answer.
	Approvals(ctx context.Context) (*localapi.EventStream, error)
	Answer(ctx context.Context, a localapi.Answer) error
}

var _ Service = (*localapi.Client)(nil)

// Options configure a run.
type Options struct {
	Service Service
	// Version and Commit are this program's.
	Version, Commit string
	// Operator is the name given with --operator.
	Operator string
	// Source is the front end running the validation, "cli" (when empty)
	// or "tray", for the kill switch's records and the filing's.
	Source string
	// Token and TokenError are the person's keychain item and why it
	// could not be read, for the token's IQ case (never printed).
	Token, TokenError string
	// Password returns the account password, which lifting the kill
	// switch after its OQ case and signing the demo write need; nil or an
	// error skips those cases rather than leave AI access stopped. It is
	// called at most once per run (the CLI reads it from stdin).
	Password func() (string, error)
	// SumsFile lists the installed files and their SHA-256 (sha256sum
	// format, paths relative to SumsRoot); "" or missing: no package
	// install to check.
	SumsFile, SumsRoot string
	// SBOMFile (IQ-09), ServiceUnit and ServiceLink, the symlink that
	// enables it at boot (IQ-10), and Autostart, the tray's XDG autostart
	// entry (IQ-11), are where the package put them; "" is this
	// platform's default (DefaultSBOM, …) under SumsRoot. Absolute
	// symlink targets are read under SumsRoot too. They are checked only
	// where SumsFile is, as a package install has it.
	SBOMFile, ServiceUnit, ServiceLink, Autostart string
	// Progress, if set, hears each case as it ends. While the run waits
	// before a case (for the account's earlier calls to leave the
	// rate-limit window), it hears that case with Result NotRun and a
	// Title saying what it waits for, about every ten seconds: no verdict.
	Progress func(done, total int, c Case)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// run is one validation run in progress.
type run struct {
	o      Options
	by     Executor
	status localapi.Status
	start  time.Time
	docID  string
	// pw is the account password once asked for: Options.Password may
	// read stdin, which gives it only once.
	pw *passwordAnswer
	// scratch holds files the run writes besides the report (the
	// trail copy of OQ-06); the token check reads them.
	scratch string
}

// Run performs every IQ and OQ case and returns the report. It fails only
// when the service cannot be reached at all; a failed check is a failed
// case.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	st, err := o.Service.Status(ctx, localapi.StatusRequest{Token: o.Token, TokenError: o.TokenError})
	if err != nil {
		return nil, fmt.Errorf("asking the Scispot MCP service for its status: %w", err)
	}
	r := &run{o: o, status: st, start: o.Now().UTC(), by: Executor{Account: st.User.Name, Operator: o.Operator}}
	host, _ := os.Hostname()
	r.docID = docID(host, r.start)
	scratch, err := os.MkdirTemp("", "scispot-validate-")
	if err != nil {
		return nil, fmt.Errorf("making a scratch folder: %w", err)
	}
	defer os.RemoveAll(scratch)
	r.scratch = scratch

	rep := &Report{
		DocID:     r.docID,
		Generated: r.start,
		Workstation: Workstation{
			Device: st.Device, Hostname: host, OS: runtime.GOOS, OSVersion: osVersion(), Arch: runtime.GOARCH,
			AppVersion: o.Version, AppCommit: o.Commit, ServiceVersion: st.Service.Version,
		},
		ExecutedBy: r.by,
	}
	iq, oq := r.iqCases(), r.oqCases()
	total := len(iq) + len(oq) + 1 // and the token case
	done := 0
	exec := func(cs []caseDef) []Case {
		var out []Case
		for _, d := range cs {
			c := r.exec(ctx, d)
			out = append(out, c)
			done++
			if o.Progress != nil {
				o.Progress(done, total, c)
			}
		}
		return out
	}
	rep.IQ = exec(iq)
	// Calls the account made in the last minute (an earlier validation
	// run's OQ-12 uses up the whole minute) would have the call cases
	// refused for the rate limit rather than for what they check.
	if err := r.waitForRate(ctx, oq[0].Case, func(c Case) {
		if o.Progress != nil {
			o.Progress(done, total, c)
		}
	}); err != nil {
		return nil, err
	}
	// The token check reads everything the run wrote, so it comes last
	// and sees the report as the other cases left it.
	rep.OQ = exec(oq)
	tc := r.exec(ctx, r.tokenCase(rep))
	rep.OQ = append(rep.OQ, tc)
	if o.Progress != nil {
		o.Progress(total, total, tc)
	}
	// The cases run in the order their effects need (OQ-12 spends the
	// minute's calls, so it comes after every case that calls a tool);
	// the report lists them by ID.
	slices.SortStableFunc(rep.OQ, func(a, b Case) int { return strings.Compare(a.ID, b.ID) })
	rep.PQ = pqTemplate()
	rep.Summary = Summarize(rep.IQ, rep.OQ)
	return rep, nil
}

func docID(host string, t time.Time) string {
	h := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, host)
	if h == "" {
		h = "workstation"
	}
	if len(h) > 63 { // a DNS label's length keeps the file names short
		h = h[:63]
	}
	return "VAL-" + h + "-" + t.UTC().Format("20060102T150405Z")
}

// caseDef is a case before it runs: what it is, and the check that fills
// in Actual, Result and Evidence.
type caseDef struct {
	Case
	check func(ctx context.Context, c *Case)
}

func (r *run) exec(ctx context.Context, d caseDef) Case {
	c := d.Case
	c.ExecutedBy = r.by
	t0 := r.o.Now()
	c.Time = t0.UTC()
	d.check(ctx, &c)
	c.DurationMS = r.o.Now().Sub(t0).Milliseconds()
	if c.Result == NotRun {
		c.Result, c.Actual = Fail, "the check ended without a verdict: "+c.Actual
	}
	return c
}

func (c *Case) pass(format string, a ...any) { c.Result, c.Actual = Pass, fmt.Sprintf(format, a...) }
func (c *Case) fail(format string, a ...any) { c.Result, c.Actual = Fail, fmt.Sprintf(format, a...) }
func (c *Case) skip(format string, a ...any) { c.Result, c.Actual = Skip, fmt.Sprintf(format, a...) }
func (c *Case) note(name, format string, a ...any) {
	c.Evidence = append(c.Evidence, Evidence{Name: name, Value: fmt.Sprintf(format, a...)})
}

// session is one MCP session of the run with the service on the demo
// workspace, over the path an AI client's relay takes.
type session struct {
	conn  net.Conn
	cs    *mcp.ClientSession
	tools []*mcp.Tool
}

func (r *run) open(ctx context.Context) (*session, error) { return r.openAs(ctx, ClientName) }

// openAs opens a session whose client calls itself name.
func (r *run) openAs(ctx context.Context, name string) (*session, error) {
	conn, _, err := r.o.Service.OpenMCP(ctx, localapi.MCPOptions{Demo: true, Transport: string(audit.TransportCLI)})
	if err != nil {
		return nil, fmt.Errorf("opening a validation session on the demo workspace: %w", err)
	}
	cl := mcp.NewClient(&mcp.Implementation{Name: name, Version: r.o.Version}, nil)
	cs, err := cl.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting a validation session: %w", err)
	}
	s := &session{conn: conn, cs: cs}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("listing the validation session's tools: %w", err)
	}
	s.tools = res.Tools
	return s, nil
}

func (s *session) close() {
	s.cs.Close()
	s.conn.Close()
}

func (s *session) names() []string {
	var out []string
	for _, t := range s.tools {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}

// call makes one call and returns its text.
func (s *session) call(ctx context.Context, tool string, args map[string]any) (*mcp.CallToolResult, string, error) {
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return nil, "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return res, b.String(), nil
}

// records are this account's records written since the run began by
// its validation sessions.
func (r *run) records(ctx context.Context) ([]audit.Record, error) {
	recs, err := r.o.Service.Records(ctx, localapi.RecordsQuery{Since: r.start.Add(-time.Second)})
	if err != nil {
		return nil, fmt.Errorf("reading the audit trail: %w", err)
	}
	return slices.DeleteFunc(recs, func(x audit.Record) bool { return x.Client.Name != ClientName }), nil
}

// lastRecord finds the newest validation record matching.
func (r *run) lastRecord(ctx context.Context, match func(audit.Record) bool) (audit.Record, error) {
	recs, err := r.records(ctx)
	if err != nil {
		return audit.Record{}, err
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if match(recs[i]) {
			return recs[i], nil
		}
	}
	return audit.Record{}, errNoRecord
}

var errNoRecord = errors.New("no such record in the audit trail")

func short(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

// passwordAnswer is what Options.Password gave.
type passwordAnswer struct {
	value string
	err   error
}

// errNoPassword: the run was given no way to ask for the password.
var errNoPassword = errors.New("no account password can be asked for in this run")

// password asks Options.Password once and gives the same answer to every
// case after.
func (r *run) password() (string, error) {
	if r.pw == nil {
		r.pw = &passwordAnswer{err: errNoPassword}
		if r.o.Password != nil {
			r.pw.value, r.pw.err = r.o.Password()
			if r.pw.err == nil && r.pw.value == "" {
				r.pw.err = errors.New("the password given was empty")
			}
		}
	}
	return r.pw.value, r.pw.err
}
