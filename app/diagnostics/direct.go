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
