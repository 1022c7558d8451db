package policy_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
	"howett.net/plist"
)

func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		allKeysJSON,
		`{}`,
		`{"AllowedTools": []}`,
		`{"Enabled": true, "Enabled": false}`,
		`{"MaxResultBytes": 1e3}`,
		`{"MaxCallsPerMinute": -0}`,
		`{"UpstreamURL": "http://[::1]:80/"}`,
		`{"Enabl\u0065d": true}`,
		`[]`,
		`{} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policy.ParseJSON(data)
		if err != nil {
			if !errors.Is(err, policy.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if s != nil {
				t.Fatalf("settings %v returned with error %v", s, err)
			}
			return
		}
		// What was accepted re-validates to the same settings.
		again, err := policy.ParseJSON(mustJSON(t, s))
		if err != nil {
			t.Fatalf("accepted %q, but its settings %v do not re-parse: %v", data, s, err)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatalf("re-parse changed the settings (-first +again):\n%s", diff)
		}
		_ = policy.Resolve(s)
	})
}

func FuzzDecodePlist(f *testing.F) {
	for _, name := range []string{"policy.xml.plist", "policy.binary.plist", "wrongtype.binary.plist"} {
		f.Add([]byte(readTestdata(f, name)))
	}
	for _, seed := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>Enabled</key><false/></dict></plist>`,
		`<plist><dict><key>AllowedTools</key><array/></dict></plist>`,
		`{ Enabled = YES; }`,
		"bplist00",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := policy.DecodePlist(data)
		if err != nil {
			if !errors.Is(err, policy.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// What was accepted re-validates: through FromValues, and through a
		// binary property list of its own.
		again, err := policy.FromValues(s)
		if err != nil {
			t.Fatalf("accepted settings %v do not re-validate: %v", s, err)
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatalf("re-validation changed the settings (-first +again):\n%s", diff)
		}
		bin, err := plist.Marshal(map[string]any(s), plist.BinaryFormat)
		if err != nil {
			t.Fatalf("encoding accepted settings %v: %v", s, err)
		}
		decoded, err := policy.DecodePlist(bin)
		if err != nil {
			t.Fatalf("accepted settings %v do not decode back: %v", s, err)
		}
		if diff := cmp.Diff(s, decoded); diff != "" {
			t.Fatalf("binary round trip changed the settings (-first +again):\n%s", diff)
		}
	})
}
