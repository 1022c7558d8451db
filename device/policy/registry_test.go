package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeKey is an in-memory registry key.
type fakeKey struct {
	values  map[string]regValue
	subkeys map[string]*fakeKey
	// failList makes ValueNames fail, as a key opened without the right
	// access would.
	failList bool
	closed   *int // counts Close calls on subkeys
}

func (k *fakeKey) ValueNames() ([]string, error) {
	if k.failList {
		return nil, errors.New("access denied")
	}
	var names []string
	for n := range k.values {
		names = append(names, n)
	}
	return names, nil
}

func (k *fakeKey) Value(name string) (regValue, error) {
	v, ok := k.values[name]
	if !ok {
		return regValue{}, errors.New("the system cannot find the file specified")
	}
	return v, nil
}

func (k *fakeKey) SubKeyNames() ([]string, error) {
	var names []string
	for n := range k.subkeys {
		names = append(names, n)
	}
	return names, nil
}

func (k *fakeKey) OpenSubKey(name string) (registryKey, error) {
	sub, ok := k.subkeys[name]
	if !ok {
		return nil, errors.New("the system cannot find the file specified")
	}
	return sub, nil
}

func (k *fakeKey) Close() error {
	if k.closed != nil {
		*k.closed++
	}
	return nil
}

func dword(n uint64) regValue      { return regValue{Type: regDWORD, Int: n} }
func qword(n uint64) regValue      { return regValue{Type: regQWORD, Int: n} }
func sz(s string) regValue         { return regValue{Type: regSZ, Str: s} }
func multiSZ(s ...string) regValue { return regValue{Type: regMultiSZ, Strs: s} }
func listKey(items ...string) *fakeKey {
	k := &fakeKey{values: map[string]regValue{}}
	for i, it := range items {
		k.values[fmt.Sprint(i+1)] = sz(it)
	}
	return k
}

func TestFromRegistryLayouts(t *testing.T) {
	tests := []struct {
		name string
		key  *fakeKey
		want Settings
	}{
		{name: "empty key", key: &fakeKey{}, want: Settings{}},
		{
			name: "every key, lists as REG_MULTI_SZ",
			key: &fakeKey{values: map[string]regValue{
				"Enabled":           dword(0),
				"UpstreamURL":       sz("https://mcp.example.org/"),
				"AllowedTools":      multiSZ("list_labsheets", "get_manifest"),
				"DeniedTools":       multiSZ("get_image_thumbnail"),
				"AllowWriteTools":   dword(1),
				"AllowedClients":    multiSZ("claude-ai"),
				"AuthorizedUsers":   multiSZ(`LAB\alice`),
				"RequireEnrollment": dword(1),
				"ManagedBy":         sz("Intune"),
				"AllowDemo":         dword(0),
				"AllowLocalHTTP":    dword(1),
				"MaxCallsPerMinute": dword(20),
				"MaxResultBytes":    qword(1 << 33),
				"MaxBytesPerHour":   dword(4294967295),
				"InjectionAction":   sz("redact"),
				"ConfirmWrites":     dword(0),
			}},
			want: Settings{
				"Enabled":           false,
				"UpstreamURL":       "https://mcp.example.org/",
				"AllowedTools":      []string{"list_labsheets", "get_manifest"},
				"DeniedTools":       []string{"get_image_thumbnail"},
				"AllowWriteTools":   true,
				"AllowedClients":    []string{"claude-ai"},
				"AuthorizedUsers":   []string{`LAB\alice`},
				"RequireEnrollment": true,
				"ManagedBy":         "Intune",
				"AllowDemo":         false,
				"AllowLocalHTTP":    true,
				"MaxCallsPerMinute": int64(20),
				"MaxResultBytes":    int64(1 << 33),
				"MaxBytesPerHour":   int64(4294967295),
				"InjectionAction":   "redact",
				"ConfirmWrites":     false,
			},
		},
		{
			name: "lists as ADMX subkeys, numbered items in numeric order",
			key: &fakeKey{subkeys: map[string]*fakeKey{
				"AllowedTools": listKey("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"),
				"DeniedTools":  listKey("x"),
			}},
			want: Settings{
				"AllowedTools": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"},
				"DeniedTools":  []string{"x"},
			},
		},
		{
			name: "list subkey whose value names are the items",
			key: &fakeKey{subkeys: map[string]*fakeKey{
				"AllowedClients": {values: map[string]regValue{"cursor-vscode": sz("cursor-vscode"), "claude-ai": sz("claude-ai")}},
			}},
			want: Settings{"AllowedClients": []string{"claude-ai", "cursor-vscode"}},
		},
		{
			name: "empty list subkey is not set (a disabled ADMX list policy)",
			key:  &fakeKey{subkeys: map[string]*fakeKey{"AllowedTools": {}}},
			want: Settings{},
		},
		{
			name: "empty REG_MULTI_SZ is an explicit empty list",
			key:  &fakeKey{values: map[string]regValue{"AllowedTools": multiSZ()}},
			want: Settings{"AllowedTools": []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fromRegistry(tt.key)
			if err != nil {
				t.Fatalf("fromRegistry: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromRegistryRejects(t *testing.T) {
	tests := []struct {
		name string
		key  *fakeKey
		want string
	}{
		{"unknown value", &fakeKey{values: map[string]regValue{"Foo": dword(1)}}, `policy key "Foo" is not a known key`},
		{"default value set", &fakeKey{values: map[string]regValue{"": sz("x")}}, `the policy registry key's default value must not be set`},
		{"wrong case", &fakeKey{values: map[string]regValue{"ENABLED": dword(1)}}, `did you mean "Enabled"?`},
		{"bool as REG_SZ", &fakeKey{values: map[string]regValue{"Enabled": sz("1")}}, `policy key "Enabled" must be a REG_DWORD 0 or 1, got REG_SZ`},
		{"bool as QWORD", &fakeKey{values: map[string]regValue{"Enabled": qword(1)}}, `policy key "Enabled" must be a REG_DWORD 0 or 1, got REG_QWORD`},
		{"bool DWORD 2", &fakeKey{values: map[string]regValue{"AllowDemo": dword(2)}}, `policy key "AllowDemo" must be a REG_DWORD 0 or 1, got 2`},
		{"int as REG_SZ", &fakeKey{values: map[string]regValue{"MaxResultBytes": sz("1024")}}, `policy key "MaxResultBytes" must be a REG_DWORD or REG_QWORD, got REG_SZ`},
		{"int too large", &fakeKey{values: map[string]regValue{"MaxCallsPerMinute": dword(1 << 31)}}, `policy key "MaxCallsPerMinute" must be at most 2147483647, got 2147483648`},
		{"QWORD over int64", &fakeKey{values: map[string]regValue{"MaxBytesPerHour": qword(1 << 63)}}, `policy key "MaxBytesPerHour" must be at most 9223372036854775807`},
		{"string as EXPAND_SZ", &fakeKey{values: map[string]regValue{"UpstreamURL": {Type: regExpandSZ, Str: "https://%HOST%/"}}}, `policy key "UpstreamURL" must be a REG_SZ, got REG_EXPAND_SZ`},
		{"string as DWORD", &fakeKey{values: map[string]regValue{"ManagedBy": dword(1)}}, `policy key "ManagedBy" must be a REG_SZ, got REG_DWORD`},
		{"list as REG_SZ", &fakeKey{values: map[string]regValue{"AllowedTools": sz("a,b")}}, `policy key "AllowedTools" must be a REG_MULTI_SZ or a subkey of REG_SZ values, got REG_SZ`},
		{"list as binary", &fakeKey{values: map[string]regValue{"DeniedTools": {Type: regBinary}}}, `policy key "DeniedTools" must be a REG_MULTI_SZ or a subkey of REG_SZ values, got REG_BINARY`},
		{"unknown type", &fakeKey{values: map[string]regValue{"Enabled": {Type: 99}}}, `got registry type 99`},
		{"multi-sz with empty item", &fakeKey{values: map[string]regValue{"AllowedTools": multiSZ("a", "")}}, `policy key "AllowedTools" must not contain an empty string (item 2)`},
		{"injection action", &fakeKey{values: map[string]regValue{"InjectionAction": sz("Flag")}}, `policy key "InjectionAction" must be "flag", "redact" or "block", got "Flag"`},
		{"url", &fakeKey{values: map[string]regValue{"UpstreamURL": sz("http://mcp.scispot.io/")}}, `policy key "UpstreamURL" must use https`},
		{"unknown subkey", &fakeKey{subkeys: map[string]*fakeKey{"Extra": {}}}, `policy key "Extra" is not a known key`},
		{"scalar key as subkey", &fakeKey{subkeys: map[string]*fakeKey{"Enabled": listKey("1")}}, `policy key "Enabled" must be a registry value, not a subkey (only list keys may be subkeys)`},
		{"list both value and subkey", &fakeKey{
			values:  map[string]regValue{"AllowedTools": multiSZ("a")},
			subkeys: map[string]*fakeKey{"AllowedTools": listKey("b")},
		}, `policy key "AllowedTools" is set both as a value and as a subkey`},
		{"list item not REG_SZ", &fakeKey{subkeys: map[string]*fakeKey{"AllowedTools": {values: map[string]regValue{"1": dword(1)}}}}, `policy key "AllowedTools" list item "1" must be a REG_SZ, got REG_DWORD`},
		{"list subkey with a subkey", &fakeKey{subkeys: map[string]*fakeKey{"AllowedTools": {subkeys: map[string]*fakeKey{"deeper": {}}}}}, `policy key "AllowedTools" list subkey must hold only values, found subkey "deeper"`},
		{"list subkey empty item", &fakeKey{subkeys: map[string]*fakeKey{"DeniedTools": listKey("a", "")}}, `policy key "DeniedTools" must not contain an empty string (item 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := fromRegistry(tt.key)
			if err == nil {
				t.Fatalf("fromRegistry = %v, want error %q", s, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n got %s\nwant it to contain %s", err, tt.want)
			}
		})
	}
}

func TestFromRegistryReadErrors(t *testing.T) {
	_, err := fromRegistry(&fakeKey{failList: true})
	if err == nil || !strings.Contains(err.Error(), "listing registry values: access denied") {
		t.Errorf("err = %v, want the listing failure", err)
	}
}

func TestFromRegistryClosesSubkeys(t *testing.T) {
	closed := 0
	sub := listKey("a")
	sub.closed = &closed
	if _, err := fromRegistry(&fakeKey{subkeys: map[string]*fakeKey{"AllowedTools": sub}}); err != nil {
		t.Fatal(err)
	}
	if closed != 1 {
		t.Errorf("subkey closed %d times, want 1", closed)
	}
}

func TestCompareValueNames(t *testing.T) {
	names := []string{"b", "10", "2", "a", "1"}
	slices.SortFunc(names, compareValueNames)
	if diff := cmp.Diff([]string{"1", "2", "10", "a", "b"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
