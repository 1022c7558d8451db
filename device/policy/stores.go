package policy

import (
	"context"
	"path/filepath"
)

// Where administrators put policy; see design.md, "Where things live".
// DefaultStores reads from these places only: the binary never takes a
// policy path from a flag or the environment.
const (
	// LinuxPolicyPath is the Linux policy file.
	LinuxPolicyPath = "/etc/scispot-mcp/policy.json"
	// MacDomain is the macOS managed-preferences domain.
	MacDomain = "io.scispot.mcp"
	// MacManagedPreferencesDir holds the forced managed preferences the
	// system writes from configuration profiles.
	MacManagedPreferencesDir = "/Library/Managed Preferences"
	// WindowsPolicyKey is the policy key under HKEY_LOCAL_MACHINE (device
	// scope) and HKEY_CURRENT_USER (user scope).
	WindowsPolicyKey = `SOFTWARE\Policies\Scispot\MCP`
)

// macManagedPreferencesPath returns the forced managed preferences file of
// MacDomain: the device-level one for user "", else that user's.
func macManagedPreferencesPath(user string) string {
	if user == "" {
		return filepath.Join(MacManagedPreferencesDir, MacDomain+".plist")
	}
	return filepath.Join(MacManagedPreferencesDir, user, MacDomain+".plist")
}

// errorStore stands for a source that cannot even be located (such as the
// per-user preferences when the user is unknown): reading it fails, so the
// policy fails closed rather than silently losing that source.
type errorStore struct {
	name string
	err  error
}

func (s errorStore) Name() string                           { return s.name }
func (s errorStore) Read(context.Context) (Settings, error) { return nil, s.err }
