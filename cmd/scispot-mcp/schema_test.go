package main_test

// TestMessagesMatchSchema records every JSON-RPC message the gateway sends
// — over stdio and over loopback Streamable HTTP, allowed and in every
// refused state — and checks each against the official MCP JSON Schema of
// the protocol version the session negotiated (testdata/mcp-schema, see its
// README). Strict clients validate what servers send: a field the schema
// does not allow is a session a person cannot use.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// resultDef is the definition a result must satisfy. whole says it is a
// definition of the whole response message (2026-07-28 names them
// <Result>Response); otherwise it is the definition of the result member.
type resultDef struct {
	def   string
	whole bool
}

// schemaTable says, for one protocol version, which definition of its
// schema.json each kind of message the gateway sends must satisfy. The
// envelopes apply to every message of their kind; results name the
// methods the gateway answers with a result. A result to a method the
// table does not name (ping and initialize are not 2026-07-28 methods) is
// checked against the envelope alone, whose result member is the schema's
// Result.
type schemaTable struct {
	version string
	// defsKey is where the definitions live: draft-07 "definitions" or
	// 2020-12 "$defs".
	defsKey                                     string
	resultEnvelope, errorEnvelope               string
	notificationEnvelope, serverRequestEnvelope string
	results                                     map[string]resultDef
	// unknownIDNeedsPlaceholder: this version's error response requires an
	// id, so it has no form at all for the answer to a frame whose id
	// could not be read (a parse error); such an answer is checked with a
	// placeholder id, so that everything else in it is still checked.
	unknownIDNeedsPlaceholder bool
}

// schemaTables is the method→definition mapping, one per protocol version.
// Each name is checked against the schema when it is loaded, and so is each
// method (a request definition in the schema's ClientRequest must carry it).
// Notifications and server→client requests are looked up by method among
// the members of the schema's ServerNotification and ServerRequest, and
// errors whose code has its own definition (2026-07-28's
// UnsupportedProtocolVersionError, for instance) are checked against it too.
var schemaTables = []schemaTable{
	{
		version:               "2025-06-18",
		defsKey:               "definitions",
		resultEnvelope:        "JSONRPCResponse",
		errorEnvelope:         "JSONRPCError",
		notificationEnvelope:  "JSONRPCNotification",
		serverRequestEnvelope: "JSONRPCRequest",
		results: map[string]resultDef{
			"initialize": {def: "InitializeResult"},
			"ping":       {def: "EmptyResult"},
			"tools/list": {def: "ListToolsResult"},
			"tools/call": {def: "CallToolResult"},
		},
		unknownIDNeedsPlaceholder: true,
	},
	{
		version:               "2025-11-25",
		defsKey:               "$defs",
		resultEnvelope:        "JSONRPCResultResponse",
		errorEnvelope:         "JSONRPCErrorResponse",
		notificationEnvelope:  "JSONRPCNotification",
		serverRequestEnvelope: "JSONRPCRequest",
		results: map[string]resultDef{
			"initialize": {def: "InitializeResult"},
			"ping":       {def: "EmptyResult"},
			"tools/list": {def: "ListToolsResult"},
			"tools/call": {def: "CallToolResult"},
		},
	},
	{
		version:               "2026-07-28",
		defsKey:               "$defs",
		resultEnvelope:        "JSONRPCResultResponse",
		errorEnvelope:         "JSONRPCErrorResponse",
		notificationEnvelope:  "JSONRPCNotification",
		serverRequestEnvelope: "JSONRPCRequest",
		results: map[string]resultDef{
			"server/discover":      {def: "DiscoverResultResponse", whole: true},
			"tools/list":           {def: "ListToolsResultResponse", whole: true},
			"tools/call":           {def: "CallToolResultResponse", whole: true},
			"subscriptions/listen": {def: "SubscriptionsListenResultResponse", whole: true},
		},
	},
}

// mcpSchema is one version's schema.json with its table.
type mcpSchema struct {
	schemaTable
	raw  []byte
	defs map[string]any
	// Read from the schema.
	notifications  map[string]string // method → definition
	serverRequests map[string]string // method → definition
	errorsByCode   map[int64]string  // error code → whole-message definition

	mu       sync.Mutex
	resolved map[string]*jsonschema.Resolved
}

func loadSchema(t *testing.T, table schemaTable) *mcpSchema {
	t.Helper()
	path := filepath.Join("testdata", "mcp-schema", table.version, "schema.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	defs, _ := doc[table.defsKey].(map[string]any)
	if len(defs) == 0 {
		t.Fatalf("%s has no %q", path, table.defsKey)
	}
	s := &mcpSchema{schemaTable: table, raw: raw, defs: defs, resolved: map[string]*jsonschema.Resolved{}}
	s.notifications = s.membersByMethod("ServerNotification")
	s.serverRequests = s.membersByMethod("ServerRequest")
	s.errorsByCode = map[int64]string{}
	for name, d := range defs {
		if code, ok := errorCodeConst(d); ok {
			s.errorsByCode[code] = name
		}
	}
	// The table must name what this schema defines.
	clientRequests := s.membersByMethod("ClientRequest")
	for _, name := range []string{table.resultEnvelope, table.errorEnvelope, table.notificationEnvelope, table.serverRequestEnvelope} {
		if _, ok := defs[name]; !ok {
			t.Fatalf("%s defines no %s", path, name)
		}
	}
	for method, rd := range table.results {
		if _, ok := defs[rd.def]; !ok {
			t.Fatalf("%s defines no %s (for %s)", path, rd.def, method)
		}
		if _, ok := clientRequests[method]; !ok {
			t.Fatalf("%s: no member of ClientRequest is a %q request", path, method)
		}
	}
	if len(s.notifications) == 0 {
		t.Fatalf("%s: no ServerNotification members found", path)
	}
	return s
}

// membersByMethod maps the method of each member of a union definition
// (ServerNotification, ClientRequest, …) to the member's name.
func (s *mcpSchema) membersByMethod(union string) map[string]string {
	out := map[string]string{}
	u, _ := s.defs[union].(map[string]any)
	members, _ := u["anyOf"].([]any)
	if members == nil {
		members, _ = u["oneOf"].([]any)
	}
	for _, m := range members {
		ref, _ := m.(map[string]any)["$ref"].(string)
		name := ref[strings.LastIndex(ref, "/")+1:]
		d, _ := s.defs[name].(map[string]any)
		props, _ := d["properties"].(map[string]any)
		method, _ := props["method"].(map[string]any)
		if c, ok := method["const"].(string); ok {
			out[c] = name
		}
	}
	return out
}

// errorCodeConst finds the error code a whole-message error definition
// fixes: properties.error.allOf[*].properties.code.const.
func errorCodeConst(d any) (int64, bool) {
	m, _ := d.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	e, _ := props["error"].(map[string]any)
	all, _ := e["allOf"].([]any)
	for _, part := range all {
		p, _ := part.(map[string]any)
		pp, _ := p["properties"].(map[string]any)
		code, _ := pp["code"].(map[string]any)
		if c, ok := code["const"].(float64); ok {
			return int64(c), true
		}
	}
	return 0, false
}

// resolve readies one definition for validation: the whole schema
// document with its root pointed at that definition, so every $ref
// resolves inside it.
func (s *mcpSchema) resolve(def string) (*jsonschema.Resolved, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.resolved[def]; ok {
		return r, nil
	}
	var root jsonschema.Schema
	if err := json.Unmarshal(s.raw, &root); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	root.Ref = "#/" + s.defsKey + "/" + def
	r, err := root.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", def, err)
	}
	s.resolved[def] = r
	return r, nil
}

// validate checks v against one definition.
func (s *mcpSchema) validate(def string, v any) error {
	r, err := s.resolve(def)
	if err != nil {
		return err
	}
	return r.Validate(v)
}

// selfCheck makes sure the validator enforces this schema at all: a
// well-formed tools/list result passes, and ones the schema forbids fail.
func (s *mcpSchema) selfCheck(t *testing.T) {
	t.Helper()
	defs := []string{s.resultEnvelope, s.errorEnvelope, s.notificationEnvelope, s.serverRequestEnvelope}
	for _, rd := range s.results {
		defs = append(defs, rd.def)
	}
	for _, name := range s.notifications {
		defs = append(defs, name)
	}
	for _, name := range s.errorsByCode {
		defs = append(defs, name)
	}
	for _, def := range defs {
		if _, err := s.resolve(def); err != nil {
			t.Fatalf("protocol %s: %v", s.version, err)
		}
	}
	tool := map[string]any{"name": "t", "inputSchema": map[string]any{"type": "object"}}
	good := map[string]any{"tools": []any{tool}}
	if s.version >= modernProtocol {
		good = map[string]any{"tools": []any{tool}, "resultType": "complete", "ttlMs": 0, "cacheScope": "public"}
	}
	mutate := func(change func(m map[string]any)) map[string]any {
		b, _ := json.Marshal(good)
		var m map[string]any
		json.Unmarshal(b, &m)
		change(m)
		return m
	}
	cases := map[string]map[string]any{
		"a tool without inputSchema": mutate(func(m map[string]any) { delete(m["tools"].([]any)[0].(map[string]any), "inputSchema") }),
		"a tool whose inputSchema is not an object schema": mutate(func(m map[string]any) {
			m["tools"].([]any)[0].(map[string]any)["inputSchema"] = map[string]any{"type": "string"}
		}),
	}
	if s.version >= modernProtocol {
		cases[`cacheScope ""`] = mutate(func(m map[string]any) { m["cacheScope"] = "" })
		cases["no resultType"] = mutate(func(m map[string]any) { delete(m, "resultType") })
	}
	if err := s.validate("ListToolsResult", good); err != nil {
		t.Fatalf("protocol %s: the validator rejects a well-formed ListToolsResult: %v", s.version, err)
	}
	for name, bad := range cases {
		if s.validate("ListToolsResult", bad) == nil {
			t.Fatalf("protocol %s: the validator accepts a ListToolsResult with %s", s.version, name)
		}
	}
}

// judge checks one message the gateway sent. It returns what the message
// is ("result to tools/list", "notification notifications/…") and every
// schema rule it breaks.
func (s *mcpSchema) judge(m sentMessage, obj map[string]any) (what string, answered string, problems []string) {
	check := func(def string, inst any) {
		if err := s.validate(def, inst); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", def, err))
		}
	}
	id, hasID := obj["id"]
	method, hasMethod := obj["method"].(string)
	_, hasResult := obj["result"]
	_, hasError := obj["error"]
	switch {
	case hasMethod && hasID:
		what = "server request " + method
		check(s.serverRequestEnvelope, obj)
		if def, ok := s.serverRequests[method]; ok {
			check(def, obj)
		} else {
			problems = append(problems, fmt.Sprintf("protocol %s defines no request %q from server to client", s.version, method))
		}
	case hasMethod:
		what = "notification " + method
		check(s.notificationEnvelope, obj)
		if def, ok := s.notifications[method]; ok {
			check(def, obj)
		} else {
			problems = append(problems, fmt.Sprintf("protocol %s defines no notification %q from server to client", s.version, method))
		}
	case hasResult:
		answered = m.ex.request(id).method
		what = "result to " + orUnknown(answered)
		check(s.resultEnvelope, obj)
		if rd, ok := s.results[answered]; ok {
			if rd.whole {
				check(rd.def, obj)
			} else {
				check(rd.def, obj["result"])
			}
		}
	case hasError:
		answered = m.ex.request(id).method
		what = "error to " + orUnknown(answered)
		inst := obj
		if id == nil && s.unknownIDNeedsPlaceholder {
			inst = map[string]any{}
			for k, val := range obj {
				inst[k] = val
			}
			inst["id"] = 0
		}
		check(s.errorEnvelope, inst)
		if e, ok := obj["error"].(map[string]any); ok {
			if c, ok := e["code"].(float64); ok {
				if def, ok := s.errorsByCode[int64(c)]; ok {
					check(def, inst)
				}
			}
		}
	default:
		what = "unrecognised message"
		problems = append(problems, "neither a request, a notification, a result nor an error")
	}
	return what, answered, problems
}

func orUnknown(method string) string {
	if method == "" {
		return "(a request whose method was not read)"
	}
	return method
}

// session is one client's conversation with the gateway: the protocol
// version its messages are judged by unless a request names its own.
type session struct {
	mu      sync.Mutex
	version string
}

func newSession(version string) *session { return &session{version: version} }

func (s *session) setVersion(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = v
}

func (s *session) getVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version
}

// exchange is where requests and their answers meet: one stdio process,
// or one HTTP request and its response. It maps request ids to what the
// request was.
type exchange struct {
	session *session
	// version is the Mcp-Protocol-Version header of an HTTP request.
	version string
	mu      sync.Mutex
	reqs    map[string]reqInfo
}

// reqInfo is one request the client sent: its method, and the protocol
// version it named (2026-07-28's _meta, or initialize's protocolVersion).
type reqInfo struct {
	method, version string
}

func newExchange(s *session) *exchange { return &exchange{session: s, reqs: map[string]reqInfo{}} }

func idKey(id any) string {
	b, _ := json.Marshal(id)
	return string(b)
}

// noteClientFrame remembers the method of every request in a frame the
// client sent (one message or a batch).
func (e *exchange) noteClientFrame(frame []byte) {
	var msgs []map[string]any
	if err := json.Unmarshal(frame, &msgs); err != nil {
		var one map[string]any
		if json.Unmarshal(frame, &one) != nil {
			return
		}
		msgs = []map[string]any{one}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range msgs {
		id, hasID := m["id"]
		method, ok := m["method"].(string)
		if !hasID || !ok {
			continue
		}
		info := reqInfo{method: method}
		params, _ := m["params"].(map[string]any)
		meta, _ := params["_meta"].(map[string]any)
		if v, ok := meta["io.modelcontextprotocol/protocolVersion"].(string); ok {
			info.version = v
		} else if v, ok := params["protocolVersion"].(string); ok && method == "initialize" {
			info.version = v
		}
		e.reqs[idKey(id)] = info
	}
}

func (e *exchange) request(id any) reqInfo {
	if id == nil {
		return reqInfo{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reqs[idKey(id)]
}

// versionOf is the protocol version a message is judged by: the one its
// request named (for initialize, the one the answer settles on), else the
// HTTP request's header, else the session's negotiated version.
func (m sentMessage) versionOf(obj map[string]any, known func(string) bool) string {
	if id, ok := obj["id"]; ok {
		info := m.ex.request(id)
		if info.method == "initialize" {
			if r, ok := obj["result"].(map[string]any); ok {
				if v, ok := r["protocolVersion"].(string); ok && known(v) {
					return v
				}
			}
		}
		if known(info.version) {
			return info.version
		}
	}
	if known(m.ex.version) {
		return m.ex.version
	}
	return m.ex.session.getVersion()
}

// sentMessage is one JSON-RPC message the gateway sent.
type sentMessage struct {
	where string
	data  []byte
	ex    *exchange
}

// wire collects what the gateway sent, in order.
type wire struct {
	mu   sync.Mutex
	msgs []sentMessage
}

func (w *wire) add(where string, ex *exchange, data []byte) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return
	}
	// An HTTP body may be a batch; judge each message on its own.
	if data[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(data, &batch) == nil {
			for _, m := range batch {
				w.add(where+" (batch)", ex, m)
			}
			return
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, sentMessage{where: where, data: bytes.Clone(data), ex: ex})
}

func (w *wire) snapshot() []sentMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

// lineSplitter calls line for each complete line written to it, without
// its line ending.
type lineSplitter struct {
	mu   sync.Mutex
	buf  []byte
	line func([]byte)
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.line(bytes.TrimSuffix(bytes.Clone(l.buf[:i]), []byte("\r")))
		l.buf = l.buf[i+1:]
	}
}

// flush hands over a last line that had no line ending.
func (l *lineSplitter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(bytes.Clone(l.buf))
		l.buf = nil
	}
}

// writeTee writes to a process's stdin and shows each line to note.
type writeTee struct {
	w    io.WriteCloser
	note *lineSplitter
}

func (t writeTee) Write(p []byte) (int, error) {
	t.note.Write(p)
	return t.w.Write(p)
}

func (t writeTee) Close() error { return t.w.Close() }

// stdioServe is one `scispot-mcp serve` on stdio whose every output line
// is recorded, then handed to the SDK client (sdk) or to awaitID.
type stdioServe struct {
	t        *testing.T
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	ex       *exchange
	lines    chan map[string]any
	sdk      *io.PipeReader
	exited   chan struct{}
	readDone chan struct{}
	stopOnce sync.Once
}

func startStdioServe(t *testing.T, w *world, rec *wire, sess *session, where string, forSDK bool, args ...string) *stdioServe {
	t.Helper()
	s := &stdioServe{t: t, ex: newExchange(sess), lines: make(chan map[string]any, 1024), exited: make(chan struct{}), readDone: make(chan struct{})}
	s.cmd = w.command(binary, append([]string{"serve"}, args...)...)
	s.cmd.Stderr = w.logWriter()
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// Our own pipe rather than StdoutPipe: Wait must not close it before
	// the last line is read and recorded.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var toSDK *io.PipeWriter
	if forSDK {
		s.sdk, toSDK = io.Pipe()
	}
	go func() {
		defer close(s.readDone)
		defer pr.Close()
		r := bufio.NewReaderSize(pr, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				rec.add(where, s.ex, line)
				if toSDK != nil {
					toSDK.Write(line) // a closed client drops it; it is recorded anyway
				} else {
					var m map[string]any
					if json.Unmarshal(line, &m) == nil {
						select {
						case s.lines <- m:
						default:
						}
					}
				}
			}
			if err != nil {
				if toSDK != nil {
					toSDK.CloseWithError(io.EOF)
				}
				close(s.lines)
				return
			}
		}
	}()
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	return s
}

// transport is the SDK client's side: it reads the recorded output and
// writes to stdin, noting each request.
func (s *stdioServe) transport() mcp.Transport {
	return &mcp.IOTransport{Reader: s.sdk, Writer: writeTee{w: s.stdin, note: &lineSplitter{line: s.ex.noteClientFrame}}}
}

// send writes one raw frame.
func (s *stdioServe) send(frame string) error {
	s.ex.noteClientFrame([]byte(frame))
	_, err := io.WriteString(s.stdin, frame+"\n")
	return err
}

// awaitID waits for the answer to the request with this id.
func (s *stdioServe) awaitID(id string) bool {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-s.lines:
			if !ok {
				return false
			}
			if got, has := m["id"]; has && idKey(got) == id {
				return true
			}
		case <-timeout:
			return false
		}
	}
}

// stop closes stdin (how a client ends a stdio session), waits for the
// process to exit and for its last output to be recorded.
func (s *stdioServe) stop() {
	s.stopOnce.Do(func() {
		s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.t.Errorf("serve did not exit within 10 s of its stdin closing")
			s.cmd.Process.Kill()
			<-s.exited
		}
		select {
		case <-s.readDone:
		case <-time.After(10 * time.Second):
			s.t.Errorf("serve's stdout stayed open after it exited")
		}
	})
}

// httpServe is one `scispot-mcp serve --http 127.0.0.1:0`.
type httpServe struct {
	url, secret string
	cmd         *exec.Cmd
	exited      chan struct{}
	stopOnce    sync.Once
}

// startHTTPServe starts serve --http; it returns nil and what serve said
// when serve exits instead of listening.
func startHTTPServe(t *testing.T, w *world, args ...string) (*httpServe, string) {
	t.Helper()
	s := &httpServe{exited: make(chan struct{})}
	s.cmd = w.command(binary, append(append([]string{"serve", "--http", "127.0.0.1:0"}, args...), "--print-config", "claude-code")...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// The local secret, from the entry serve prints as a person reads it.
	secret := make(chan string, 1)
	go func() {
		var entry struct {
			MCPServers map[string]struct{ Headers map[string]string } `json:"mcpServers"`
		}
		json.NewDecoder(stdout).Decode(&entry)
		secret <- strings.TrimPrefix(entry.MCPServers["scispot"].Headers["Authorization"], "Bearer ")
		io.Copy(io.Discard, stdout)
	}()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	var said strings.Builder
	var saidMu sync.Mutex
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
		for sc.Scan() {
			w.logWriter().Write([]byte(sc.Text() + "\n"))
			saidMu.Lock()
			said.WriteString(sc.Text() + "\n")
			saidMu.Unlock()
			if m := re.FindString(sc.Text()); m != "" {
				select {
				case found <- m:
				default:
				}
			}
		}
	}()
	go func() { <-scanned; s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(s.stop)
	select {
	case s.url = <-found:
	case <-s.exited:
		saidMu.Lock()
		defer saidMu.Unlock()
		return nil, strings.TrimSpace(said.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve --http did not start:\n%s", w.logs.String())
	}
	select {
	case s.secret = <-secret:
	case <-time.After(30 * time.Second):
	}
	if s.secret == "" {
		t.Fatalf("serve --http printed no entry with the local secret:\n%s", w.logs.String())
	}
	return s, ""
}

func (s *httpServe) stop() {
	s.stopOnce.Do(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// recordingTransport adds the local secret to every request and records
// every JSON-RPC message in the responses: application/json bodies and
// each text/event-stream event's data.
type recordingTransport struct {
	secret  string
	rec     *wire
	session *session
	base    http.RoundTripper
}

func (rt recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+rt.secret)
	ex := newExchange(rt.session)
	ex.version = r.Header.Get("Mcp-Protocol-Version")
	where := "http " + r.Method
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.noteClientFrame(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		ex.mu.Lock()
		for _, info := range ex.reqs {
			where += " " + info.method
		}
		ex.mu.Unlock()
	}
	resp, err := rt.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	where += fmt.Sprintf(" → %d %s", resp.StatusCode, ct)
	switch ct {
	case "application/json":
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		rt.rec.add(where, ex, body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		}
	case "text/event-stream":
		var data [][]byte
		event := func() {
			if len(data) > 0 {
				rt.rec.add(where, ex, bytes.Join(data, []byte("\n")))
				data = nil
			}
		}
		split := &lineSplitter{line: func(l []byte) {
			switch {
			case len(l) == 0:
				event()
			case bytes.HasPrefix(l, []byte("data:")):
				data = append(data, bytes.TrimPrefix(l[len("data:"):], []byte(" ")))
			}
		}}
		// At the end of the stream a last line without its line ending
		// still counts; an event cut off by Close does not.
		resp.Body = &sseTee{Reader: io.TeeReader(resp.Body, split), body: resp.Body, end: func() { split.flush(); event() }}
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

type sseTee struct {
	io.Reader
	body io.Closer
	once sync.Once
	end  func()
}

func (s *sseTee) Read(p []byte) (int, error) {
	n, err := s.Reader.Read(p)
	if err == io.EOF {
		s.once.Do(s.end)
	}
	return n, err
}

func (s *sseTee) Close() error { return s.body.Close() }

// rawFrame is one frame the test writes itself, so that every method the
// gateway answers, and its error paths, are on the wire.
type rawFrame struct {
	text      string
	id        string // the id to wait for; empty for a notification or garbage
	method    string // for the Mcp-Method header (2026-07-28 over HTTP)
	name      string // for the Mcp-Name header
	hdrMethod string // a deliberately wrong Mcp-Method header
	httpOnly  bool
}

const modernProtocol = "2026-07-28"

func rawFrames(version, client string) []rawFrame {
	modern := version >= modernProtocol
	meta := func(v string) map[string]any {
		return map[string]any{
			"io.modelcontextprotocol/protocolVersion":    v,
			"io.modelcontextprotocol/clientCapabilities": map[string]any{},
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": client, "version": "1.0.0"},
		}
	}
	req := func(id any, method string, params map[string]any) rawFrame {
		m := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
		if modern {
			if params == nil {
				params = map[string]any{}
			}
			if _, ok := params["_meta"]; !ok {
				params["_meta"] = meta(version)
			}
		}
		if params != nil {
			m["params"] = params
		}
		b, _ := json.Marshal(m)
		name, _ := params["name"].(string)
		return rawFrame{text: string(b), id: idKey(id), method: method, name: name}
	}
	call := func(id any, tool string, args map[string]any) rawFrame {
		return req(id, "tools/call", map[string]any{"name": tool, "arguments": args})
	}
	var frames []rawFrame
	if modern {
		frames = append(frames, req(1, "server/discover", nil))
	} else {
		frames = append(frames,
			req(1, "initialize", map[string]any{"protocolVersion": version, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": client, "version": "1.0.0"}}),
			rawFrame{text: `{"jsonrpc":"2.0","method":"notifications/initialized"}`, method: "notifications/initialized"})
	}
	frames = append(frames,
		req(2, "ping", nil),
		req("three", "tools/list", nil),
		call(4, "get_manifest", map[string]any{"id": "PLT-00142"}),
		call(5, "scispot_access_status", map[string]any{}),
		call(6, upstreamtest.ExtraTool, map[string]any{}),
		call(7, "update_labsheet_rows", map[string]any{"labsheet": "Cell Lines"}),
		req(8, "no/such/method", nil),
		rawFrame{text: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":"nope"}`, id: "9", method: "tools/call"},
	)
	if modern {
		// A newer client than the server: UnsupportedProtocolVersionError.
		frames = append(frames, req(10, "tools/list", map[string]any{"_meta": meta("2099-01-01")}))
		mismatch := req(12, "tools/list", nil)
		mismatch.hdrMethod, mismatch.httpOnly = "tools/call", true
		frames = append(frames, mismatch)
	}
	frames = append(frames,
		rawFrame{text: `this is not json`},
		rawFrame{text: `{"jsonrpc":"2.0","id":11,"method":42}`, id: "11"},
		req(13, "tools/list", nil),
	)
	return frames
}

// runRawStdio writes the raw frames to a serve process of its own.
func runRawStdio(t *testing.T, w *world, rec *wire, version, client string, args []string) {
	s := startStdioServe(t, w, rec, newSession(version), "stdio raw", false, args...)
	for _, f := range rawFrames(version, client) {
		if f.httpOnly {
			continue
		}
		if err := s.send(f.text); err != nil {
			t.Errorf("writing %s: %v", f.text, err)
			break
		}
		if f.id != "" && !s.awaitID(f.id) {
			t.Errorf("stdio: no answer to %s", f.text)
			break
		}
	}
	s.stop()
}

// runRawHTTP posts the raw frames, each in its own request, in a session
// of their own.
func runRawHTTP(t *testing.T, srv *httpServe, rec *wire, version, client string) {
	hc := &http.Client{Transport: recordingTransport{secret: srv.secret, rec: rec, session: newSession(version), base: http.DefaultTransport}}
	modern := version >= modernProtocol
	sessionID := ""
	for _, f := range rawFrames(version, client) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.url, strings.NewReader(f.text))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if modern || sessionID != "" {
			req.Header.Set("Mcp-Protocol-Version", version)
		}
		if sessionID != "" {
			req.Header.Set("Mcp-Session-Id", sessionID)
		}
		if modern && f.method != "" {
			m := f.method
			if f.hdrMethod != "" {
				m = f.hdrMethod
			}
			req.Header.Set("Mcp-Method", m)
			if f.name != "" {
				req.Header.Set("Mcp-Name", f.name)
			}
		}
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			t.Errorf("http: posting %s: %v", f.text, err)
			return
		}
		var body bytes.Buffer
		io.Copy(&body, resp.Body)
		resp.Body.Close()
		cancel()
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "application/json" && ct != "text/event-stream" && resp.StatusCode != http.StatusAccepted {
			// Not JSON-RPC, so not judged by the schema; shown for the record.
			t.Logf("http: %s was answered HTTP %d %s %q", f.text, resp.StatusCode, ct, bytes.TrimSpace(body.Bytes()))
		}
		if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" && sessionID == "" {
			sessionID = sid
		}
	}
}

// schemaState is one situation the gateway can be in.
type schemaState struct {
	name    string
	demo    bool     // serve --demo
	managed bool     // a root-owned policy naming a loopback stand-in upstream, ManagedBy, and a stored token
	down    bool     // managed, but the policy names a loopback port nobody listens on
	noToken bool     // managed, but no token is stored
	kill    bool     // the user's kill switch is on
	policy  []string // more policy fields
	allowed bool     // access is allowed: the policy is then changed while a client is connected
}

var schemaStates = []schemaState{
	{name: "allowed-demo", demo: true, allowed: true},
	{name: "allowed-upstream", managed: true, allowed: true},
	{name: "no-token", managed: true, noToken: true},
	{name: "not-enrolled"},
	{name: "kill-switch", demo: true, kill: true},
	{name: "disabled-by-admin", managed: true, policy: []string{`"Enabled": false`}},
	{name: "scispot-down", managed: true, down: true},
	{name: "client-not-approved", managed: true, policy: []string{`"AllowedClients": ["cursor*"]`}},
	{name: "user-not-authorised", managed: true, policy: []string{`"AuthorizedUsers": ["nobody-here"]`}},
	{name: "policy-invalid", managed: true, policy: []string{`"Foo": 1`}},
	{name: "demo-disabled", demo: true, policy: []string{`"AllowDemo": false`}},
	// A write the person signs in the client: an elicitation request
	// (2025) or an input_required result and its retry (2026-07-28). Only
	// the go-sdk client's write is allowed: the raw frames' client cannot
	// sign, and its write would wait a minute for the tray.
	{name: "signed-write", demo: true, policy: []string{`"AllowWriteTools": true`, `"AllowedTools": ["write_to_experiment", "get_experiment"]`}},
}

// closedLoopbackURL is a loopback URL where nothing listens: Scispot down.
func closedLoopbackURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

// schemaCase is one subtest's world, set up for a state.
type schemaCase struct {
	w      *world
	fields []string // the policy's fields; nil when no policy file is written
	args   []string
}

func (c *schemaCase) writePolicy(t *testing.T, more ...string) {
	writePolicy(t, "{"+strings.Join(append(slices.Clone(c.fields), more...), ", ")+"}")
}

func setUpState(t *testing.T, st schemaState, overHTTP bool) *schemaCase {
	c := &schemaCase{}
	if st.managed || len(st.policy) > 0 || overHTTP {
		requireRoot(t)
		c.fields = []string{}
	}
	if st.allowed && os.Geteuid() == 0 {
		c.fields = []string{} // a policy file from the start, changed live later
	}
	if st.managed || overHTTP {
		requireKeyring(t)
	}
	c.w = newWorld(t)
	if st.managed {
		token := newToken(t)
		up := closedLoopbackURL(t)
		if !st.down {
			up = upstreamtest.New(t, token).URL
		}
		c.fields = append(c.fields, fmt.Sprintf(`"UpstreamURL": %q`, up), `"ManagedBy": "Ansible"`)
		if st.noToken {
			c.w.run("", "token", "remove")
		} else {
			c.w.storeToken(token)
		}
	}
	c.fields = append(c.fields, st.policy...)
	if overHTTP {
		c.fields = append(c.fields, `"AllowLocalHTTP": true`)
	}
	if c.fields != nil {
		c.writePolicy(t)
	}
	if st.kill {
		if out, errOut, code := c.w.run("", "kill", "--reason", "schema test"); code != 0 {
			t.Fatalf("kill = %d %s %s", code, out, errOut)
		}
	}
	if st.demo {
		c.args = []string{"--demo"}
	}
	return c
}

// useSession does what an AI client does with a session, and with an
// allowed one, changes the policy while it is connected: a tool is denied
// (tools/list_changed), then Enabled:false ends it. exited is closed when
// the serve process has gone.
func useSession(t *testing.T, c *schemaCase, st schemaState, cs *mcp.ClientSession, changed <-chan struct{}, exited <-chan struct{}) (live bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Errors are logged, not fatal: what the gateway sent is judged by
	// the schema below, and the SDK may reject what the schema rejects.
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Logf("the go-sdk client's ListTools: %v", err)
	}
	for _, call := range []struct {
		name string
		args map[string]any
	}{
		{"get_manifest", map[string]any{"id": "PLT-00142"}},
		{"scispot_access_status", map[string]any{}},
		{upstreamtest.ExtraTool, map[string]any{}},
		{"update_labsheet_rows", map[string]any{"labsheet": "Cell Lines"}},
		{"write_to_experiment", map[string]any{"hrid": "EXP-0002", "html": "<p>Schema check.</p>"}},
	} {
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: call.name, Arguments: call.args}); err != nil {
			t.Logf("the go-sdk client's CallTool(%s): %v", call.name, err)
		}
	}
	if !st.allowed {
		return false
	}
	if os.Geteuid() != 0 {
		t.Logf("the live policy change needs root to write %s: not exercised", policyPath)
		return false
	}
	c.writePolicy(t, `"DeniedTools": ["get_manifest"]`)
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Errorf("no notifications/tools/list_changed within 5 s of a policy change\n%s", c.w.logs.String())
	}
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Logf("the go-sdk client's ListTools after the change: %v", err)
	}
	c.writePolicy(t, `"Enabled": false`)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("Enabled:false did not end serve within 10 s")
	}
	return true
}

func newSchemaClient(changed chan struct{}) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "claude-ai", Version: "1.0.0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			select {
			case changed <- struct{}{}:
			default:
			}
		},
		// Signs any write it is asked about, so a signature's exchange is
		// on the wire where a state allows writes.
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"meaning": "Approved", "reason": "schema test"}}, nil
		},
	})
}

func TestMessagesMatchSchema(t *testing.T) {
	schemas := map[string]*mcpSchema{}
	for _, table := range schemaTables {
		spec := loadSchema(t, table)
		spec.selfCheck(t)
		schemas[table.version] = spec
		t.Logf("%s: results %v; notifications %v; server requests %v; errors by code %v",
			table.version, table.results, spec.notifications, spec.serverRequests, spec.errorsByCode)
	}
	for _, table := range schemaTables {
		version := table.version
		for _, transport := range []string{"stdio", "http"} {
			for _, st := range schemaStates {
				t.Run(version+"/"+transport+"/"+st.name, func(t *testing.T) {
					c := setUpState(t, st, transport == "http")
					rec := &wire{}
					changed := make(chan struct{}, 8)
					client := newSchemaClient(changed)
					opts := &mcp.ClientSessionOptions{ProtocolVersion: version}
					sdk := newSession(version)
					var live bool
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					switch transport {
					case "stdio":
						runRawStdio(t, c.w, rec, version, "claude-ai", c.args)
						s := startStdioServe(t, c.w, rec, sdk, "stdio", true, c.args...)
						cs, err := client.Connect(ctx, s.transport(), opts)
						if err != nil {
							t.Fatalf("connecting the go-sdk client over stdio: %v\n%s", err, c.w.logs.String())
						}
						negotiated(t, sdk, cs, version)
						live = useSession(t, c, st, cs, changed, s.exited)
						cs.Close()
						s.stop()
					case "http":
						srv, said := startHTTPServe(t, c.w, c.args...)
						if srv == nil {
							t.Skipf("serve --http does not start in this state, so it sends nothing: %s", said)
						}
						runRawHTTP(t, srv, rec, version, "claude-ai")
						hc := &http.Client{Transport: recordingTransport{secret: srv.secret, rec: rec, session: sdk, base: http.DefaultTransport}}
						cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.url, HTTPClient: hc}, opts)
						if err != nil {
							t.Fatalf("connecting the go-sdk client over HTTP: %v\n%s", err, c.w.logs.String())
						}
						negotiated(t, sdk, cs, version)
						live = useSession(t, c, st, cs, changed, srv.exited)
						cs.Close()
						srv.stop()
					}
					judgeAll(t, schemas, version, transport, rec.snapshot(), live)
				})
			}
		}
	}
}

// negotiated makes the SDK session's messages judged by the version the
// gateway settled on, and says so when it is not the one asked for.
func negotiated(t *testing.T, sdk *session, cs *mcp.ClientSession, asked string) {
	got := ""
	if r := cs.InitializeResult(); r != nil {
		got = r.ProtocolVersion
	}
	if got == "" {
		got = asked
	}
	sdk.setVersion(got)
	if got != asked {
		t.Logf("the go-sdk client asked for protocol %s and the gateway negotiated %s: that session's messages are judged by %s", asked, got, got)
	}
}

// judgeAll checks every recorded message against the schema of its
// protocol version, and that the run covered what it must: the handshake,
// ping, tools/list, tools/call, an unknown method (on stdio; over HTTP
// the go-sdk's handler may answer it with a plain HTTP error, logged
// above), and after a live policy change, tools/list_changed.
func judgeAll(t *testing.T, schemas map[string]*mcpSchema, asked, transport string, msgs []sentMessage, live bool) {
	t.Helper()
	known := func(v string) bool { return schemas[v] != nil }
	seen := map[string]int{}
	answered := map[string]bool{} // methods whose requests were answered
	sent := map[string]bool{}     // methods of what the gateway sent unasked
	dump := os.Getenv("SCISPOT_SCHEMA_DUMP") != ""
	for i, m := range msgs {
		var v any
		if err := json.Unmarshal(m.data, &v); err != nil {
			t.Errorf("%s, message %d is not JSON (%v): %s", m.where, i, err, excerpt(m.data))
			continue
		}
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s, message %d is not a JSON-RPC message object: %s", m.where, i, excerpt(m.data))
			continue
		}
		version := m.versionOf(obj, known)
		spec := schemas[version]
		if spec == nil {
			t.Errorf("%s, message %d: no schema for protocol %q: %s", m.where, i, version, excerpt(m.data))
			continue
		}
		what, method, problems := spec.judge(m, obj)
		seen[version+" "+what]++
		if method != "" {
			answered[method] = true
		}
		if n, ok := obj["method"].(string); ok {
			sent[n] = true
		}
		if dump {
			t.Logf("message %d, %s, protocol %s, %s: %s", i, m.where, version, what, excerpt(m.data))
		}
		for _, p := range problems {
			t.Errorf("protocol %s, %s, message %d (%s) breaks the schema:\n    %s\n    message: %s", version, m.where, i, what, p, excerpt(m.data))
		}
	}
	want := []string{"ping", "tools/list", "tools/call"}
	if transport == "stdio" {
		want = append(want, "no/such/method")
	}
	if asked >= modernProtocol {
		want = append(want, "server/discover")
	} else {
		want = append(want, "initialize")
	}
	for _, method := range want {
		if !answered[method] {
			t.Errorf("no JSON-RPC answer to %s was recorded, so none was checked", method)
		}
	}
	if live && !sent["notifications/tools/list_changed"] {
		t.Errorf("no notifications/tools/list_changed was recorded, so none was checked")
	}
	kinds := make([]string, 0, len(seen))
	for k, n := range seen {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("checked %d messages: %s", len(msgs), strings.Join(kinds, "; "))
}

// excerpt shortens a long message to its head and tail, where the
// envelope and the result's last members are.
func excerpt(b []byte) string {
	const head, tail = 1500, 500
	if len(b) <= head+tail {
		return string(b)
	}
	return fmt.Sprintf("%s … (%d bytes) … %s", b[:head], len(b), b[len(b)-tail:])
}
