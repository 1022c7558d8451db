package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

func runTools(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "tools", "tools [--demo] [--all] | tools accept NAME [--demo]")
	useDemo := fs.Bool("demo", false, "use the built-in demo workspace")
	all := fs.Bool("all", false, "also list hidden tools and the policy rule that hides each")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 && pos[0] == "accept" && !*all {
		return runToolsAccept(ctx, env, pos[1:], *useDemo)
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	if *all {
		c, err := env.service(ctx, *useDemo)
		if err != nil {
			return err
		}
		req := localapi.ToolsRequest{Demo: *useDemo}
		if !*useDemo {
			req.Token, req.TokenError = storedToken(ctx, env)
			req.LocalSecret = localSecret(ctx, env)
		}
		infos, err := c.Tools(ctx, req)
		if err != nil {
			return apiError(err)
		}
		slices.SortStableFunc(infos, func(a, b localapi.ToolInfo) int {
			if a.Visible != b.Visible {
				if a.Visible {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Tool.Name, b.Tool.Name)
		})
		// CLASS says what the gateway counts the tool as (the write rules
		// follow it), WHY why a hidden tool is hidden; SHA256 names the
		// definition, as the policy's AcceptedToolDefinitions does. What
		// comes from Scispot is printed with hidden characters escaped.
		fmt.Fprintln(w, "TOOL\tSTATE\tCLASS\tSHA256\tWHY")
		for _, ti := range infos {
			state := "listed"
			switch {
			case ti.Rule == gateway.RuleToolChanged || ti.Rule == gateway.RuleToolUnverified:
				state = "withheld"
			case !ti.Visible:
				state = "hidden"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", pin.Printable(oneLine(ti.Tool.Name)), state, ti.Class, orDash(pin.Short(ti.SHA256)), pin.Printable(ti.Reason))
		}
		return nil
	}
	s, err := connectCLI(ctx, env, *useDemo)
	if err != nil {
		return err
	}
	defer s.Close()
	if r := s.refusal(); r != nil {
		return &refusedError{r: r}
	}
	res := &mcp.ListToolsResult{Tools: s.tools}
	for _, t := range res.Tools {
		if t.Name == "scispot_access_status" {
			// The upstream could not be listed; the description says why.
			return fmt.Errorf("%s", t.Description)
		}
	}
	slices.SortFunc(res.Tools, func(a, b *mcp.Tool) int { return strings.Compare(a.Name, b.Name) })
	fmt.Fprintln(w, "TOOL\tKIND\tDESCRIPTION")
	for _, t := range res.Tools {
		kind := "write"
		if t.Annotations != nil && t.Annotations.ReadOnlyHint {
			kind = "read"
		}
		desc, _, _ := strings.Cut(oneLine(t.Description), ". ")
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.Name, kind, desc)
	}
	return nil
}

func runCall(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "call", "call TOOL [JSON-ARGS] [--demo]")
	useDemo := fs.Bool("demo", false, "use the built-in demo workspace")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || len(pos) > 2 {
		return usagef("expected a tool name and at most one JSON object of arguments")
	}
	var callArgs map[string]any
	if len(pos) == 2 {
		if err := json.Unmarshal([]byte(pos[1]), &callArgs); err != nil || callArgs == nil {
			return usagef("the arguments must be one JSON object, such as '{\"labsheet\": \"Cell Lines\"}'")
		}
	}
	s, err := connectCLI(ctx, env, *useDemo)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := s.client.CallTool(ctx, &mcp.CallToolParams{Name: pos[0], Arguments: callArgs})
	if err != nil {
		return fmt.Errorf("calling %s: %w", pos[0], err)
	}
	text := renderResult(res)
	if !res.IsError {
		fmt.Fprintln(env.Stdout, text)
		return nil
	}
	// The call went through the service and is audited either way; the
	// exit code says whether policy refused it.
	if r := s.refusal(); r != nil {
		return &refusedError{r: r}
	}
	if !s.lists(pos[0]) {
		return &refusedError{r: &gateway.Refusal{Rule: gateway.RuleToolHidden, Sentence: text}}
	}
	return fmt.Errorf("%s", text)
}

// cliClientName is how `tools` and `call` identify themselves, so their
// calls are attributed like any AI client's.
const cliClientName = "scispot-mcp-cli"

// cliSession is an MCP session of this command with the service, over the
// same path an AI client's relay takes.
type cliSession struct {
	conn   net.Conn
	client *mcp.ClientSession
	tools  []*mcp.Tool
}

func connectCLI(ctx context.Context, env Env, demo bool) (*cliSession, error) {
	c, err := env.service(ctx, demo)
	if err != nil {
		return nil, err
	}
	opts := localapi.MCPOptions{Demo: demo, Transport: string(audit.TransportCLI)}
	if !demo {
		opts.Token, opts.TokenError = storedToken(ctx, env)
		opts.LocalSecret = localSecret(ctx, env)
	}
	conn, sealed, err := c.OpenMCP(ctx, opts)
	if err != nil {
		return nil, apiError(err)
	}
	resealed(ctx, env, sealed)
	cl := mcp.NewClient(&mcp.Implementation{Name: cliClientName, Version: env.Build.Version}, nil)
	cs, err := cl.Connect(ctx, &mcp.IOTransport{Reader: conn, Writer: conn}, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting to the Scispot MCP service: %w", err)
	}
	s := &cliSession{conn: conn, client: cs}
	if res, err := cs.ListTools(ctx, nil); err == nil {
		s.tools = res.Tools
	}
	return s, nil
}

// refusal is the refused state the session was answered with, if any.
func (s *cliSession) refusal() *gateway.Refusal {
	if len(s.tools) != 1 || s.tools[0].Name != gateway.StatusToolName {
		return nil
	}
	res, err := s.client.CallTool(context.Background(), &mcp.CallToolParams{Name: gateway.StatusToolName})
	if err != nil {
		return &gateway.Refusal{Rule: "refused", Sentence: s.tools[0].Description}
	}
	return &gateway.Refusal{Rule: "refused", Sentence: renderResult(res)}
}

func (s *cliSession) lists(name string) bool {
	return slices.ContainsFunc(s.tools, func(t *mcp.Tool) bool { return t.Name == name })
}

// Close ends the session; the service writes its session.end.
func (s *cliSession) Close() {
	s.client.Close()
	s.conn.Close()
}

// renderResult prints every content item the way a person can read it.
func renderResult(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch v := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, v.Text)
		case *mcp.ImageContent:
			parts = append(parts, fmt.Sprintf("[image %s, %d bytes, base64 %s…]", v.MIMEType, len(v.Data), truncate(base64.StdEncoding.EncodeToString(v.Data), 24)))
		default:
			b, _ := json.Marshal(c)
			parts = append(parts, string(b))
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		b, _ := json.MarshalIndent(res.StructuredContent, "", "  ")
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
