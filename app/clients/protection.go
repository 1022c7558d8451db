package clients

import "github.com/scispot/mcp-desktop/mcpserver/localapi"

// Direct-connection protection of one AI client: whether a Scispot entry
// that bypasses the gateway is refused by the client itself, only found
// and reported by this app, or neither.
const (
	ProtectionBlocked  = "blocked"
	ProtectionDetected = "detected"
	ProtectionNone     = "none"
)

// Protection is one client's direct-connection protection, as `status`
// (direct_connection_protection) and the tray's Diagnostics show it.
type Protection struct {
	Client string `json:"client"`
	// Name is the client's name, for people.
	Name   string `json:"-"`
	State  string `json:"state"`
	File   string `json:"file,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Protections judges every client from the managed-settings files the
// service keeps (localapi.Status.ClientSettings): blocked where the file
// denies Scispot; otherwise detected, for the clients whose configs this
// app reads; none for a kept client whose configs it does not read. The
// clients of All come first, in their order.
func Protections(kept []localapi.ClientSettings) []Protection {
	out := []Protection{}
	byClient := map[string]localapi.ClientSettings{}
	for _, k := range kept {
		byClient[k.Client] = k
	}
	known := map[string]bool{}
	for _, c := range All() {
		known[c.ID] = true
		p := Protection{Client: c.ID, Name: c.Name, State: ProtectionDetected,
			Reason: c.Name + " has no machine-level setting to deny a server: a direct entry is detected and reported, not blocked"}
		if k, ok := byClient[c.ID]; ok {
			p = keptProtection(k)
		}
		out = append(out, p)
	}
	for _, k := range kept {
		if known[k.Client] {
			continue
		}
		p := keptProtection(k)
		if p.State == ProtectionDetected {
			// This app reads no config of this client of its own.
			p.State = ProtectionNone
		}
		out = append(out, p)
	}
	return out
}

func keptProtection(k localapi.ClientSettings) Protection {
	p := Protection{Client: k.Client, Name: k.Name, File: k.File}
	switch {
	case k.Blocked:
		p.State, p.Reason = ProtectionBlocked, k.Name+"'s managed settings deny direct Scispot connections"
	case k.Error != "":
		p.State, p.Reason = ProtectionDetected, "its managed settings could not be kept: "+k.Error
	default:
		p.State, p.Reason = ProtectionDetected, "the policy's BlockDirectConnections is false"
	}
	return p
}
