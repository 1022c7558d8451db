package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// regType is a registry value type; the numbers are Windows' REG_* values.
type regType uint32

const (
	regSZ       regType = 1
	regExpandSZ regType = 2
	regBinary   regType = 3
	regDWORD    regType = 4
	regMultiSZ  regType = 7
	regQWORD    regType = 11
)

func (t regType) String() string {
	switch t {
	case regSZ:
		return "REG_SZ"
	case regExpandSZ:
		return "REG_EXPAND_SZ"
	case regBinary:
		return "REG_BINARY"
	case regDWORD:
		return "REG_DWORD"
	case regMultiSZ:
		return "REG_MULTI_SZ"
	case regQWORD:
		return "REG_QWORD"
	}
	return fmt.Sprintf("registry type %d", uint32(t))
}

// regValue is one registry value's type and data. Only the field for its
// type is filled: Int for REG_DWORD and REG_QWORD, Str for REG_SZ and
// REG_EXPAND_SZ, Strs for REG_MULTI_SZ.
type regValue struct {
	Type regType
	Int  uint64
	Str  string
	Strs []string
}

// registryKey is what reading policy needs from an open registry key. The
// Windows store implements it over golang.org/x/sys/windows/registry; tests
// use a fake, so the layouts below are checked on every platform.
type registryKey interface {
	// ValueNames lists the key's value names ("" is the default value).
	ValueNames() ([]string, error)
	// Value reads one value.
	Value(name string) (regValue, error)
	// SubKeyNames lists the key's direct subkeys.
	SubKeyNames() ([]string, error)
	// OpenSubKey opens a direct subkey; the caller closes it.
	OpenSubKey(name string) (registryKey, error)
	Close() error
}

// fromRegistry reads the policy keys under k. The layout is what Group
// Policy and Intune ADMX ingestion write (see packaging/windows):
//
//   - a boolean key is a REG_DWORD 0 or 1 value;
//   - an integer key is a REG_DWORD or REG_QWORD value;
//   - a string key is a REG_SZ value;
//   - a list key is either a REG_MULTI_SZ value or a subkey of the same
//     name whose REG_SZ values are the items (an ADMX list element), in the
//     order of their value names (numerically when the names are numbers).
//
// An empty list subkey counts as not set, because Group Policy leaves the
// subkey behind, emptied, when a list policy is disabled or unconfigured; an
// empty REG_MULTI_SZ is an explicit empty list. Any other value or subkey
// name, any other type, or a key set both as a value and as a subkey makes
// the policy invalid.
func fromRegistry(k registryKey) (Settings, error) {
	names, err := k.ValueNames()
	if err != nil {
		return nil, fmt.Errorf("listing registry values: %w", err)
	}
	slices.Sort(names)
	s := Settings{}
	for _, name := range names {
		d, ok := lookupKey(name)
		if !ok {
			if name == "" {
				return nil, invalidf(nil, "the policy registry key's default value must not be set")
			}
			return nil, unknownKeyError(name)
		}
		rv, err := k.Value(name)
		if err != nil {
			return nil, fmt.Errorf("reading registry value %q: %w", name, err)
		}
		v, err := registryValue(d, rv)
		if err != nil {
			return nil, err
		}
		if err := s.set(name, v); err != nil {
			return nil, err
		}
	}

	subs, err := k.SubKeyNames()
	if err != nil {
		return nil, fmt.Errorf("listing registry subkeys: %w", err)
	}
	slices.Sort(subs)
	for _, name := range subs {
		d, ok := lookupKey(name)
		if !ok {
			return nil, unknownKeyError(name)
		}
		if d.kind != kindStrings {
			return nil, keyErrorf(name, "must be a registry value, not a subkey (only list keys may be subkeys)")
		}
		if _, dup := s[name]; dup {
			return nil, keyErrorf(name, "is set both as a value and as a subkey")
		}
		items, err := registryListSubKey(k, name)
		if err != nil {
			return nil, err
		}
		if items == nil {
			continue
		}
		if err := s.set(name, items); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// registryValue converts one registry value for the key d to the value
// FromValues expects, checking the registry type.
func registryValue(d keyDef, rv regValue) (any, error) {
	switch d.kind {
	case kindBool:
		if rv.Type != regDWORD {
			return nil, keyErrorf(d.name, "must be a REG_DWORD 0 or 1, got %s", rv.Type)
		}
		switch rv.Int {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
		return nil, keyErrorf(d.name, "must be a REG_DWORD 0 or 1, got %d", rv.Int)
	case kindInt:
		if rv.Type != regDWORD && rv.Type != regQWORD {
			return nil, keyErrorf(d.name, "must be a REG_DWORD or REG_QWORD, got %s", rv.Type)
		}
		return rv.Int, nil
	case kindString:
		if rv.Type != regSZ {
			return nil, keyErrorf(d.name, "must be a REG_SZ, got %s", rv.Type)
		}
		return rv.Str, nil
	case kindStrings:
		if rv.Type != regMultiSZ {
			return nil, keyErrorf(d.name, "must be a REG_MULTI_SZ or a subkey of REG_SZ values, got %s", rv.Type)
		}
		if rv.Strs == nil {
			return []string{}, nil
		}
		return rv.Strs, nil
	}
	return nil, fmt.Errorf("policy key %q has no kind (a bug)", d.name)
}

// registryListSubKey reads a list key stored as a subkey. It returns nil
// for an empty subkey.
func registryListSubKey(k registryKey, name string) ([]string, error) {
	sub, err := k.OpenSubKey(name)
	if err != nil {
		return nil, fmt.Errorf("opening registry subkey %q: %w", name, err)
	}
	defer sub.Close()

	if nested, err := sub.SubKeyNames(); err != nil {
		return nil, fmt.Errorf("listing registry subkeys of %q: %w", name, err)
	} else if len(nested) > 0 {
		return nil, keyErrorf(name, "list subkey must hold only values, found subkey %q", nested[0])
	}
	valueNames, err := sub.ValueNames()
	if err != nil {
		return nil, fmt.Errorf("listing registry values of %q: %w", name, err)
	}
	if len(valueNames) == 0 {
		return nil, nil
	}
	slices.SortFunc(valueNames, compareValueNames)
	items := make([]string, 0, len(valueNames))
	for _, vn := range valueNames {
		rv, err := sub.Value(vn)
		if err != nil {
			return nil, fmt.Errorf("reading registry value %q of %q: %w", vn, name, err)
		}
		if rv.Type != regSZ {
			return nil, keyErrorf(name, "list item %q must be a REG_SZ, got %s", vn, rv.Type)
		}
		items = append(items, rv.Str)
	}
	return items, nil
}

// compareValueNames orders list item names as an admin numbered them: "2"
// before "10", numbers before other names, other names alphabetically.
func compareValueNames(a, b string) int {
	na, errA := strconv.ParseUint(a, 10, 64)
	nb, errB := strconv.ParseUint(b, 10, 64)
	switch {
	case errA == nil && errB == nil:
		if na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
