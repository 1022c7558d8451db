package configfile

import (
	"errors"
	"unicode/utf8"

	"bytes"
	"context"
	"github.com/tailscale/hujson"
	"os"
	"path/filepath"
	"testing"
)

// FuzzApply sends random JSON-with-comments documents through a set and a
// remove on a real file: it never panics, never writes a file that does not
// parse, and never modifies a file it cannot parse.
func FuzzApply(f *testing.F) {
	seeds := []string{
		"",
		"{}",
		"// c\n{\"mcpServers\": {\"a\": 1,},}",
		"{\n  \"mcpServers\": {\n    \"scispot\": {\"command\": \"x\"} // c\n  }\n}\n",
		"{\"mcpServers\": []}",
		"{\"a\": \"\\u00e9\", /* */ \"mcpServers\": {\"scispot\": 1, \"scispot\": 2}}",
		"\ufeff{\r\n}",
		"[",
		"{\"a\": tru}",
		"/* only */",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(dir, "cfg.json")
		_ = os.Remove(path)
		if err := os.WriteFile(path, in, 0o600); err != nil {
			t.Fatal(err)
		}
		_, parseErr := parse(in)

		for i, edits := range [][]Edit{
			{{Path: scispotPath, Value: []byte(smallEntry)}},
			{{Path: scispotPath}},
		} {
			before, _ := os.ReadFile(path)
			_, err := Apply(context.Background(), path, edits, Options{NoBackup: true})
			after, readErr := os.ReadFile(path)
			if readErr != nil {
				t.Fatal(readErr)
			}
			if err != nil {
				if !bytes.Equal(before, after) {
					t.Fatalf("step %d failed (%v) but changed the file", i, err)
				}
				continue
			}
			if parseErr != nil {
				t.Fatalf("unparseable input (%v) accepted", parseErr)
			}
			if _, err := parse(after); err != nil {
				t.Fatalf("step %d wrote a file that does not parse: %v\n%q", i, err, after)
			}
			if err := verify(after, edits); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	})
}

// FuzzApplyEdits drives the editor without files, so the fuzzer reaches
// odd layouts faster: every edit of a parseable document must produce a
// document that parses and holds the edit, and keeps every comment that
// was outside the edited member.
func FuzzApplyEdits(f *testing.F) {
	f.Add([]byte("{\n  // a\n  \"x\": 1, /* b */\n  \"y\": [2,],\n}"), "y", false)
	f.Add([]byte("{\"mcpServers\":{\"k\":1 // c\n}}"), "k", true)
	f.Add([]byte("{\"k\" /*n*/ : /*v*/ 1 /*a*/ , \"z\":2}"), "k", true)
	f.Add([]byte("\ufeff{\r\n\t\"a\": {}\r\n}"), "a", false)
	f.Fuzz(func(t *testing.T, in []byte, key string, remove bool) {
		if _, err := parse(in); err != nil || !utf8.ValidString(key) {
			return
		}
		for _, path := range [][]string{{key}, {"mcpServers", key}} {
			e := Edit{Path: path, Value: []byte(`{"command":"c","args":["serve"],"env":{}}`)}
			if remove {
				e.Value = nil
			}
			out, _, err := applyEdits(in, []Edit{e})
			if errors.Is(err, ErrNotObject) {
				continue
			}
			if err != nil {
				t.Fatalf("edit %v of a parseable document failed: %v", path, err)
			}
			if remove && bytes.Count(out, []byte("//")) < bytes.Count(in, []byte("//"))-countInMember(in, path) {
				t.Fatalf("line comments lost:\n%q\n%q", in, out)
			}
		}
	})
}

// countInMember counts "//" inside the members a remove of path deletes.
func countInMember(in []byte, path []string) int {
	d, err := parse(in)
	if err != nil {
		return 0
	}
	parent := &d.root
	for _, k := range path[:len(path)-1] {
		obj, ok := parent.Value.(*hujson.Object)
		if !ok {
			return 0
		}
		idx := memberIndexes(obj, k)
		if len(idx) == 0 {
			return 0
		}
		parent = &obj.Members[idx[len(idx)-1]].Value
	}
	obj, ok := parent.Value.(*hujson.Object)
	if !ok {
		return 0
	}
	n := 0
	for _, i := range memberIndexes(obj, path[len(path)-1]) {
		v := hujson.Value{Value: obj.Members[i].Value.Value}
		n += bytes.Count(v.Pack(), []byte("//"))
		// "//" inside the member's name string counts too.
		n += bytes.Count(obj.Members[i].Name.Value.(hujson.Literal), []byte("//"))
	}
	return n
}
