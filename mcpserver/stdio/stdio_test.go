package stdio

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		json.Unmarshal([]byte(l), &m)
		out = append(out, m)
	}
	return out
}

// readAll connects to input and returns the messages the server would
// see and the error responses the transport wrote itself.
func readAll(t *testing.T, input string, limit int) ([]jsonrpc.Message, []map[string]any) {
	t.Helper()
	var out syncBuffer
	c, err := (&Transport{In: strings.NewReader(input), Out: &out, MaxLineBytes: limit}).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var msgs []jsonrpc.Message
	for {
		m, err := c.Read(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	c.Close()
	return msgs, out.lines()
}

func TestBadFramesAreAnsweredAndSkipped(t *testing.T) {
	good := `{"jsonrpc":"2.0","id":7,"method":"ping"}`
	cases := []struct {
		name   string
		frame  string
		limit  int
		wantID any // nil: answered without an id (never "id": null); "none": not answered
		code   float64
	}{
		{"garbage", "this is not json", 0, nil, codeParseError},
		{"truncated", `{"jsonrpc":"2.0","id":3,"method":`, 0, float64(3), codeParseError},
		{"wrong types", `{"jsonrpc":"2.0","id":4,"method":42}`, 0, float64(4), codeInvalidRequest},
		{"string id", `{"jsonrpc":"2.0","id":"a","method":{}}`, 0, "a", codeInvalidRequest},
		{"too deep", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 0, float64(5), codeParseError},
		{"too long", `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"x":"` + strings.Repeat("y", 4096) + `"}}`, 1024, float64(6), codeInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs, replies := readAll(t, tc.frame+"\n\n"+good+"\n", tc.limit)
			if len(msgs) != 1 {
				t.Fatalf("server saw %d messages, want only the good one", len(msgs))
			}
			if req, ok := msgs[0].(*jsonrpc.Request); !ok || req.Method != "ping" {
				t.Fatalf("message = %#v", msgs[0])
			}
			if tc.wantID == "none" {
				if len(replies) != 0 {
					t.Fatalf("replies = %v, want none", replies)
				}
				return
			}
			if len(replies) != 1 {
				t.Fatalf("replies = %v", replies)
			}
			r := replies[0]
			e, _ := r["error"].(map[string]any)
			if r["id"] != tc.wantID || e == nil || e["code"] != tc.code {
				t.Fatalf("reply = %v, want id %v code %v", r, tc.wantID, tc.code)
			}
			if _, hasID := r["id"]; tc.wantID == nil && hasID {
				t.Fatalf("reply = %v: MCP allows no null id", r)
			}
		})
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	msgs, _ := readAll(t, `{"jsonrpc":"2.0","id":1,"method":"ping"}`, 0)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
}

func FuzzTransport(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	f.Add([]byte("\xff\xfe{\n[1,2]\n{\"id\":"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out syncBuffer
		c, _ := (&Transport{In: bytes.NewReader(data), Out: &out, MaxLineBytes: 256}).Connect(context.Background())
		for {
			if _, err := c.Read(context.Background()); err != nil {
				break
			}
		}
		for _, l := range out.lines() {
			if l == nil {
				t.Fatalf("transport wrote a line that is not JSON")
			}
		}
	})
}
