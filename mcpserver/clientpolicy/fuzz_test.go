package clientpolicy_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
)

// FuzzKeep: whatever an admin's managed-settings file holds, Keep either
// leaves it byte for byte (and says why) or adds its entries and keeps
// every other key; switching off again keeps them too.
func FuzzKeep(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"deniedMcpServers": []}`, `{"deniedMcpServers": null}`,
		`{"deniedMcpServers": [{"serverUrl": "https://mcp.scispot.io/*"}, {"serverName": "x"}, 3, "s"]}`,
		"// c\n{\"model\": \"opus\",}", `[]`, `{"a": {"b": [1, 2, {"c": null}]}}`, `{"deniedMcpServers": {}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		k, path := keeper(t)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		before, readErr := configfile.Read(path)
		others := func(b []byte) map[string]json.RawMessage {
			var m map[string]json.RawMessage
			json.Unmarshal(b, &m)
			delete(m, "deniedMcpServers")
			return m
		}
		for _, on := range []bool{true, false} {
			st := k.Keep(context.Background(), pol(on, ""))
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if st[0].Error != "" {
				if string(after) != content {
					t.Fatalf("%q: an error (%s) but the file changed to %q", content, st[0].Error, after)
				}
				return
			}
			if readErr != nil {
				t.Fatalf("%q does not read (%v), yet Keep wrote %q", content, readErr, after)
			}
			got, err := configfile.Read(path)
			if err != nil {
				t.Fatalf("%q became unreadable: %q (%v)", content, after, err)
			}
			a, b := others(before), others(got)
			if len(a) != len(b) {
				t.Fatalf("%q: other keys %v became %v", content, a, b)
			}
			for key, v := range a {
				if string(compact(v)) != string(compact(b[key])) {
					t.Fatalf("%q: key %s changed from %s to %s", content, key, v, b[key])
				}
			}
			if on != st[0].Blocked {
				t.Fatalf("%q: blocked %v with the key %v", content, st[0].Blocked, on)
			}
		}
	})
}

func compact(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}
