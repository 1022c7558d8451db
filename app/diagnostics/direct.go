package diagnostics

import (
	"strings"

	"github.com/scispot/mcp-desktop/app/clients"
)

// directCheck fails a client's line when its configs hold entries that
// reach Scispot without the gateway: every control is skipped there.
func directCheck(c *Check, s clients.ClientStatus) {
	if len(s.Direct) == 0 {
		return
	}
	var lines []string
	machine := false
	for _, d := range s.Direct {
		lines = append(lines, d.String())
		machine = machine || d.Machine
	}
	c.Status = Fail
	c.Detail = strings.TrimSpace(c.Detail + " Direct connection: " + strings.Join(lines, "; ") + ".")
	c.Remedy = "Use \"Replace with gateway\" in the Connect AI clients window (or run `scispot-mcp setup " + s.Client + " --migrate`)."
	if machine {
		c.Remedy += " An entry in a machine-level file needs your IT admin."
	}
}

// protectionText is the sentence `status` prints as "direct entries" for
// one client.
func protectionText(p clients.Protection) string {
	return "Direct Scispot entries: " + p.State + " (" + p.Reason + ")."
}

// protectionChecks adds each client's direct-connection protection, as
// `scispot-mcp status` judges it from the service's view of the clients'
// managed settings, to that client's line (lines are in.Clients' lines,
// in order); a client whose managed settings the service keeps but that
// has no line (GitHub Copilot) gets one of its own. Without the service's
// answer nothing is said: blocked cannot be told from detected then.
func protectionChecks(in Input, lines []Check) []Check {
	if !in.answered() {
		return lines
	}
	listed := map[string]int{}
	for i, c := range in.Clients {
		listed[c.Client] = i
	}
	kept := map[string]bool{}
	for _, k := range in.Service.Status.ClientSettings {
		kept[k.Client] = true
	}
	for _, p := range clients.Protections(in.Service.Status.ClientSettings) {
		if i, ok := listed[p.Client]; ok {
			lines[i].Detail = strings.TrimSpace(lines[i].Detail + " " + protectionText(p))
			continue
		}
		if !kept[p.Client] {
			continue
		}
		c := Check{Name: p.Name, Status: Info, Detail: protectionText(p)}
		if p.State == clients.ProtectionBlocked {
			c.Status = OK
		}
		lines = append(lines, c)
	}
	return lines
}
