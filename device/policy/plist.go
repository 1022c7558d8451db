package policy

import (
	"bytes"
	"strings"

	"howett.net/plist"
)

// DecodePlist parses a macOS managed-preferences property list (XML or
// binary) for the domain io.scispot.mcp: a dictionary whose keys are policy
// keys, validated as by FromValues.
//
// Keys beginning with "Payload" are skipped: they are reserved by Apple's
// configuration-profile format, and a profile delivered as a custom-settings
// payload can leave them in the managed preferences beside our keys.
func DecodePlist(data []byte) (s Settings, err error) {
	// The decoder recovers its own parse panics but re-raises runtime
	// errors; input from disk must never crash the gateway.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, invalidf(nil, "policy is not a valid property list: %v", r)
		}
	}()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalidf(nil, "policy is not a valid property list: it is empty")
	}
	var v any
	format, err := plist.Unmarshal(data, &v)
	if err != nil {
		return nil, invalidf(err, "policy is not a valid property list: %v", err)
	}
	if format != plist.XMLFormat && format != plist.BinaryFormat {
		return nil, invalidf(nil, "policy must be an XML or binary property list, got %s format", plist.FormatNames[format])
	}
	dict, ok := v.(map[string]any)
	if !ok {
		return nil, invalidf(nil, "policy property list must be a dictionary, got %s", typeName(v))
	}
	values := make(map[string]any, len(dict))
	for k, val := range dict {
		if strings.HasPrefix(k, "Payload") {
			continue
		}
		values[k] = val
	}
	return FromValues(values)
}
