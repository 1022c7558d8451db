package policy

import "testing"

func TestDefaultStoresLinux(t *testing.T) {
	stores := DefaultStores()
	if len(stores) != 1 {
		t.Fatalf("DefaultStores() = %d stores, want 1", len(stores))
	}
	fs, ok := stores[0].(*FileStore)
	if !ok || fs.Path != LinuxPolicyPath || fs.Name() != "/etc/scispot-mcp/policy.json" || fs.Owner != nil || fs.Decode != nil {
		t.Errorf("DefaultStores()[0] = %#v, want the JSON file store at %s with the OS owner check", stores[0], LinuxPolicyPath)
	}
}
