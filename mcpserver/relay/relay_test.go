package relay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

func TestPeek(t *testing.T) {
	cases := []struct {
		line, id, method string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "1", "tools/list"},
		{`{"jsonrpc":"2.0","id":"a","result":{"tools":[]}}`, `"a"`, ""},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, "", "notifications/initialized"},
		{`{"result":{"big":"x"},"id":7,"jsonrpc":"2.0"}`, "7", ""},
		{`{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"m"}}`, "", ""},
	}
	for _, tc := range cases {
		id, method, ok := peek([]byte(tc.line))
		if !ok || string(id) != tc.id || method != tc.method {
			t.Errorf("peek(%s) = %s %q %v", tc.line, id, method, ok)
		}
	}
	if _, _, ok := peek([]byte("not json")); ok {
		t.Error("garbage was read as a message")
	}
}

// pair is a relay between an in-memory client and a service end on a real
// Unix socket (half-close needs one).
func pair(t *testing.T) (service net.Conn, relayConn net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() { c, _ := ln.Accept(); accepted <- c }()
	c, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	t.Cleanup(func() { c.Close(); s.Close() })
	return s, c
}

func TestStdioRelaysAndEndsWithTheClient(t *testing.T) {
	svc, conn := pair(t)
	go func() {
		sc := bufio.NewScanner(svc)
		for sc.Scan() {
			var m struct{ ID json.RawMessage }
			json.Unmarshal(sc.Bytes(), &m)
			svc.Write([]byte(`{"jsonrpc":"2.0","id":` + string(m.ID) + `,"result":{}}` + "\n"))
		}
		svc.Close() // the client closed its input: the session ends
	}()
	var out bytes.Buffer
	in := strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n" + `{"jsonrpc":"2.0","id":2,"method":"ping"}` + "\n")
	if err := Stdio(context.Background(), in, &out, conn); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), `"result"`); got != 2 {
		t.Fatalf("answers:\n%s", out.String())
	}
}

func TestStdioAnswersWhatTheServiceLeftWaiting(t *testing.T) {
	svc, conn := pair(t)
	inR, inW := io.Pipe()
	defer inW.Close()
	go func() {
		br := bufio.NewReader(svc)
		br.ReadString('\n') // request 1 arrives; the service goes away
		svc.Close()
	}()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Stdio(context.Background(), inR, &out, conn) }()
	inW.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}` + "\n"))
	err := <-done
	if !errors.Is(err, ErrServiceGone) {
		t.Fatalf("err = %v", err)
	}
	var ans struct {
		ID    int
		Error struct{ Message string }
	}
	if json.Unmarshal(out.Bytes(), &ans) != nil || ans.ID != 1 || ans.Error.Message != GoneSentence {
		t.Fatalf("answer = %s", out.String())
	}
}

func FuzzPeek(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"m","params":{}}`))
	f.Add([]byte(`{"id":{"a":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, _, ok := peek(b)
		if ok && id != nil && !json.Valid(id) {
			t.Fatalf("id %q is not JSON", id)
		}
	})
}
