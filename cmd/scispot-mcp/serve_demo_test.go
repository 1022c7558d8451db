package main_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

var protocols = map[string]string{
	"sdk-default":           "",           // 2026-07-28: no initialize
	"initialize-2025-06-18": "2025-06-18", // what Claude Desktop and older clients send
}

func TestServeDemoOverStdio(t *testing.T) {
	for name, proto := range protocols {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			cs := w.connect(proto, "claude-ai", "--demo")
			got := toolNames(t, cs)
			slices.Sort(got)
			want := catalog.ReadOnlyNames()
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("tools = %v\nwant the 16 read-only tools %v", got, want)
			}
			res, text := callText(t, cs, "get_manifest", map[string]any{"id": "PLT-00142"})
			if res.IsError || !strings.Contains(text, "PLT-00142") {
				t.Fatalf("get_manifest = %v %q", res.IsError, text)
			}
			res, text = callText(t, cs, "update_labsheet_rows", map[string]any{"labsheet": "Cell Lines"})
			if !res.IsError || !strings.Contains(text, "AllowWriteTools") {
				t.Fatalf("write call = %v %q, want a refusal naming AllowWriteTools", res.IsError, text)
			}
		})
	}
}

func TestServeWithoutTokenIsRefused(t *testing.T) {
	requireKeyring(t)
	writePolicy(t, `{"ManagedBy": "Ansible"}`)
	w := newWorld(t)
	w.run("", "token", "remove")
	for name, proto := range protocols {
		t.Run(name, func(t *testing.T) {
			cs := w.connect(proto, "claude-ai")
			sentence := "No Scispot API token on this workstation: run `scispot-mcp token set` or open the tray."
			if got := cs.InitializeResult().Instructions; !strings.Contains(got, sentence) {
				t.Fatalf("instructions = %q", got)
			}
			if got := toolNames(t, cs); !slices.Equal(got, []string{"scispot_access_status"}) {
				t.Fatalf("tools = %v", got)
			}
			res, text := callText(t, cs, "scispot_access_status", nil)
			if res.IsError || text != sentence {
				t.Fatalf("status = %v %q", res.IsError, text)
			}
			res, text = callText(t, cs, "list_labsheets", nil)
			if !res.IsError || text != sentence {
				t.Fatalf("list_labsheets = %v %q", res.IsError, text)
			}
		})
	}
}

// TestHostileJSONRPC writes raw frames to the gateway's stdin: it answers
// every request it can parse, survives garbage, and keeps serving.
func TestHostileJSONRPC(t *testing.T) {
	w := newWorld(t)
	cmd := w.command(binary, "serve", "--demo")
	cmd.Stderr = w.logWriter()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	responses := make(chan map[string]any, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				responses <- m
			}
		}
		close(responses)
	}()
	send := func(s string) {
		if _, err := io.WriteString(stdin, s+"\n"); err != nil {
			t.Fatalf("writing to serve: %v\n%s", err, w.logs.String())
		}
	}
	await := func(id float64) map[string]any {
		t.Helper()
		timeout := time.After(60 * time.Second)
		for {
			select {
			case m, ok := <-responses:
				if !ok {
					t.Fatalf("serve closed stdout while waiting for id %v\n%s", id, w.logs.String())
				}
				if m["id"] == id {
					return m
				}
			case <-timeout:
				t.Fatalf("no answer for id %v", id)
			}
		}
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzzer","version":"0"}}}`)
	await(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	huge := `{"filter":"` + strings.Repeat("x", 5<<20) + `"}`
	cases := []string{
		`{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"search_labsheet_rows","arguments":` + deep + `}}`,
		`{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"search_labsheet_rows","arguments":` + huge + `}}`,
		"{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"get_manifest\",\"arguments\":{\"barcode\":\"\xff\xfe\"}}}",
		`{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":42,"arguments":[1,2]}}`,
		`{"jsonrpc":"2.0","id":14,"method":"tools/call","params":"nope"}`,
		`{"jsonrpc":"2.0","id":15,"method":"no/such/method"}`,
	}
	send(`this is not json`)
	send(`{"jsonrpc":"2.0","id":`)
	for i, c := range cases {
		send(c)
		m := await(float64(10 + i))
		if m["error"] == nil && m["result"] == nil {
			t.Fatalf("case %d: answer has neither result nor error: %v", i, m)
		}
	}
	send(`{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"list_labsheets","arguments":{}}}`)
	m := await(99)
	if res, _ := m["result"].(map[string]any); res == nil || res["isError"] == true {
		t.Fatalf("the gateway stopped serving after hostile input: %v", m)
	}
	fmt.Fprint(io.Discard, m)
}

// TestStderrStaysClean: under LANG=C (CI, containers, clients that start
// servers with a bare environment) Fyne's package init logs a locale
// error; scispot-mcp does not load Fyne, and the tray binary's quietstart
// keeps it off stderr.
func TestStderrStaysClean(t *testing.T) {
	for _, c := range []struct{ bin, lang string }{
		{binary, "C"}, {binary, "C.UTF-8"}, {binary, ""},
		{trayBinary(), "C"}, {trayBinary(), "C.UTF-8"}, {trayBinary(), ""},
	} {
		lang := c.lang
		cmd := exec.Command(c.bin, "version")
		cmd.Env = append(newWorld(t).env(), "LANG="+lang, "LC_ALL=")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s LANG=%q: %v", filepath.Base(c.bin), lang, err)
		}
		if stderr.Len() != 0 {
			t.Fatalf("%s LANG=%q: stderr = %q", filepath.Base(c.bin), lang, stderr.String())
		}
	}
}

// TestPipedInputIsAnswered: a client that writes its requests and closes
// its input at once (a shell pipe, a script) still gets every answer
// before serve exits.
func TestPipedInputIsAnswered(t *testing.T) {
	w := newWorld(t)
	frames := []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"pipe","version":"1"}}}`,
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_manifest","arguments":{"id":"PLT-00142"}}}`,
	}
	stdout, stderr, code := w.run(strings.Join(frames, "\n")+"\n", "serve", "--demo")
	if code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr)
	}
	answered := map[float64]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var msg struct {
			ID     float64
			Result json.RawMessage
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.Result != nil {
			answered[msg.ID] = string(msg.Result)
		}
	}
	for id, want := range map[float64]string{1: "scispot", 2: "get_manifest", 3: "PLT-00142"} {
		if !strings.Contains(answered[id], want) {
			t.Errorf("request %v: answer %q lacks %q", id, answered[id], want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", stdout)
	}
}
