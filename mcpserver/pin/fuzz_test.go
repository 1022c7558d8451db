package pin

import (
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzParseFile: whatever the record holds, reading it never panics, and
// every entry it keeps either matches its own hash or is marked damaged
// (which withholds its tool): nothing unreadable is ever approved.
func FuzzParseFile(f *testing.F) {
	def := `{"name":"get_experiment","description":"Read one experiment."}`
	sum := Hash([]byte(def))
	f.Add([]byte(`{"v":1,"upstreams":{"https://mcp.scispot.io/":{"tools":{"get_experiment":{"sha256":"` + sum + `","definition":` + def + `}}}}}`))
	f.Add([]byte(`{"v":1,"upstreams":{"s":{"tools":{"x":null},"changes":{"y":{"sha256":"00","definition":1}},"accepted":{"uid:1":{"x":{"sha256":"zz"}}}}}}`))
	f.Add([]byte(`{"v":1,"damaged":{"reason":"x"}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := parseFile(b)
		if err != nil {
			return
		}
		for _, up := range fl.Upstreams {
			for name, p := range up.Tools {
				if p.Damaged == "" && checkDefinition(p.SHA256, p.Definition) != "" {
					t.Fatalf("%s kept with a definition that does not match its hash", name)
				}
			}
			for name, c := range up.Changes {
				if checkDefinition(c.SHA256, c.Definition) != "" {
					t.Fatalf("change of %s kept with a definition that does not match its hash", name)
				}
			}
		}
		// What was read writes back and reads the same.
		out, err := json.Marshal(fl)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseFile(out); err != nil {
			t.Fatalf("a record read back fails: %v", err)
		}
	})
}

// FuzzCanonical: a definition from the upstream, however it is written,
// has one canonical form, which reads back to itself.
func FuzzCanonical(f *testing.F) {
	f.Add([]byte(`{"name":"a","description":"b","inputSchema":{"type":"object","properties":{"x":{"type":"number","default":1.50}}}}`))
	f.Add([]byte(`{"name":"a","annotations":{"readOnlyHint":false,"destructiveHint":true},"outputSchema":[1,"\u2028",null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tl mcp.Tool
		if json.Unmarshal(b, &tl) != nil {
			return
		}
		c, err := Canonical(&tl)
		if err != nil {
			return
		}
		again, err := Recanonical(c)
		if err != nil || string(again) != string(c) {
			t.Fatalf("Recanonical(%s) = %s, %v", c, again, err)
		}
		back, err := Tool(c)
		if err != nil {
			t.Fatalf("Tool(%s): %v", c, err)
		}
		c2, err := Canonical(back)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("Canonical(Tool(%s)) = %s, %v", c, c2, err)
		}
	})
}
