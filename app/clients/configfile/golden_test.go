package configfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected sections of testdata/*.txtar")

const defaultEntry = `{"command":"/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp","args":["serve"],"env":{}}`

// TestGolden runs each testdata/*.txtar case: "input" with the entry set at
// the path named in the comment ("path: a.b") must give "set"; removing it
// again must give "remove". Both must be idempotent, and the data (not just
// the text) must be exactly the input plus or minus the entry.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(raw)
			path := archivePath(t, a)
			input, ok := a.file("input")
			if !ok {
				t.Fatal("no input section")
			}
			value := []byte(defaultEntry)
			if v, ok := a.file("value"); ok {
				value = bytes.TrimSpace(v)
			}
			set := []Edit{{Path: path, Value: value}}
			remove := []Edit{{Path: path}}

			gotSet, changed, err := applyEdits(input, set)
			if err != nil || !changed {
				t.Fatalf("set: changed=%v err=%v", changed, err)
			}
			gotRemove, changed, err := applyEdits(gotSet, remove)
			if err != nil || !changed {
				t.Fatalf("remove: changed=%v err=%v", changed, err)
			}

			if *update {
				a.setFile("set", gotSet)
				a.setFile("remove", gotRemove)
				if err := os.WriteFile(file, formatArchive(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantSet, _ := a.file("set")
			wantRemove, _ := a.file("remove")
			if diff := cmp.Diff(string(wantSet), string(gotSet)); diff != "" {
				t.Errorf("after set (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(string(wantRemove), string(gotRemove)); diff != "" {
				t.Errorf("after remove (-want +got):\n%s", diff)
			}

			// Idempotence: the same edit again changes nothing.
			if _, changed, err := applyEdits(gotSet, set); err != nil || changed {
				t.Errorf("set twice: changed=%v err=%v", changed, err)
			}
			if _, changed, err := applyEdits(gotRemove, remove); err != nil || changed {
				t.Errorf("remove twice: changed=%v err=%v", changed, err)
			}

			// The data is the input's plus the entry, then minus it.
			want := decodeStd(t, input)
			setPath(want, path, decodeValue(t, value))
			if diff := cmp.Diff(want, decodeStd(t, gotSet)); diff != "" {
				t.Errorf("data after set (-want +got):\n%s", diff)
			}
			deletePath(want, path)
			if diff := cmp.Diff(want, decodeStd(t, gotRemove)); diff != "" {
				t.Errorf("data after remove (-want +got):\n%s", diff)
			}
		})
	}
}

func archivePath(t *testing.T, a archive) []string {
	t.Helper()
	for _, line := range strings.Split(string(a.comment), "\n") {
		if p, ok := strings.CutPrefix(line, "path: "); ok {
			return strings.Split(strings.TrimSpace(p), ".")
		}
	}
	t.Fatal(`no "path: …" line in the comment`)
	return nil
}

// decodeStd decodes JSON with comments into Go values (the last of
// duplicate names wins, as in clients).
func decodeStd(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d, err := parse(b)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	v := d.root.Clone()
	v.Standardize()
	var m map[string]any
	if err := json.Unmarshal(v.Pack(), &m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

func decodeValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func deletePath(m map[string]any, path []string) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}
