package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
)

// statusReport is the `status --json` shape (issue 3); fields may be added,
// never renamed.
type statusReport struct {
	Access struct {
		Allowed bool   `json:"allowed"`
		Rule    string `json:"rule,omitempty"`
		Reason  string `json:"reason,omitempty"`
	} `json:"access"`
	Enrollment struct {
		Checked bool   `json:"checked"`
		Managed bool   `json:"managed"`
		Method  string `json:"method"`
		Detail  string `json:"detail"`
		Error   string `json:"error,omitempty"`
	} `json:"enrollment"`
	Policy struct {
		Valid     bool           `json:"valid"`
		Sources   []string       `json:"sources"`
		Ignored   []string       `json:"ignored,omitempty"`
		Error     string         `json:"error"`
		Effective map[string]any `json:"effective"`
	} `json:"policy"`
	User struct {
		Name       string `json:"name"`
		Authorized bool   `json:"authorized"`
	} `json:"user"`
	Device string `json:"device"`
	Token  struct {
		Present     bool   `json:"present"`
		Fingerprint string `json:"fingerprint"`
		Error       string `json:"error,omitempty"`
	} `json:"token"`
	Killed bool `json:"killed"`
	Kill   struct {
		Reason string    `json:"reason,omitempty"`
		By     string    `json:"by,omitempty"`
		At     time.Time `json:"at,omitzero"`
		Error  string    `json:"error,omitempty"`
	} `json:"kill"`
	Sessions    []sessionJSON `json:"sessions"`
	ClientsSeen []string      `json:"clients_seen"`
	// Clients are the AI client entries that launch this app, and whether
	// each would be refused right now.
	Clients []clientJSON `json:"clients"`
}

type clientJSON struct {
	Client  string `json:"client"`
	File    string `json:"file"`
	Demo    bool   `json:"demo"`
	State   string `json:"state"`
	Refused bool   `json:"refused"`
	Rule    string `json:"rule,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

type sessionJSON struct {
	ID        string    `json:"id"`
	PID       int       `json:"pid"`
	Client    string    `json:"client"`
	Version   string    `json:"client_version,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Started   time.Time `json:"started"`
}

func runStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "status", "status [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object (for MDM scripts)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	state, err := env.stateDir()
	if err != nil {
		return err
	}
	facts, _ := access.Gather(ctx, env.sources(state), false)
	refusal := access.Decide(facts)

	var r statusReport
	r.Access.Allowed = refusal == nil
	if refusal != nil {
		r.Access.Rule, r.Access.Reason = refusal.Rule, refusal.Sentence
	}
	r.Enrollment.Checked = facts.EnrollmentChecked
	r.Enrollment.Managed = facts.Enrollment.Managed
	r.Enrollment.Method = facts.Enrollment.Method
	r.Enrollment.Detail = facts.Enrollment.Detail
	if facts.EnrollmentErr != nil {
		r.Enrollment.Error = facts.EnrollmentErr.Error()
	}
	if !facts.EnrollmentChecked {
		r.Enrollment.Detail = "not checked: the policy does not require enrollment"
		if facts.Policy.Err != nil {
			r.Enrollment.Detail = "not checked: the policy is invalid"
		}
	}
	r.Policy.Valid = facts.Policy.Err == nil
	r.Policy.Sources = nonNil(facts.Policy.Sources)
	r.Policy.Ignored = facts.Policy.Ignored
	if facts.Policy.Err != nil {
		r.Policy.Error = facts.Policy.Err.Error()
	}
	r.Policy.Effective = facts.Policy.Effective()
	if facts.Policy.Policy.AllowedTools == nil {
		r.Policy.Effective["AllowedTools"] = catalog.ReadOnlyNames()
	}
	r.User.Name = facts.User.Name
	r.User.Authorized = facts.Authorized()
	r.Device = env.deviceID()
	r.Token.Present, r.Token.Fingerprint = facts.TokenPresent, facts.TokenFingerprint
	if facts.TokenErr != nil {
		r.Token.Error = facts.TokenErr.Error()
	}
	r.Killed = facts.Killed()
	r.Kill.Reason, r.Kill.By, r.Kill.At = facts.Kill.Reason, facts.Kill.By, facts.Kill.At
	if facts.KillErr != nil {
		r.Kill.Error = facts.KillErr.Error()
	}
	sessions, seen := liveSessions(ctx, statedir.AuditDir(state))
	r.Sessions, r.ClientsSeen = sessions, seen
	r.Clients = configuredClients(ctx, env, facts)

	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printStatus(env, r)
	}
	if refusal != nil {
		if *asJSON {
			return &refusedError{refusal, true}
		}
		return &refusedError{r: refusal}
	}
	return nil
}

// configuredClients judges every client entry that launches this app as
// that client would be judged when it connects now: a demo entry needs
// neither token nor enrollment, and AllowedClients is matched against the
// name the client reports.
func configuredClients(ctx context.Context, env Env, facts access.Facts) []clientJSON {
	out := []clientJSON{}
	exe, _ := env.cliExecutable()
	for _, st := range clients.Status(ctx, clients.FromOS(), clients.StatusOptions{Executable: exe}) {
		if st.State != clients.Configured && st.State != clients.Stale {
			continue
		}
		c := clientJSON{Client: st.Client, File: st.Path, Demo: st.Demo, State: string(st.State)}
		f := facts
		f.Demo = st.Demo
		refusal := access.Decide(f)
		if refusal == nil && f.Policy.Err == nil {
			if cl, err := clients.Lookup(st.Client); err == nil && cl.ReportsAs != "" {
				refusal = gateway.ClientRefusal(f.Policy.Policy.AllowedClients, cl.ReportsAs)
			}
		}
		if refusal != nil {
			c.Refused, c.Rule, c.Reason = true, refusal.Rule, refusal.Sentence
		}
		out = append(out, c)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// liveSessions lists the sessions that started, have not ended and whose
// process is alive, and every client name seen in the trail (so an admin
// can build AllowedClients).
func liveSessions(ctx context.Context, dir string) ([]sessionJSON, []string) {
	out := []sessionJSON{}
	feed := audit.NewFeed(dir, audit.FeedOptions{})
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { feed.Run(fctx); close(done) }()
	select {
	case <-feed.Ready():
	case <-done:
	}
	for _, s := range feed.Sessions() {
		out = append(out, sessionJSON{ID: s.Session, PID: s.PID, Client: s.Client.Name, Version: s.Client.Version, Transport: string(s.Transport), Started: s.Started})
	}
	cancel()
	<-done
	seen := map[string]bool{}
	names := []string{}
	recs, _ := audit.Read(ctx, dir, audit.Filter{})
	for _, rec := range recs {
		if n := rec.Client.Name; n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return out, names
}

func printStatus(env Env, r statusReport) {
	w := env.Stdout
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	if r.Access.Allowed {
		fmt.Fprintln(w, "Scispot MCP access: allowed")
	} else {
		fmt.Fprintf(w, "Scispot MCP access: BLOCKED — %s\n", r.Access.Reason)
	}
	enroll := r.Enrollment.Detail
	if r.Enrollment.Method != "" {
		enroll = r.Enrollment.Method + ": " + enroll
	}
	if r.Enrollment.Error != "" {
		enroll += " (" + r.Enrollment.Error + ")"
	}
	fmt.Fprintf(w, "  %s managed device   %s\n", mark(r.Enrollment.Managed || !r.Enrollment.Checked), enroll)
	src := "defaults (no admin policy found)"
	if len(r.Policy.Sources) > 0 {
		src = strings.Join(r.Policy.Sources, ", ")
	}
	if r.Policy.Error != "" {
		src = r.Policy.Error
	}
	fmt.Fprintf(w, "  %s policy           %s\n", mark(r.Policy.Valid), src)
	for _, ig := range r.Policy.Ignored {
		fmt.Fprintf(w, "      ignored: %s\n", ig)
	}
	fmt.Fprintf(w, "  %s user             %s\n", mark(r.User.Authorized), r.User.Name)
	token := "not stored: run `scispot-mcp token set`"
	if r.Token.Present {
		token = "stored, fingerprint " + r.Token.Fingerprint
	}
	if r.Token.Error != "" {
		token = r.Token.Error
	}
	fmt.Fprintf(w, "  %s token            %s\n", mark(r.Token.Present), token)
	kill := "off"
	if r.Killed {
		kill = "ON"
		if r.Kill.Reason != "" {
			kill += " (" + r.Kill.Reason + ")"
		}
		if r.Kill.Error != "" {
			kill += ": " + r.Kill.Error
		}
	}
	fmt.Fprintf(w, "  %s kill switch      %s\n", mark(!r.Killed), kill)
	fmt.Fprintf(w, "    device           %s\n", orDash(r.Device))
	fmt.Fprintf(w, "    live sessions    %d\n", len(r.Sessions))
	for _, s := range r.Sessions {
		fmt.Fprintf(w, "      %s %s (pid %d, %s, since %s)\n", s.Client, s.Version, s.PID, s.Transport, s.Started.Local().Format("15:04:05"))
	}
	if len(r.ClientsSeen) > 0 {
		fmt.Fprintf(w, "    clients seen     %s\n", strings.Join(r.ClientsSeen, ", "))
	}
	for _, c := range r.Clients {
		what := c.Client
		if c.Demo {
			what += " (demo)"
		}
		verdict := "connects"
		if c.Refused {
			verdict = "would be refused: " + c.Reason
		}
		fmt.Fprintf(w, "  %s client entry     %s in %s %s\n", mark(!c.Refused), what, c.File, verdict)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
