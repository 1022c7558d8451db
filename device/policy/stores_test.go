package policy

import (
	"errors"
	"testing"
)

// DefaultStores takes nothing a flag or the environment could supply.
var _ func() []Store = DefaultStores

func TestMacManagedPreferencesPath(t *testing.T) {
	tests := []struct{ user, want string }{
		{"", "/Library/Managed Preferences/io.scispot.mcp.plist"},
		{"alice", "/Library/Managed Preferences/alice/io.scispot.mcp.plist"},
	}
	for _, tt := range tests {
		if got := macManagedPreferencesPath(tt.user); got != tt.want {
			t.Errorf("macManagedPreferencesPath(%q) = %q, want %q", tt.user, got, tt.want)
		}
	}
}

func TestErrorStoreFailsClosed(t *testing.T) {
	boom := errors.New("unknown user")
	snap := Load(t.Context(), errorStore{name: "per-user", err: boom})
	if !errors.Is(snap.Err, boom) || snap.Policy.Enabled {
		t.Errorf("snapshot = %+v, want the error and Enabled false", snap)
	}
}
