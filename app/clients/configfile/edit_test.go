package configfile

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var scispotPath = []string{"mcpServers", "scispot"}

const smallEntry = `{"command":"/bin/scispot-mcp","args":["serve"]}`

func TestApplyEditsLayout(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		edits  []Edit
		want   string
		change bool
	}{
		{
			name:   "empty file becomes a neat document",
			in:     "",
			edits:  []Edit{{Path: scispotPath, Value: []byte(smallEntry)}},
			want:   "{\n  \"mcpServers\": {\n    \"scispot\": {\n      \"command\": \"/bin/scispot-mcp\",\n      \"args\": [\"serve\"]\n    }\n  }\n}\n",
			change: true,
		},
		{
			name:   "whitespace-only file is {}",
			in:     " \n\t\n",
			edits:  []Edit{{Path: []string{"a"}, Value: []byte(`1`)}},
			want:   "{\n  \"a\": 1\n}\n",
			change: true,
		},
		{
			name:   "CRLF and byte order mark survive",
			in:     "\ufeff{\r\n  \"a\": true\r\n}\r\n",
			edits:  []Edit{{Path: []string{"b"}, Value: []byte(`[1,2]`)}},
			want:   "\ufeff{\r\n  \"a\": true,\r\n  \"b\": [1, 2]\r\n}\r\n",
			change: true,
		},
		{
			name:   "no newline at end stays so",
			in:     `{"a": 1}`,
			edits:  []Edit{{Path: []string{"b"}, Value: []byte(`2`)}},
			want:   `{"a": 1, "b": 2}`,
			change: true,
		},
		{
			name:   "remove a missing entry changes nothing",
			in:     "{\n  // c\n  \"a\": 1,\n}",
			edits:  []Edit{{Path: scispotPath}},
			want:   "{\n  // c\n  \"a\": 1,\n}",
			change: false,
		},
		{
			name:   "same data in another layout changes nothing",
			in:     `{"mcpServers": {"scispot": {"args": ["serve"], /* c */ "command": "/bin/scispot-mcp"}}}`,
			edits:  []Edit{{Path: scispotPath, Value: []byte(smallEntry)}},
			want:   `{"mcpServers": {"scispot": {"args": ["serve"], /* c */ "command": "/bin/scispot-mcp"}}}`,
			change: false,
		},
		{
			name:   "remove the only member closes the object",
			in:     "{\n  \"mcpServers\": {\n    \"scispot\": {}\n  },\n  \"x\": 1\n}",
			edits:  []Edit{{Path: scispotPath}},
			want:   "{\n  \"mcpServers\": {},\n  \"x\": 1\n}",
			change: true,
		},
		{
			name:   "remove the last member keeps the trailing-comma style",
			in:     "{\n  \"a\": 1,\n  \"b\": 2,\n}",
			edits:  []Edit{{Path: []string{"b"}}},
			want:   "{\n  \"a\": 1,\n}",
			change: true,
		},
		{
			name:   "remove the last member without trailing comma",
			in:     "{\n  \"a\": 1 /* one */,\n  \"b\": 2\n}",
			edits:  []Edit{{Path: []string{"b"}}},
			want:   "{\n  \"a\": 1 /* one */\n}",
			change: true,
		},
		{
			name:   "remove the first member",
			in:     "{\n  \"b\": 2,\n  \"a\": 1\n}",
			edits:  []Edit{{Path: []string{"b"}}},
			want:   "{\n  \"a\": 1\n}",
			change: true,
		},
		{
			name:   "deep path creates every parent",
			in:     "{}",
			edits:  []Edit{{Path: []string{"projects", "/home/a b", "mcpServers", "x"}, Value: []byte(`{}`)}},
			want:   "{\n  \"projects\": {\n    \"/home/a b\": {\n      \"mcpServers\": {\n        \"x\": {}\n      }\n    }\n  }\n}",
			change: true,
		},
		{
			name:   "several edits in one go",
			in:     "{\n  \"mcpServers\": {\n    \"old-remote\": {\"url\": \"https://mcp.scispot.io/\"}\n  }\n}\n",
			edits:  []Edit{{Path: []string{"mcpServers", "old-remote"}}, {Path: scispotPath, Value: []byte(smallEntry)}},
			want:   "{\n  \"mcpServers\": {\n    \"scispot\": {\n      \"command\": \"/bin/scispot-mcp\",\n      \"args\": [\"serve\"]\n    }\n  }\n}\n",
			change: true,
		},
		{
			name:   "strings keep & < > readable",
			in:     "{}",
			edits:  []Edit{{Path: []string{"p"}, Value: []byte(`"C:\\R&D <lab>\\scispot-mcp.exe"`)}},
			want:   "{\n  \"p\": \"C:\\\\R&D <lab>\\\\scispot-mcp.exe\"\n}",
			change: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := applyEdits([]byte(tt.in), tt.edits)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.change {
				t.Errorf("changed = %v, want %v", changed, tt.change)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplyEditsErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		path      []string
		wantIs    error
		line, col int
		mentions  string
	}{
		{name: "missing brace", in: "{\n  \"a\": 1\n", wantIs: ErrUnparseable, line: 3, col: 1, mentions: "end of file"},
		{name: "missing comma", in: "{\n  \"a\": 1\n  \"b\": 2\n}", wantIs: ErrUnparseable, line: 3, col: 3, mentions: `'"'`},
		{name: "column counts characters", in: "{\"é\": 1 x}", wantIs: ErrUnparseable, line: 1, col: 9},
		{name: "top-level array", in: "[1]", wantIs: ErrNotObject, line: 1, col: 1, mentions: "top level"},
		{name: "top-level string", in: "\n \"x\"", wantIs: ErrNotObject, line: 2, col: 2},
		{name: "servers not an object", in: "{\n  \"mcpServers\": [\"x\"]\n}", wantIs: ErrNotObject, line: 2, col: 17, mentions: `"mcpServers"`},
		{name: "servers null", in: `{"mcpServers": null}`, wantIs: ErrNotObject, line: 1, col: 16},
		{name: "unterminated comment", in: "{} /* x", wantIs: ErrUnparseable, line: 1, col: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == nil {
				path = scispotPath
			}
			_, _, err := applyEdits([]byte(tt.in), []Edit{{Path: path, Value: []byte(`{}`)}})
			err = fileError("cfg.json", err)
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if want := "cfg.json:"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q, want it to start with the file name", err)
			}
			var line, col int
			if pe := (*ParseError)(nil); errors.As(err, &pe) {
				line, col = pe.Line, pe.Column
			} else if ne := (*notObjectError)(nil); errors.As(err, &ne) {
				line, col = ne.line, ne.column
			}
			if line != tt.line || col != tt.col {
				t.Errorf("position = %d:%d, want %d:%d (%v)", line, col, tt.line, tt.col, err)
			}
			if !strings.Contains(err.Error(), tt.mentions) {
				t.Errorf("err = %q, want it to mention %q", err, tt.mentions)
			}
		})
	}
}

// Parse errors must not repeat what the file says: a bad string or bare
// word can be an API token.
func TestParseErrorHidesContent(t *testing.T) {
	const secret = "sst_live_0123456789abcdef"
	inputs := []string{
		`{"Authorization": "Bearer ` + secret + "\x01\"}",
		`{"token": ` + secret + `}`,
		`{"token": "` + secret + `\q"}`,
		`{"mcpServers": {"s": {"headers": {"Authorization": Bearer ` + secret + `}}}}`,
	}
	for _, in := range inputs {
		_, _, err := applyEdits([]byte(in), []Edit{{Path: scispotPath, Value: []byte(`{}`)}})
		if err == nil {
			t.Fatalf("%q parsed", in)
		}
		if msg := fileError("f", err).Error(); strings.Contains(msg, secret[4:12]) {
			t.Errorf("error repeats the secret: %s", msg)
		}
	}
}

func TestEditValidation(t *testing.T) {
	if _, _, err := applyEdits([]byte("{}"), []Edit{{Path: nil, Value: []byte("1")}}); err == nil {
		t.Error("empty path accepted")
	}
	if _, _, err := applyEdits([]byte("{}"), []Edit{{Path: []string{"a"}, Value: []byte("{")}}); err == nil {
		t.Error("invalid JSON value accepted")
	}
}

func TestDeepNestingRefused(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	_, _, err := applyEdits([]byte(`{"a": `+deep+`}`), []Edit{{Path: []string{"b"}, Value: []byte("1")}})
	if !errors.Is(fileError("f", err), ErrUnparseable) || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("err = %v", err)
	}
	// Brackets in strings and comments do not count.
	ok := `{"a": "` + strings.Repeat("[", maxDepth+1) + `" /* ` + strings.Repeat("{", maxDepth+1) + ` */}`
	if _, _, err := applyEdits([]byte(ok), []Edit{{Path: []string{"b"}, Value: []byte("1")}}); err != nil {
		t.Fatal(err)
	}
}
