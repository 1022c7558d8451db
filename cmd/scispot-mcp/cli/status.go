package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

// statusReport is the `status --json` shape: the service's status (issue
// 3's fields, never renamed) plus the client entries judged here.
type statusReport struct {
	localapi.Status
	// Clients are the AI client entries that launch this app, and whether
	// each would be refused right now.
	Clients []clientJSON `json:"clients"`
	// DirectConnections are client config entries that reach Scispot
	// without the gateway.
	DirectConnections []clients.Direct `json:"direct_connections"`
	// DirectProtection says, per AI client, whether a Scispot entry that
	// bypasses the gateway is blocked by the client's own managed
	// settings, only detected (status and the service's scan report it),
	// or neither.
	DirectProtection []clients.Protection `json:"direct_connection_protection"`
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

func runStatus(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "status", "status [--json]")
	asJSON := fs.Bool("json", false, "print one JSON object (for MDM scripts)")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	var r statusReport
	c, err := env.service(ctx, false)
	if err != nil {
		var re *refusedError
		if !errors.As(err, &re) {
			return err
		}
		// No service: say so in the same shape.
		r.Access.Rule, r.Access.Reason = re.r.Rule, re.r.Sentence
		r.Clients = configuredClients(ctx, env, r.Status)
		r.DirectConnections = directConnections(ctx, env, r.Status)
		r.DirectProtection = clients.Protections(r.Status.ClientSettings)
		if *asJSON {
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			enc.Encode(r)
			return &refusedError{re.r, true}
		}
		return err
	}
	token, problem := storedToken(ctx, env)
	if r.Status, err = c.Status(ctx, localapi.StatusRequest{Token: token, TokenError: problem}); err != nil {
		return apiError(err)
	}
	r.Clients = configuredClients(ctx, env, r.Status)
	r.DirectConnections = directConnections(ctx, env, r.Status)
	r.DirectProtection = clients.Protections(r.Status.ClientSettings)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printStatus(env, r)
	}
	if !r.Access.Allowed {
		refusal := &gateway.Refusal{Rule: r.Access.Rule, Sentence: r.Access.Reason}
		return &refusedError{refusal, *asJSON}
	}
	return nil
}

// configuredClients judges every client entry that launches this app as
// the service will judge that client when it connects now: a demo entry by
// the demo's access (no token or enrollment needed), and AllowedClients
// against the name the client reports.
func configuredClients(ctx context.Context, env Env, st localapi.Status) []clientJSON {
	out := []clientJSON{}
	exe, _ := env.cliExecutable()
	var allowed []string
	if list, ok := st.Policy.Effective["AllowedClients"].([]any); ok {
		for _, v := range list {
			allowed = append(allowed, fmt.Sprint(v))
		}
	}
	for _, cs := range clients.Status(ctx, clients.FromOS(), clients.StatusOptions{Executable: exe}) {
		if cs.State != clients.Configured && cs.State != clients.Stale {
			continue
		}
		c := clientJSON{Client: cs.Client, File: cs.Path, Demo: cs.Demo, State: string(cs.State)}
		rule, reason := st.Access.Rule, st.Access.Reason
		if cs.Demo {
			rule, reason = st.DemoAccess.Rule, st.DemoAccess.Reason
		}
		if reason == "" && st.Service.Mode == "" {
			rule, reason = st.Access.Rule, st.Access.Reason
		}
		if reason == "" {
			if cl, err := clients.Lookup(cs.Client); err == nil && cl.ReportsAs != "" {
				if r := gateway.ClientRefusal(allowed, cl.ReportsAs); r != nil {
					rule, reason = r.Rule, r.Sentence
				}
			}
		}
		if reason != "" {
			c.Refused, c.Rule, c.Reason = true, rule, reason
		}
		out = append(out, c)
	}
	return out
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
	svc := r.Service.Mode + " service scispot-mcpd " + r.Service.Version + " on " + r.Service.Socket
	if r.Service.Mode == localapi.ModeUserDemo {
		svc += " (your own demo instance: it serves only the demo workspace)"
	}
	fmt.Fprintf(w, "    service          %s\n", svc)
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
	if list, _ := r.Policy.Effective["AllowedClientSigners"].([]any); len(list) > 0 && runtime.GOOS == "linux" {
		fmt.Fprintln(w, "      note: AllowedClientSigners has no effect on Linux, where programs carry no code signature; AllowedClientExecutables pins the AI clients here")
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
	if r.DeviceKey != "" {
		fmt.Fprintf(w, "    device key       %s\n", r.DeviceKey)
	}
	if r.DeviceKeyError != "" {
		fmt.Fprintf(w, "    device key       none: %s\n", r.DeviceKeyError)
	}
	fmt.Fprintf(w, "    live sessions    %d\n", len(r.Sessions))
	for _, s := range r.Sessions {
		fmt.Fprintf(w, "      %s %s (pid %d, %s, since %s)\n", s.Client, s.Version, s.PID, s.Transport, s.Started.Local().Format("15:04:05"))
	}
	if len(r.ClientsSeen) > 0 {
		fmt.Fprintf(w, "    clients seen     %s\n", strings.Join(r.ClientsSeen, ", "))
	}
	if len(r.ExecutablesSeen) > 0 {
		fmt.Fprintf(w, "    programs seen    %s\n", strings.Join(r.ExecutablesSeen, ", "))
	}
	if len(r.SignersSeen) > 0 {
		fmt.Fprintf(w, "    signers seen     %s\n", strings.Join(r.SignersSeen, ", "))
	}
	for _, ch := range r.ToolChanges {
		what := "definition changed"
		if ch.Rule == pin.RuleUnverified {
			what = "no approved definition on record"
		}
		if len(ch.What) > 0 {
			what += " (" + strings.Join(ch.What, ", ") + ")"
		}
		fmt.Fprintf(w, "  %s tool withheld    %s: %s since %s; review it with `scispot-mcp tools accept %s`\n", mark(false),
			pin.Printable(ch.Tool), pin.Printable(what), ch.New.Since.Local().Format("2006-01-02"), pin.Printable(ch.Tool))
	}
	for _, d := range r.AuditDestinations {
		fmt.Fprintf(w, "  %s audit → %-6s  %s: %s\n", mark(d.Connected && d.LastError == ""), d.Kind, d.Endpoint, d.Describe(time.Now()))
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
	printDirect(env, r.DirectConnections)
	for _, d := range r.DirectProtection {
		fmt.Fprintf(w, "  %s direct entries   %s: %s (%s)\n", mark(d.State == clients.ProtectionBlocked), d.Client, d.State, d.Reason)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
